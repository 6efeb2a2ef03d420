// Checks request params before any work starts: wrong types get -32602 naming the field.
import { ResponseError } from 'vscode-jsonrpc/node';
import { ErrorCodes, type JobParams, type RegistryCredential } from './protocol.js';

export class Params {
  private readonly obj: Record<string, unknown>;

  constructor(private readonly method: string, params: unknown) {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) this.fail('params', 'must be an object');
    this.obj = params as Record<string, unknown>;
  }

  fail(field: string, problem: string): never {
    throw new ResponseError(ErrorCodes.InvalidParams, `${this.method}: ${field} ${problem}`);
  }

  string(name: string): string {
    const v = this.obj[name];
    if (typeof v !== 'string' || v.length === 0) this.fail(`params.${name}`, 'must be a non-empty string');
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.obj[name] === undefined ? undefined : this.string(name);
  }

  optionalBoolean(name: string): boolean | undefined {
    const v = this.obj[name];
    if (v !== undefined && typeof v !== 'boolean') this.fail(`params.${name}`, 'must be a boolean');
    return v as boolean | undefined;
  }

  optionalPositiveInteger(name: string): number | undefined {
    const v = this.obj[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)) this.fail(`params.${name}`, 'must be a positive integer');
    return v as number | undefined;
  }

  optionalPositiveNumber(name: string): number | undefined {
    const v = this.obj[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) this.fail(`params.${name}`, 'must be a positive number');
    return v as number | undefined;
  }

  optionalIntegerIn(name: string, min: number, max: number): number | undefined {
    const v = this.obj[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) this.fail(`params.${name}`, `must be an integer from ${min} to ${max}`);
    return v as number | undefined;
  }

  optionalStringArray(name: string): string[] | undefined {
    const v = this.obj[name];
    if (v !== undefined && (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0))) this.fail(`params.${name}`, 'must be an array of non-empty strings');
    return v as string[] | undefined;
  }

  /** A JSON object, required. */
  object(name: string): Record<string, unknown> {
    if (this.obj[name] === undefined) this.fail(`params.${name}`, 'must be an object');
    return this.optionalObject(name)!;
  }

  /** A JSON object, its members for the operation to check. */
  optionalObject(name: string): Record<string, unknown> | undefined {
    const v = this.obj[name];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) this.fail(`params.${name}`, 'must be an object');
    return v as Record<string, unknown> | undefined;
  }

  /** A command line: strings, empty ones included (an argument may be ""). */
  optionalArgv(name: string): string[] | undefined {
    const v = this.obj[name];
    if (v !== undefined && (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))) this.fail(`params.${name}`, 'must be an array of strings');
    return v as string[] | undefined;
  }

  /** The fields every operation shares. */
  job(): Required<Pick<JobParams, 'credentials' | 'insecureRegistries'>> & Pick<JobParams, 'workDoneToken'> {
    const token = this.obj.workDoneToken;
    if (token !== undefined && typeof token !== 'string' && typeof token !== 'number') this.fail('params.workDoneToken', 'must be a string or a number');
    const insecure = this.obj.insecureRegistries ?? [];
    if (!Array.isArray(insecure) || insecure.some((h) => typeof h !== 'string')) this.fail('params.insecureRegistries', 'must be an array of strings');
    const credentials = this.obj.credentials ?? [];
    if (!Array.isArray(credentials)) this.fail('params.credentials', 'must be an array');
    credentials.forEach((c: unknown, i) => {
      const entry = c as Record<string, unknown>;
      if (typeof c !== 'object' || c === null || typeof entry.registry !== 'string') this.fail(`params.credentials[${i}].registry`, 'must be a string');
      for (const key of ['username', 'password', 'identityToken', 'registryToken']) {
        if (entry[key] !== undefined && typeof entry[key] !== 'string') this.fail(`params.credentials[${i}].${key}`, 'must be a string');
      }
    });
    return { ...(token !== undefined ? { workDoneToken: token as string | number } : {}), insecureRegistries: insecure as string[], credentials: credentials as RegistryCredential[] };
  }
}
