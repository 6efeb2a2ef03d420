// `verify`: reads an image back, every manifest of every platform and every blob, and checks each
// against its digest and size; then checks every layer the way the lazy snapshotters would before
// a lazy pull: stargz-snapshotter (footer, TOC, TOC digest against the annotation, layout, each
// chunk's digest) and soci-snapshotter (the SOCI index its manifest names, the layer's zTOC, each
// span's digest). Problems are collected rather than stopping at the first one.
import { LazyImageError, describeError, throwIfAborted, type ErrorCode } from '../errors.js';
import { verifyEstargzLayer, type LayerVerification } from '../estargz/verify.js';
import { readBlob, type Descriptor, type ImageStore, type ManifestDocument } from '../oci/index.js';
import { parseSociIndex, SOCI_INDEX_V1, SOCI_INDEX_V2, type SociVersion } from '../soci/manifest.js';
import { verifySociLayer, type SociLayerVerification } from '../soci/verify.js';
import { MAX_ZTOC_BYTES } from '../soci/ztoc.js';
import { forEachLimit } from './pool.js';
import { sociIndexDigests } from './soci.js';
import type { ProgressSink } from './progress.js';

export interface VerifyOptions {
  /** Manifests, eStargz structure and TOC digests only: no whole blobs, no chunk digests. */
  quick?: boolean;
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
  blobs: number;
  bytes: number;
  problems: Array<{ digest: string; code: ErrorCode; message: string }>;
  layers: LayerReport[];
  soci: SociIndexReport[];
}

const SOCI_CONFIGS: ReadonlySet<string> = new Set([SOCI_INDEX_V1, SOCI_INDEX_V2]);

const MAX_DEPTH = 4;

/** Failures that are about the content itself: recorded as problems, the walk goes on. */
function isContentProblem(e: unknown): e is LazyImageError {
  return e instanceof LazyImageError && (e.code === 'DIGEST_MISMATCH' || e.code === 'INVALID_FORMAT' || e.code === 'NOT_FOUND');
}

export async function verifyImage(store: ImageStore, tagOrDigest: string | undefined, options: VerifyOptions = {}): Promise<VerifyReport> {
  const root = await store.resolve(tagOrDigest, options);
  const problems: VerifyReport['problems'] = [];
  const blobs = new Map<string, { descriptor: Descriptor; label: string }>();
  const layers = new Map<string, { descriptor: Descriptor; label: string }>();
  const images: Array<Extract<ManifestDocument, { kind: 'manifest' }>> = [];

  const walk = async (descriptor: Descriptor, depth: number): Promise<void> => {
    throwIfAborted(options.signal, store.name);
    let doc: ManifestDocument;
    try {
      doc = await store.getManifest(descriptor, options);
    } catch (e) {
      if (!isContentProblem(e)) throw e;
      problems.push({ digest: descriptor.digest, code: e.code, message: describeError(e) });
      return;
    }
    if (doc.kind === 'index') {
      if (depth >= MAX_DEPTH) throw new LazyImageError('INVALID_FORMAT', `Cannot verify ${store.name}: indexes nested deeper than ${MAX_DEPTH}`, { ref: store.name });
      for (const child of doc.index.manifests) await walk(child, depth + 1);
      return;
    }
    const { config, layers: manifestLayers } = doc.manifest;
    blobs.set(config.digest, { descriptor: config, label: 'config' });
    // A SOCI index's "layers" are zTOCs: blobs to check, not layers to lazy-pull.
    if (SOCI_CONFIGS.has(config.mediaType)) {
      manifestLayers.forEach((z, i) => blobs.set(z.digest, { descriptor: z, label: `zTOC ${i + 1}/${manifestLayers.length}` }));
      return;
    }
    images.push(doc);
    manifestLayers.forEach((l, i) => {
      const item = { descriptor: l, label: `layer ${i + 1}/${manifestLayers.length}` };
      blobs.set(l.digest, item);
      if (!layers.has(l.digest)) layers.set(l.digest, item);
    });
  };
  await walk(root, 0);

  const items = options.quick ? [] : [...blobs.values()];
  options.onProgress?.({ kind: 'plan', items: items.map(({ descriptor, label }) => ({ item: descriptor.digest, label, total: descriptor.size })) });
  let bytes = 0;
  await forEachLimit(items, options.concurrency ?? 3, async ({ descriptor, label }) => {
    const report = (done: number, outcome?: 'verified' | 'failed'): void =>
      options.onProgress?.({ kind: 'item', item: descriptor.digest, label, done, total: descriptor.size, ...(outcome ? { outcome } : {}) });
    let done = 0;
    try {
      // The store's stream fails instead of ending when size or digest do not match.
      for await (const chunk of await store.getBlob(descriptor, options)) {
        done += (chunk as Buffer).length;
        report(done);
      }
      bytes += done;
      report(descriptor.size, 'verified');
    } catch (e) {
      if (options.signal?.aborted || !isContentProblem(e)) throw e;
      problems.push({ digest: descriptor.digest, code: e.code, message: describeError(e) });
      report(done, 'failed');
    }
  });

  const reports: LayerReport[] = [];
  await forEachLimit([...layers.values()], options.concurrency ?? 3, async ({ descriptor, label }) => {
    const access = { size: descriptor.size, read: (offset: number, length: number) => store.readBlobRange(descriptor, offset, length, options) };
    const lazy = await verifyEstargzLayer(access, descriptor.annotations, `${label} (${descriptor.digest})`, {
      ...(options.quick ? { quick: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    reports.push({ digest: descriptor.digest, label, size: descriptor.size, lazy });
  });
  const order = [...layers.keys()];
  reports.sort((a, b) => order.indexOf(a.digest) - order.indexOf(b.digest));
  const soci = await verifySoci(store, images, reports, options);
  const lazyOk = reports.every((r) => r.lazy.problems.length === 0 && (r.soci?.problems.length ?? 0) === 0) && soci.every((s) => s.problems.length === 0);
  return { digest: root.digest, ok: problems.length === 0 && lazyOk, blobs: blobs.size, bytes, problems, layers: reports, soci };
}

/**
 * Every problem of a report, a line each: the blobs', the SOCI indexes', then the layers'. The
 * SOCI and layer parts are optional, as older workers leave them out of their results.
 */
export function verifyProblemLines(report: {
  problems: Array<{ message: string }>;
  soci?: Array<{ index: string; problems: string[] }>;
  layers?: Array<{ label: string; lazy: { problems: string[] }; soci?: { problems: string[] } }>;
}): string[] {
  return [
    ...report.problems.map((p) => p.message),
    ...(report.soci ?? []).flatMap((s) => s.problems.map((p) => `SOCI index ${s.index}: ${p}`)),
    ...(report.layers ?? []).flatMap((l) => [...l.lazy.problems, ...(l.soci?.problems ?? [])].map((p) => `${l.label}: ${p}`)),
  ];
}

/**
 * The SOCI indexes each image has, found as soci-snapshotter finds them (v2: the manifest
 * annotation; v1: the image's referrers), and each layer with a zTOC in them.
 */
async function verifySoci(store: ImageStore, images: Array<Extract<ManifestDocument, { kind: 'manifest' }>>, reports: LayerReport[], options: VerifyOptions): Promise<SociIndexReport[]> {
  const out: SociIndexReport[] = [];
  for (const image of images) {
    for (const indexDigest of await sociIndexDigests(store, image, undefined, options)) await verifySociIndex(store, image, indexDigest, reports, out, options);
  }
  return out;
}

/** One SOCI index of an image: itself (added to `out`), then its zTOCs against the image's layers. */
async function verifySociIndex(
  store: ImageStore, image: Extract<ManifestDocument, { kind: 'manifest' }>, indexDigest: string, reports: LayerReport[], out: SociIndexReport[], options: VerifyOptions,
): Promise<void> {
  const report: SociIndexReport = { image: image.descriptor.digest, index: indexDigest, ztocs: 0, problems: [] };
  out.push(report);
  const where = `SOCI index ${indexDigest}`;
  let index;
  try {
    index = parseSociIndex(await store.getManifest(indexDigest, options), where);
  } catch (e) {
    if (!isContentProblem(e)) throw e;
    report.problems.push(`${describeError(e)}: the snapshotter pulls the image whole`);
    return;
  }
  report.version = index.version;
  report.ztocs = index.ztocs.size;
  report.problems.push(...index.problems);
  for (const layer of image.manifest.layers) {
    const ztoc = index.ztocs.get(layer.digest);
    const layerReport = reports.find((r) => r.digest === layer.digest);
    if (!ztoc || !layerReport || layerReport.soci) continue;
    const ids = { index: indexDigest, ztoc: ztoc.digest };
    let bytes: Buffer;
    try {
      bytes = await readBlob(store, ztoc, MAX_ZTOC_BYTES, options);
    } catch (e) {
      if (!isContentProblem(e)) throw e;
      layerReport.soci = { ...ids, lazy: false, spans: 0, spansVerified: 0, files: 0, problems: [describeError(e)] };
      continue;
    }
    const access = { size: layer.size, read: (offset: number, length: number) => store.readBlobRange(layer, offset, length, options) };
    layerReport.soci = await verifySociLayer(access, bytes, ids, `zTOC ${ztoc.digest} of ${layerReport.label} (${layer.digest})`, {
      ...(options.quick ? { quick: true } : {}), ...(options.signal ? { signal: options.signal } : {}),
    });
  }
}
