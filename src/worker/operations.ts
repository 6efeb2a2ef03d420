// The worker's operations: each validates its params, then runs the one core job that the CLI and
// the extension run too, with the credentials the request carried and nothing else.
import { Stores, copyImage, destinationTarget, inspectImage, verifyImage, type ProgressSink } from '../core/jobs/index.js';
import { formatReference, parsePlatform, parseReference, type ImageReference, type Platform } from '../core/oci/index.js';
import { staticCredentials, type Credential } from '../core/registry/index.js';
import type { CopyResult, InspectResult, Operation, RegistryCredential, VerifyResult } from './protocol.js';
import { Params } from './validate.js';

export interface OperationContext {
  signal: AbortSignal;
  onProgress: ProgressSink;
}

export interface OperationRun {
  title: string;
  run(ctx: OperationContext): Promise<unknown>;
}

/** Parses the request and returns what to run, or throws -32602 before anything starts. */
export type OperationFactory = (params: Params) => OperationRun;

function toCredential(c: RegistryCredential): Credential | undefined {
  if (c.registryToken) return { kind: 'registry-token', token: c.registryToken };
  if (c.identityToken) return { kind: 'identity-token', token: c.identityToken };
  if (c.username !== undefined && c.password !== undefined) return { kind: 'basic', username: c.username, password: c.password };
  return undefined;
}

/** Stores for one request: only its own credentials, never the worker's environment. */
async function withStores<T>(params: Params, work: (stores: Stores) => Promise<T>): Promise<T> {
  const { credentials, insecureRegistries } = params.job();
  const entries = Object.fromEntries(credentials.flatMap((c) => {
    const credential = toCredential(c);
    return credential ? [[c.registry, credential]] : [];
  }));
  const stores = new Stores({ credentials: staticCredentials(entries), insecure: insecureRegistries });
  try {
    return await work(stores);
  } finally {
    await stores.close();
  }
}

/** A reference that does not parse is bad input (-33003), not a malformed request. */
function reference(params: Params, field: string): ImageReference {
  return parseReference(params.string(field));
}

export const operations: Record<Operation, OperationFactory> = {
  copy: (params) => {
    const source = reference(params, 'source');
    const destination = reference(params, 'destination');
    const allPlatforms = params.optionalBoolean('allPlatforms');
    const platformText = params.optionalString('platform');
    let platform: Platform | undefined;
    try {
      platform = platformText === undefined ? undefined : parsePlatform(platformText);
    } catch (e) {
      params.fail('params.platform', (e as Error).message);
    }
    return {
      title: `Copy ${formatReference(source)} to ${formatReference(destination)}`,
      run: ({ signal, onProgress }) => withStores(params, async (stores): Promise<CopyResult> => {
        const from = await stores.open(source);
        const to = await stores.open(destination, { create: true });
        const { tag, expectDigest } = destinationTarget(source, destination);
        return copyImage(from, source.digest ?? source.tag, to, tag, {
          signal,
          onProgress,
          ...(allPlatforms ? { allPlatforms } : {}),
          ...(platform ? { platform } : {}),
          ...(expectDigest !== undefined ? { expectDigest } : {}),
        });
      }),
    };
  },
  inspect: (params) => {
    const ref = reference(params, 'reference');
    return {
      title: `Inspect ${formatReference(ref)}`,
      run: ({ signal }) => withStores(params, async (stores): Promise<InspectResult> => inspectImage(await stores.open(ref), ref.digest ?? ref.tag, formatReference(ref), { signal })),
    };
  },
  verify: (params) => {
    const ref = reference(params, 'reference');
    return {
      title: `Verify ${formatReference(ref)}`,
      run: ({ signal, onProgress }) => withStores(params, async (stores): Promise<VerifyResult> => ({
        reference: formatReference(ref),
        ...(await verifyImage(await stores.open(ref), ref.digest ?? ref.tag, { signal, onProgress })),
      })),
    };
  },
};
