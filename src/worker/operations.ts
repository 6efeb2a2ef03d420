// The worker's operations: each validates its params, then runs the one core job that the CLI and
// the extension run too, with the credentials the request carried and nothing else.
import { runBatch, validatePlan, type BatchPlan } from '../core/batch/index.js';
import { LazyImageError, describeError } from '../core/errors.js';
import { count } from '../core/format.js';
import { Stores } from '../core/image/index.js';
import {
  buildSociIndexes, checkOptimizeFormat, convertImage, copyImage, destinationTarget, inspectImage, OPTIMIZE_FORMATS, optimizeImage, sociDestination, verifyImage, type ConvertedLayer, type OptimizeFormat, type ProgressSink, type VerifyReport,
} from '../core/jobs/index.js';
import { parseProfile, profilePaths, type StartupProfile } from '../core/optimize/index.js';
import { formatReference, parsePlatform, parseReference, type Descriptor, type ImageReference, type ImageStore, type Platform } from '../core/oci/index.js';
import type { SociVersion } from '../core/soci/index.js';
import { staticCredentials, type Credential } from '../core/registry/index.js';
import type { BatchItemResult, BatchLayerBuilt, BatchResult, ConvertResult, CopyResult, IndexResult, InspectResult, LayerLazyReport, Operation, OptimizeResult, RegistryCredential, VerifyResult } from './protocol.js';
import { Params } from './validate.js';

export interface OperationContext {
  signal: AbortSignal;
  onProgress: ProgressSink;
  /** A batch's item and layer events, as they happen (1.8). */
  onEvent(event: BatchItemResult | BatchLayerBuilt): void;
  /** The destination, noting what the job writes there: a failure says it (ErrorData.written, 1.7). */
  writing(store: ImageStore): ImageStore;
}

export interface OperationRun {
  title: string;
  run(ctx: OperationContext): Promise<unknown>;
  /**
   * The job writes to stores of its own choosing (a batch: each item's destination and the cache),
   * not through `writing`: its errors carry no `written`, which would wrongly say it stored nothing.
   */
  unrecorded?: true;
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

/** The report without each layer's list of gzip members: counts say enough, and a TOC can be huge. */
function summarize(report: VerifyReport): Omit<VerifyResult, 'reference'> {
  const layers = report.layers.map((l): LayerLazyReport => {
    const layout = l.lazy.layout;
    if (!layout) return l;
    const { tocOffset, files, dirs, links, chunks, bytes, prefetch, innerOffsets, problems } = layout;
    return { ...l, lazy: { ...l.lazy, layout: { tocOffset, files, dirs, links, chunks, bytes, prefetch, innerOffsets, problems } } };
  });
  return { ...report, layers };
}

/** The job's layer records carry more than ConvertedLayer declares; the protocol says exactly that. */
function protocolLayers(layers: ConvertedLayer[]): ConvertedLayer[] {
  return layers.map(({ source, digest, size, tocDigest, sourceSize, seconds }) => ({ source, digest, size, tocDigest, sourceSize, seconds }));
}

/** A startup profile that is not one is a malformed request (-32602). */
function startupProfile(params: Params): StartupProfile | undefined {
  const value = params.optionalObject('startupProfile');
  if (value === undefined) return undefined;
  try {
    return parseProfile(JSON.stringify(value), 'the profile');
  } catch (e) {
    return params.fail('params.startupProfile', `is not a startup profile (${(e as Error).message})`);
  }
}

/** A plan that does not parse, or breaks the plan's rules, is a malformed request (-32602). */
function batchPlan(params: Params): BatchPlan {
  const value = params.object('plan');
  try {
    return validatePlan(value, 'params.plan');
  } catch (e) {
    return params.fail('params.plan', `is not a batch plan: ${describeError(e)}`);
  }
}

/** `{ index, count }` with 0 ≤ index < count, as `--shard` and JOB_COMPLETION_INDEX give it. */
function shard(params: Params): { index: number; count: number } | undefined {
  const value = params.optionalObject('shard');
  if (value === undefined) return undefined;
  const { index, count } = value;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) return params.fail('params.shard.count', 'must be a positive integer');
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= count) return params.fail('params.shard.index', `must be an integer from 0 to ${count - 1}`);
  return { index, count };
}

/** A malformed platform is a malformed request (-32602). */
function platform(params: Params): Platform | undefined {
  const text = params.optionalString('platform');
  try {
    return text === undefined ? undefined : parsePlatform(text);
  } catch (e) {
    return params.fail('params.platform', (e as Error).message);
  }
}

export const operations: Record<Operation, OperationFactory> = {
  batch: (params) => {
    const plan = batchPlan(params);
    const cache = params.optionalString('cache');
    const only = shard(params);
    return {
      title: `Run a batch of ${count(plan.items.length, 'item')}${only ? ` (shard ${only.index}/${only.count})` : ''}`,
      unrecorded: true,
      run: ({ signal, onProgress, onEvent }) => withStores(params, async (stores): Promise<BatchResult> => {
        const events: BatchResult['events'] = [];
        const summary = await runBatch(plan, stores, {
          signal, onProgress,
          ...(cache !== undefined ? { cache } : {}),
          ...(only ? { shard: only } : {}),
          onEvent: (event) => {
            if (event.type === 'summary') return; // the result carries it
            events.push(event);
            onEvent(event);
          },
        });
        return { events, summary };
      }),
    };
  },
  convert: (params) => {
    const source = reference(params, 'source');
    const destination = reference(params, 'destination');
    const format = params.string('format');
    const level = params.optionalIntegerIn('level', 1, 9);
    const chunkSize = params.optionalPositiveInteger('chunkSize');
    const prioritized = params.optionalStringArray('prioritized') ?? [];
    const profile = startupProfile(params);
    const allPlatforms = params.optionalBoolean('allPlatforms');
    const only = platform(params);
    if (format !== 'estargz') throw new LazyImageError('UNSUPPORTED', `Cannot convert to ${format}: this worker converts to estargz only`);
    if (destination.digest !== undefined) {
      throw new LazyImageError('INVALID_ARGUMENT', `Cannot convert to ${formatReference(destination)}: the converted image gets a new digest; name the destination by tag`, { ref: formatReference(destination) });
    }
    return {
      title: `Convert ${formatReference(source)} to eStargz at ${formatReference(destination)}`,
      run: ({ signal, onProgress, writing }) => withStores(params, async (stores): Promise<ConvertResult> => {
        const from = await stores.open(source);
        const to = writing(await stores.open(destination, { create: true }));
        const result = await convertImage(from, source.digest ?? source.tag, to, destinationTarget(source, destination).tag, {
          signal,
          onProgress,
          prioritized,
          // As `convert --prioritize-file`: the profile's files in their own layers, `prioritized` in every one.
          ...(profile ? { prioritizedFor: (layer: Descriptor) => [...prioritized, ...profilePaths(profile, layer)] } : {}),
          ...(level !== undefined ? { level } : {}),
          ...(chunkSize !== undefined ? { chunkSize } : {}),
          ...(allPlatforms ? { allPlatforms } : {}),
          ...(only ? { platform: only } : {}),
        });
        return { ...result, layers: protocolLayers(result.layers) };
      }),
    };
  },
  copy: (params) => {
    const source = reference(params, 'source');
    const destination = reference(params, 'destination');
    const allPlatforms = params.optionalBoolean('allPlatforms');
    const referrers = params.optionalBoolean('referrers');
    const only = platform(params);
    return {
      title: `Copy ${formatReference(source)} to ${formatReference(destination)}`,
      run: ({ signal, onProgress, writing }) => withStores(params, async (stores): Promise<CopyResult> => {
        const from = await stores.open(source);
        const to = writing(await stores.open(destination, { create: true }));
        const { tag, expectDigest } = destinationTarget(source, destination);
        return copyImage(from, source.digest ?? source.tag, to, tag, { signal, onProgress, allPlatforms, platform: only, expectDigest, referrers });
      }),
    };
  },
  index: (params) => {
    const source = reference(params, 'source');
    const destinationText = params.optionalString('destination');
    const version = params.optionalString('sociVersion') ?? 'v2';
    if (version !== 'v1' && version !== 'v2') return params.fail('params.sociVersion', `${version} is neither v1 nor v2`);
    const spanSize = params.optionalPositiveInteger('spanSize');
    const minLayerSize = params.optionalIntegerIn('minLayerSize', 0, Number.MAX_SAFE_INTEGER);
    const allPlatforms = params.optionalBoolean('allPlatforms');
    const prefetchFiles = params.optionalStringArray('prefetchFiles');
    const only = platform(params);
    const destination = sociDestination(source, destinationText !== undefined ? parseReference(destinationText) : undefined, version);
    return {
      title: `Build SOCI ${version} indexes for ${formatReference(source)}`,
      run: ({ signal, onProgress, writing }) => withStores(params, async (stores): Promise<IndexResult> => buildSociIndexes(
        await stores.open(source), source.digest ?? source.tag, writing(await stores.open(destination, { create: true })), destination.tag ?? source.tag, {
          signal, onProgress, version,
          ...(spanSize !== undefined ? { spanSize } : {}),
          ...(minLayerSize !== undefined ? { minLayerSize } : {}),
          ...(allPlatforms ? { allPlatforms } : {}),
          ...(only ? { platform: only } : {}),
          ...(prefetchFiles ? { prefetchFiles } : {}),
        },
      )),
    };
  },
  inspect: (params) => {
    const ref = reference(params, 'reference');
    return {
      title: `Inspect ${formatReference(ref)}`,
      run: ({ signal }) => withStores(params, async (stores): Promise<InspectResult> => inspectImage(await stores.open(ref), ref.digest ?? ref.tag, formatReference(ref), { signal })),
    };
  },
  optimize: (params) => {
    const source = reference(params, 'source');
    const destination = reference(params, 'destination');
    if (destination.digest !== undefined) {
      throw new LazyImageError('INVALID_ARGUMENT', `Cannot optimize to ${formatReference(destination)}: the optimized image gets a new digest; name the destination by tag`, { ref: formatReference(destination) });
    }
    const format = params.optionalString('format') ?? 'estargz';
    if (!(OPTIMIZE_FORMATS as readonly string[]).includes(format)) return params.fail('params.format', `${format} is neither ${OPTIMIZE_FORMATS.join(' nor ')}`);
    const sociVersion = params.optionalString('sociVersion');
    if (sociVersion !== undefined && sociVersion !== 'v1' && sociVersion !== 'v2') return params.fail('params.sociVersion', `${sociVersion} is neither v1 nor v2`);
    const version = sociVersion as SociVersion | undefined;
    const options = {
      entrypoint: params.optionalArgv('entrypoint'),
      args: params.optionalArgv('args'),
      env: params.optionalStringArray('env'),
      cwd: params.optionalString('cwd'),
      user: params.optionalString('user'),
      periodSeconds: params.optionalPositiveNumber('periodSeconds'),
      network: params.optionalBoolean('network'),
      runtime: params.optionalString('runtime'),
      format: format as OptimizeFormat,
      level: params.optionalIntegerIn('level', 1, 9),
      chunkSize: params.optionalPositiveInteger('chunkSize'),
      sociVersion: version,
      spanSize: params.optionalPositiveInteger('spanSize'),
      minLayerSize: params.optionalIntegerIn('minLayerSize', 0, Number.MAX_SAFE_INTEGER),
      platform: platform(params),
    };
    // Options of the other format are bad input, answered before the job starts.
    checkOptimizeFormat(options);
    return {
      title: `Optimize ${formatReference(source)} for startup at ${formatReference(destination)}${format === 'soci' ? ' (SOCI)' : ''}`,
      run: ({ signal, onProgress, writing }) => withStores(params, async (stores): Promise<OptimizeResult> => {
        const from = await stores.open(source);
        const to = writing(await stores.open(destination, { create: true }));
        const result = await optimizeImage(from, source.digest ?? source.tag, to, destinationTarget(source, destination).tag, { ...options, signal, onProgress });
        if (result.format === 'soci') return result;
        return { ...result, layers: protocolLayers(result.layers) };
      }),
    };
  },
  verify: (params) => {
    const ref = reference(params, 'reference');
    const quick = params.optionalBoolean('quick');
    const deep = params.optionalBoolean('deep');
    if (quick && deep) params.fail('params.deep', 'cannot be combined with quick');
    return {
      title: `Verify ${formatReference(ref)}${quick ? ' (quick)' : deep ? ' (deep)' : ''}`,
      run: ({ signal, onProgress }) => withStores(params, async (stores): Promise<VerifyResult> => ({
        reference: formatReference(ref),
        ...summarize(await verifyImage(await stores.open(ref), ref.digest ?? ref.tag, { signal, onProgress, quick, deep })),
      })),
    };
  },
};
