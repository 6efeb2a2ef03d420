// `optimize`: run the image's workload, record the files it reads as it starts, and convert the
// image to eStargz with each of those files first in the layer that provides it (before
// `.prefetch.landmark`, so stargz-snapshotter fetches them before the container starts). A layer
// the workload read nothing from gets `.no.prefetch.landmark`, as ctr-remote's optimize does.
import { readImageConfig, resolveImage } from '../image/index.js';
import { checkRecorder, DEFAULT_PERIOD_SECONDS, profilePaths, recordWorkload, PROFILE_KIND, PROFILE_VERSION, type RecordOptions, type StartupProfile } from '../optimize/index.js';
import type { ImageStore, Platform } from '../oci/index.js';
import { convertImage, type ConvertOptions, type ConvertResult } from './convert.js';
import type { ProgressSink } from './progress.js';

export interface OptimizeOptions extends Omit<RecordOptions, 'onStep'>, Pick<ConvertOptions, 'level' | 'chunkSize'> {
  platform?: Platform;
  onProgress?: ProgressSink;
}

export interface OptimizeResult extends ConvertResult {
  profile: StartupProfile;
  /** The workload's output, its tail. */
  output: string;
  /** Device files and fifos of the layers the container did not get. */
  skipped: number;
}

const RUN_ITEM = 'workload';

export async function optimizeImage(source: ImageStore, sourceRef: string | undefined, destination: ImageStore, destinationTag: string | undefined, options: OptimizeOptions = {}): Promise<OptimizeResult> {
  const call = { signal: options.signal };
  // Missing tools or privileges say so before anything is read.
  await checkRecorder(options, source.name);
  const { image } = await resolveImage(source, sourceRef, 'Cannot optimize', { ...call, platform: options.platform });
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
  const converted = await convertImage(source, image.descriptor.digest, destination, destinationTag, {
    level: options.level, chunkSize: options.chunkSize, signal: options.signal, onProgress: progress,
    prioritizedFor: (layer) => profilePaths(profile, layer),
  });
  return { ...converted, profile, output: run.output, skipped: recording.skipped };
}
