// `copy`: an image from any store to any store. Blobs first (skipping those already there,
// mounting within one registry), child manifests next, the tagged manifest last, so a tag never
// points at incomplete content. Manifests are copied byte for byte: digests do not change.
import { LazyImageError, throwIfAborted } from '../errors.js';
import { pickPlatform, walkIndex } from '../image/index.js';
import type { Descriptor, ImageReference, ImageStore, ManifestDocument, Platform } from '../oci/index.js';
import { forEachLimit } from './pool.js';
import type { ProgressSink } from './progress.js';

export interface CopyOptions {
  /** Copy every platform of an index (the index itself too). Default: one platform. */
  allPlatforms?: boolean;
  /** The platform to pick from an index when not copying all; the host's by default. */
  platform?: Platform;
  /** Refuse to write the top manifest unless it has this digest (a `repo@digest` destination). */
  expectDigest?: string;
  /** Blobs transferred at once. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export interface CopyResult {
  /** What the destination tag now points at. */
  descriptor: Descriptor;
  blobs: { uploaded: number; existed: number; mounted: number };
  bytesUploaded: number;
}

const DEFAULT_CONCURRENCY = 3;

/**
 * What a copy's destination reference means: `repo@digest` pushes untagged and insists on that
 * digest; `repo:tag` tags. A bare OCI layout destination keeps the source's tag (a bare registry
 * destination already reads as `:latest`).
 */
export function destinationTarget(source: ImageReference, destination: ImageReference): { tag?: string; expectDigest?: string } {
  if (destination.digest !== undefined) return { ...(destination.tag !== undefined ? { tag: destination.tag } : {}), expectDigest: destination.digest };
  const tag = destination.tag ?? source.tag;
  return tag !== undefined ? { tag } : {};
}

export async function copyImage(
  source: ImageStore,
  sourceRef: string | undefined,
  destination: ImageStore,
  destinationTag: string | undefined,
  options: CopyOptions = {},
): Promise<CopyResult> {
  // One controller for the job: the caller's cancel and our own first failure both stop every transfer.
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const copier = new Copier(source, destination, { ...options, signal: controller.signal });
  try {
    throwIfAborted(options.signal, source.name);
    const root = await source.getManifest(await source.resolve(sourceRef, { signal: controller.signal }), { signal: controller.signal });
    const top = root.kind === 'index' && !options.allPlatforms ? await pickPlatform(source, root, options.platform, 'Cannot copy', { signal: controller.signal }) : root;
    if (options.expectDigest !== undefined && options.expectDigest !== top.descriptor.digest) {
      throw new LazyImageError('DIGEST_MISMATCH', `Cannot copy ${source.name} to ${destination.name}@${options.expectDigest}: the image's digest is ${top.descriptor.digest}`, { ref: destination.name });
    }
    const descriptor = await copier.copyTree(top, destinationTag);
    return { descriptor, blobs: copier.counts, bytesUploaded: copier.bytesUploaded };
  } catch (e) {
    controller.abort();
    if (options.signal?.aborted) throw new LazyImageError('CANCELLED', 'Cancelled', { ref: source.name, cause: e });
    throw e;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

class Copier {
  readonly counts = { uploaded: 0, existed: 0, mounted: 0 };
  bytesUploaded = 0;
  private readonly call: { signal: AbortSignal };

  constructor(private readonly source: ImageStore, private readonly destination: ImageStore, private readonly options: CopyOptions & { signal: AbortSignal }) {
    this.call = { signal: options.signal };
  }

  /** Copies a manifest or index with everything it references, children first; tags it if `tag` is given. */
  async copyTree(top: ManifestDocument, tag: string | undefined): Promise<Descriptor> {
    let descriptor: Descriptor | undefined;
    for await (const { doc } of walkIndex(this.source, top, this.call)) {
      if (doc.kind === 'manifest') await this.copyBlobs(doc.manifest.layers, doc.manifest.config);
      descriptor = await this.destination.putManifest(doc.bytes, doc.descriptor.mediaType, doc === top ? tag : undefined, this.call);
    }
    return descriptor!;
  }

  private async copyBlobs(layers: Descriptor[], config: Descriptor): Promise<void> {
    const unique = new Map<string, { descriptor: Descriptor; label: string }>();
    layers.forEach((l, i) => unique.set(l.digest, { descriptor: l, label: `layer ${i + 1}/${layers.length}` }));
    if (!unique.has(config.digest)) unique.set(config.digest, { descriptor: config, label: 'config' });
    const sameRegistry = this.source.registry !== undefined && this.source.registry === this.destination.registry;
    const items = [...unique.values()];
    this.options.onProgress?.({ kind: 'plan', items: items.map(({ descriptor, label }) => ({ item: descriptor.digest, label, total: descriptor.size })) });
    await forEachLimit(items, this.options.concurrency ?? DEFAULT_CONCURRENCY, async ({ descriptor, label }) => {
      const report = (done: number, outcome?: 'existed' | 'mounted' | 'uploaded'): void =>
        this.options.onProgress?.({ kind: 'item', item: descriptor.digest, label, done, total: descriptor.size, ...(outcome ? { outcome } : {}) });
      const outcome = await this.destination.putBlob(descriptor, () => this.source.getBlob(descriptor, this.call), {
        signal: this.options.signal,
        mountFrom: sameRegistry ? this.source.repository : undefined,
        onProgress: report,
      });
      this.counts[outcome]++;
      if (outcome === 'uploaded') this.bytesUploaded += descriptor.size;
      report(descriptor.size, outcome);
    });
  }
}
