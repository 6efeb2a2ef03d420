// `verify`: reads an image back, every manifest of every platform and every blob, and checks each
// against its digest and size. Problems are collected rather than stopping at the first one.
import { LazyImageError, describeError, throwIfAborted, type ErrorCode } from '../errors.js';
import type { Descriptor, ImageStore, ManifestDocument } from '../oci/index.js';
import { forEachLimit } from './pool.js';
import type { ProgressSink } from './progress.js';

export interface VerifyOptions {
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  concurrency?: number;
}

export interface VerifyReport {
  digest: string;
  ok: boolean;
  blobs: number;
  bytes: number;
  problems: Array<{ digest: string; code: ErrorCode; message: string }>;
}

const MAX_DEPTH = 4;

/** Failures that are about the content itself: recorded as problems, the walk goes on. */
function isContentProblem(e: unknown): e is LazyImageError {
  return e instanceof LazyImageError && (e.code === 'DIGEST_MISMATCH' || e.code === 'INVALID_FORMAT' || e.code === 'NOT_FOUND');
}

export async function verifyImage(store: ImageStore, tagOrDigest: string | undefined, options: VerifyOptions = {}): Promise<VerifyReport> {
  const root = await store.resolve(tagOrDigest, options);
  const problems: VerifyReport['problems'] = [];
  const blobs = new Map<string, { descriptor: Descriptor; label: string }>();

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
    const { config, layers } = doc.manifest;
    blobs.set(config.digest, { descriptor: config, label: 'config' });
    layers.forEach((l, i) => blobs.set(l.digest, { descriptor: l, label: `layer ${i + 1}/${layers.length}` }));
  };
  await walk(root, 0);

  const items = [...blobs.values()];
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
  return { digest: root.digest, ok: problems.length === 0, blobs: items.length, bytes, problems };
}
