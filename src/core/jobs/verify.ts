// `verify`: reads an image back, every manifest of every platform and every blob, and checks each
// against its digest and size; then checks every layer the way the lazy snapshotters would before
// a lazy pull: stargz-snapshotter (footer, TOC, TOC digest against the annotation, layout, each
// chunk's digest) and soci-snapshotter (the SOCI indexes it would find for the image, the layer's
// zTOC, each span's digest). Problems are collected rather than stopping at the first one.
// `deep` also checks each index against the layer's own bytes, with one more read of each layer.
import { describeError, LazyImageError, type ErrorCode } from '../errors.js';
import type { LayerVerification } from '../estargz/index.js';
import { isContentProblem, isImageConfig, laziness, walkIndex, type ImageLaziness } from '../image/index.js';
import { checkEstargzLayer, checkSociLayer } from '../lazy/index.js';
import { blobAccess, type Descriptor, type ImageDocument, type ImageStore, type ManifestDocument } from '../oci/index.js';
import { isSociIndexConfig, PREFETCH_MEDIA_TYPE, ZtocThreads, type SociLayerVerification, type SociVersion } from '../soci/index.js';
import type { CheckOptions } from '../lazy/index.js';
import { forEachLimit } from '../pool.js';
import type { ProgressItemPlan, ProgressSink } from './progress.js';

export interface VerifyOptions {
  /** Manifests, eStargz structure and TOC digests only: no whole blobs, no chunk digests. */
  quick?: boolean;
  /**
   * Also each eStargz TOC against the tar headers in its layer, and each zTOC field by field
   * against the one our indexer builds from its layer: one more read of every layer.
   */
  deep?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  concurrency?: number;
}

export interface LayerReport {
  digest: string;
  label: string;
  size: number;
  lazy: LayerVerification;
  /** Set when an image's SOCI index has a zTOC for the layer. */
  soci?: SociLayerVerification;
}

/** A SOCI index an image manifest names, and what would make the snapshotter ignore it. */
export interface SociIndexReport {
  image: string;
  index: string;
  version?: SociVersion;
  ztocs: number;
  problems: string[];
}

export interface VerifyReport {
  digest: string;
  ok: boolean;
  /** The deep checks ran. */
  deep: boolean;
  blobs: number;
  bytes: number;
  problems: Array<{ digest: string; code: ErrorCode; message: string }>;
  layers: LayerReport[];
  soci: SociIndexReport[];
}

interface Blob {
  descriptor: Descriptor;
  label: string;
}

export async function verifyImage(store: ImageStore, tagOrDigest: string | undefined, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (options.quick && options.deep) throw new LazyImageError('INVALID_ARGUMENT', `Cannot verify ${store.name} both quickly and deeply: a deep check reads every layer whole`, { ref: store.name });
  const threads = options.deep ? new ZtocThreads() : undefined;
  try {
    return await verifyWith(store, tagOrDigest, options, threads);
  } finally {
    await threads?.close();
  }
}

async function verifyWith(store: ImageStore, tagOrDigest: string | undefined, options: VerifyOptions, threads: ZtocThreads | undefined): Promise<VerifyReport> {
  const call = { signal: options.signal };
  const top = await store.resolve(tagOrDigest, call);
  const problems: VerifyReport['problems'] = [];
  const record = (digest: string, e: unknown): boolean => {
    if (!isContentProblem(e)) return false;
    problems.push({ digest, code: e.code, message: describeError(e) });
    return true;
  };
  const blobs = new Map<string, Blob>();
  const layers = new Map<string, Blob>();
  const images: ImageDocument[] = [];
  let root: ManifestDocument | undefined;
  try {
    root = await store.getManifest(top, call);
  } catch (e) {
    if (!record(top.digest, e)) throw e;
  }
  for await (const { doc } of root ? walkIndex(store, root, { ...call, skip: (listed, e) => record(listed.digest, e) }) : []) {
    if (doc.kind !== 'manifest') continue;
    const { config, layers: manifestLayers } = doc.manifest;
    blobs.set(config.digest, { descriptor: config, label: 'config' });
    // A SOCI index's "layers" are zTOCs (and prefetch artifacts), and an artifact's are its payload: blobs to check, not layers to lazy-pull.
    if (isSociIndexConfig(config.mediaType) || doc.manifest.artifactType || !isImageConfig(config.mediaType)) {
      const what = (d: Descriptor): string => (!isSociIndexConfig(config.mediaType) ? 'blob' : d.mediaType === PREFETCH_MEDIA_TYPE ? 'prefetch artifact' : 'zTOC');
      manifestLayers.forEach((z, i) => blobs.set(z.digest, { descriptor: z, label: `${what(z)} ${i + 1}/${manifestLayers.length}` }));
      continue;
    }
    images.push(doc);
    manifestLayers.forEach((l, i) => {
      const item = { descriptor: l, label: `layer ${i + 1}/${manifestLayers.length}` };
      blobs.set(l.digest, item);
      if (!layers.has(l.digest)) layers.set(l.digest, item);
    });
  }

  const deep = threads ? new DeepProgress([...layers.values()], threads, options.onProgress) : undefined;
  const bytes = await readBlobs(store, options.quick ? [] : [...blobs.values()], record, options, deep?.plan ?? []);
  const reports: LayerReport[] = [];
  await forEachLimit([...layers.values()], options.concurrency ?? 3, async ({ descriptor, label }) => {
    const lazy = await checkEstargzLayer(blobAccess(store, descriptor, call), descriptor, `${label} (${descriptor.digest})`, { quick: options.quick, signal: options.signal, deep: deep?.of(descriptor) });
    reports.push({ digest: descriptor.digest, label, size: descriptor.size, lazy });
  });
  const order = [...layers.keys()];
  reports.sort((a, b) => order.indexOf(a.digest) - order.indexOf(b.digest));
  const soci: SociIndexReport[] = [];
  for (const image of images) {
    // The snapshotter looks from the image manifest (annotation, referrers), never at the image index.
    let lazy: ImageLaziness;
    try {
      lazy = await laziness(store, image, call);
    } catch (e) {
      if (!record(image.descriptor.digest, e)) throw e;
      continue;
    }
    soci.push(...await verifySoci(store, lazy, reports, options, deep));
  }
  deep?.finish(reports);
  const lazyOk = reports.every((r) => r.lazy.problems.length === 0 && (r.soci?.problems.length ?? 0) === 0) && soci.every((s) => s.problems.length === 0);
  return { digest: top.digest, ok: problems.length === 0 && lazyOk, deep: threads !== undefined, blobs: blobs.size, bytes, problems, layers: reports, soci };
}

/** Streams every blob through the store's digest and size check; returns the bytes read. `more` joins the plan. */
async function readBlobs(store: ImageStore, items: Blob[], record: (digest: string, e: unknown) => boolean, options: VerifyOptions, more: ProgressItemPlan[]): Promise<number> {
  options.onProgress?.({ kind: 'plan', items: [...items.map(({ descriptor, label }) => ({ item: descriptor.digest, label, total: descriptor.size })), ...more] });
  let bytes = 0;
  await forEachLimit(items, options.concurrency ?? 3, async ({ descriptor, label }) => {
    const report = (done: number, outcome?: 'verified' | 'failed'): void =>
      options.onProgress?.({ kind: 'item', item: descriptor.digest, label, done, total: descriptor.size, ...(outcome ? { outcome } : {}) });
    let done = 0;
    try {
      // The store's stream fails instead of ending when size or digest do not match.
      for await (const chunk of await store.getBlob(descriptor, { signal: options.signal })) {
        done += (chunk as Buffer).length;
        report(done);
      }
      bytes += done;
      report(descriptor.size, 'verified');
    } catch (e) {
      if (options.signal?.aborted || !record(descriptor.digest, e)) throw e;
      report(done, 'failed');
    }
  });
  return bytes;
}

/**
 * Each SOCI index found for an image (added to the result), then each of the image's layers with a
 * zTOC in it, through that zTOC; a layer is checked through the first index that has it.
 */
async function verifySoci(store: ImageStore, lazy: ImageLaziness, reports: LayerReport[], options: VerifyOptions, deep: DeepProgress | undefined): Promise<SociIndexReport[]> {
  const out: SociIndexReport[] = [];
  for (const found of lazy.sociIndexes) {
    const { index } = found;
    out.push({
      image: lazy.image.digest, index: found.digest, version: index?.version, ztocs: index?.ztocs.size ?? 0,
      problems: index ? index.problems : [`${found.error}: the snapshotter goes on without it`],
    });
    for (const layer of lazy.layers) {
      const ztoc = index?.ztocs.get(layer.descriptor.digest);
      const report = reports.find((r) => r.digest === layer.descriptor.digest);
      if (!ztoc || !report || report.soci) continue;
      const prefetch = index?.prefetch.get(layer.descriptor.digest);
      report.soci = await checkSociLayer(store, layer.descriptor, { digest: found.digest, ztoc, buildTool: index?.buildTool, prefetch }, `${report.label} (${layer.descriptor.digest})`, {
        quick: options.quick, signal: options.signal, deep: deep?.of(layer.descriptor),
      });
    }
  }
  return out;
}

/**
 * Progress of the deep checks: one item per distinct layer (`deep:<digest>`), announced with the
 * blobs, advanced as each check reads the layer, and finished once every check of it is done.
 */
class DeepProgress {
  readonly plan: ProgressItemPlan[];

  constructor(layers: Blob[], private readonly threads: ZtocThreads, private readonly sink: ProgressSink | undefined) {
    this.plan = layers.map(({ descriptor, label }) => ({ item: `deep:${descriptor.digest}`, label: `${label} (deep)`, total: descriptor.size }));
  }

  of(layer: Descriptor): NonNullable<CheckOptions['deep']> {
    const item = this.plan.find((p) => p.item === `deep:${layer.digest}`)!;
    return { threads: this.threads, onProgress: (done, total) => this.sink?.({ kind: 'item', ...item, done: Math.floor((done / Math.max(total, 1)) * item.total) }) };
  }

  finish(reports: LayerReport[]): void {
    for (const item of this.plan) {
      const r = reports.find((l) => `deep:${l.digest}` === item.item);
      const failed = r !== undefined && (r.lazy.problems.length > 0 || (r.soci?.problems.length ?? 0) > 0);
      this.sink?.({ kind: 'item', ...item, done: item.total, outcome: failed ? 'failed' : 'verified' });
    }
  }
}

/**
 * Every problem of a report, a line each: the blobs', the SOCI indexes', then the layers'. The
 * SOCI and layer parts are optional, as older workers leave them out of their results.
 */
export function verifyProblemLines(report: {
  problems: Array<{ message: string }>;
  soci?: Array<{ index: string; problems: string[] }>;
  layers?: Array<{ label: string; digest: string; lazy: { problems: string[] }; soci?: { problems: string[] } }>;
}): string[] {
  return [
    ...report.problems.map((p) => p.message),
    ...(report.soci ?? []).flatMap((s) => s.problems.map((p) => `SOCI index ${s.index}: ${p}`)),
    ...(report.layers ?? []).flatMap((l) => [...l.lazy.problems, ...(l.soci?.problems ?? [])].map((p) => `${l.label} (${l.digest.slice(0, 19)}…): ${p}`)),
  ];
}
