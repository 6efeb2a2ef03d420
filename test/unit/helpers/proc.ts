// Runs a real program (tar, skopeo, a credential helper script) and collects its output.
import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function run(program: string, args: readonly string[], options: { input?: Buffer | NodeJS.ReadableStream; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on('error', () => undefined);
    const input = options.input;
    if (input === undefined) child.stdin.end();
    else if (Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
  });
}

/** Writes an executable `#!/bin/sh` script `name` into `dir`. */
export async function writeScript(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/** The process environment with `dir` first on PATH. */
export function envWithPath(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` };
}
