// `optimize`: run the image's workload, record the files it reads as it starts, and put them where
// the snapshotter fetches them before the container starts. eStargz (the default): the image is
// converted with each of those files first in the layer that provides it, before
// `.prefetch.landmark`; a layer the workload read nothing from gets `.no.prefetch.landmark`, as
// ctr-remote's optimize does. SOCI: the image is indexed as `index` does, with the recorded files
// as the prefetch files, so each index lists prefetch artifacts with their spans, as `soci convert
// --prefetch-file` would for the same paths.
import { LazyImageError } from '../errors.js';
import { readImageConfig, resolveImage } from '../image/index.js';
import { checkRecorder, DEFAULT_PERIOD_SECONDS, profilePaths, profilePrefetchFiles, recordWorkload, PROFILE_KIND, PROFILE_VERSION, type RecordOptions, type StartupProfile } from '../optimize/index.js';
import type { ImageStore, Platform } from '../oci/index.js';
import type { SociVersion } from '../soci/index.js';
import { convertImage, type ConvertOptions, type ConvertResult } from './convert.js';
import type { ProgressSink } from './progress.js';
import { buildSociIndexes, type SociIndexOptions, type SociIndexResult } from './sociIndex.js';

export const OPTIMIZE_FORMATS = ['estargz', 'soci'] as const;
export type OptimizeFormat = (typeof OPTIMIZE_FORMATS)[number];

export interface OptimizeOptions extends Omit<RecordOptions, 'onStep'>, Pick<ConvertOptions, 'level' | 'chunkSize'>, Pick<SociIndexOptions, 'spanSize' | 'minLayerSize'> {
  /** eStargz by default. */
  format?: OptimizeFormat;
  /** For soci: v2 by default, as `index`. */
  sociVersion?: SociVersion;
  platform?: Platform;
  onProgress?: ProgressSink;
}

interface Recorded {
  profile: StartupProfile;
  /** The workload's output, its tail. */
  output: string;
  /** Device files and fifos of the layers the container did not get. */
  skipped: number;
}

/** eStargz: the conversion's result; its `missing` lists recorded files the conversion found in no layer. */
export interface EstargzOptimizeResult extends ConvertResult, Recorded {
  format: 'estargz';
}

/** SOCI: the index job's result, each index's `prefetch` saying which recorded files it found, where, and which it did not. */
export interface SociOptimizeResult extends SociIndexResult, Recorded {
  format: 'soci';
}

export type OptimizeResult = EstargzOptimizeResult | SociOptimizeResult;

const ESTARGZ_ONLY = ['level', 'chunkSize'] as const;
const SOCI_ONLY = ['sociVersion', 'spanSize', 'minLayerSize'] as const;

/** Options of the other format are refused, rather than silently ignored after a long run. */
export function checkOptimizeFormat(options: OptimizeOptions): OptimizeFormat {
  const format = options.format ?? 'estargz';
  if (!OPTIMIZE_FORMATS.includes(format)) throw new LazyImageError('INVALID_ARGUMENT', `format ${String(format)} is not supported: use ${OPTIMIZE_FORMATS.join(' or ')}`);
  const foreign = (format === 'soci' ? ESTARGZ_ONLY : SOCI_ONLY).filter((k) => options[k] !== undefined);
  if (foreign.length) throw new LazyImageError('INVALID_ARGUMENT', `${foreign.join(', ')} ${foreign.length > 1 ? 'do' : 'does'} not apply to the ${format} format`);
  return format;
}

const RUN_ITEM = 'workload';

export async function optimizeImage(source: ImageStore, sourceRef: string | undefined, destination: ImageStore, destinationTag: string | undefined, options: OptimizeOptions = {}): Promise<OptimizeResult> {
  const call = { signal: options.signal };
  const format = checkOptimizeFormat(options);
  // Missing tools or privileges say so before anything is read.
  await checkRecorder(options, source.name);
  const { root, image } = await resolveImage(source, sourceRef, 'Cannot optimize', { ...call, platform: options.platform });
  const config = await readImageConfig(source, image.manifest.config, call);
  const layers = image.manifest.layers;
  const where = `${source.name}@${image.descriptor.digest}`;
  const progress = options.onProgress;
  progress?.({
    kind: 'plan',
    items: [
      ...layers.map((l, i) => ({ item: `unpack:${l.digest}`, label: `unpack layer ${i + 1}/${layers.length}`, total: l.size })),
      { item: RUN_ITEM, label: 'run the workload (ms)', total: (options.periodSeconds ?? DEFAULT_PERIOD_SECONDS) * 1000 },
    ],
  });
  const recording = await recordWorkload(source, { manifest: image.manifest, config }, where, {
    ...options,
    onStep: (s) => {
      if (s.step === 'unpack') progress?.({ kind: 'item', item: `unpack:${layers[s.layer - 1]!.digest}`, label: `unpack layer ${s.layer}/${s.layers}`, done: s.done, total: s.total });
      else progress?.({ kind: 'item', item: RUN_ITEM, label: 'run the workload (ms)', done: s.finished ? s.periodMs : s.elapsedMs, total: s.periodMs });
    },
  });
  const { workload, run } = recording;
  const profile: StartupProfile = {
    kind: PROFILE_KIND,
    version: PROFILE_VERSION,
    image: { manifest: image.descriptor.digest, layers: layers.map((l) => l.digest) },
    run: {
      args: workload.args, env: workload.env, cwd: workload.cwd, user: workload.userName, network: options.network ?? false,
      periodSeconds: options.periodSeconds ?? DEFAULT_PERIOD_SECONDS, seconds: run.seconds, exitCode: run.stopped ? undefined : run.exitCode, stopped: run.stopped,
    },
    files: recording.files,
  };
  const recorded: Recorded = { profile, output: run.output, skipped: recording.skipped };
  if (format === 'soci') {
    // The root by digest and the same platform: the image indexed is the one recorded, and the
    // destination is what `index` writes for the source.
    const indexed = await buildSociIndexes(source, root.descriptor.digest, destination, destinationTag, {
      version: options.sociVersion, spanSize: options.spanSize, minLayerSize: options.minLayerSize, platform: options.platform,
      prefetchFiles: profilePrefetchFiles(profile), signal: options.signal, onProgress: progress,
    });
    return { format, ...indexed, ...recorded };
  }
  const converted = await convertImage(source, image.descriptor.digest, destination, destinationTag, {
    level: options.level, chunkSize: options.chunkSize, signal: options.signal, onProgress: progress,
    prioritizedFor: (layer) => profilePaths(profile, layer),
  });
  return { format, ...converted, ...recorded };
}
