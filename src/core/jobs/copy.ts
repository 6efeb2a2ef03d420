// `copy`: an image from any store to any store, with the lazy indexes that belong to it. Blobs
// first (skipping those already there, mounting within one registry), child manifests next, the
// tagged manifest last, so a tag never points at incomplete content. Manifests are copied byte for
// byte: digests do not change.
//
// SOCI indexes travel with their image, whatever the platform filter: a v2 index named by an image
// manifest's annotation (or listed beside it in the image index), and the v1 indexes that refer to
// it. A single platform picked from a SOCI-enabled index is written as an index that holds the
// platform's manifest and its SOCI index, as `soci convert` lays them out, so nothing refers to a
// manifest the destination lacks and no registry garbage-collects the index as untagged.
import { describeError, LazyImageError, throwIfAborted } from '../errors.js';
import { isContentProblem, pickPlatform, walkIndex } from '../image/index.js';
import { MediaType, parseManifest, type Descriptor, type ImageDocument, type ImageReference, type ImageStore, type IndexDocument, type ManifestDocument, type Platform, type PutBlobOptions, type PutBlobResult } from '../oci/index.js';
import { describesSociIndexOf, goIndex, INDEX_DIGEST_ANNOTATION, isSociIndexConfig, SOCI_INDEX_V1, sociIndexDescriptor } from '../soci/index.js';
import { forEachLimit } from '../pool.js';
import type { ProgressSink } from './progress.js';

export interface CopyOptions {
  /** Copy every platform of an index (the index itself too). Default: one platform. */
  allPlatforms?: boolean;
  /** The platform to pick from an index when not copying all; the host's by default. */
  platform?: Platform;
  /** Also copy the SOCI v1 indexes that refer to the copied images (default true). */
  referrers?: boolean;
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
  /** The SOCI indexes copied with the image. */
  sociIndexes: string[];
  /** What the copy could not carry over, and what that means for a lazy pull. */
  warnings: string[];
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
    const top = await copier.choose(root);
    if (options.expectDigest !== undefined && options.expectDigest !== top.descriptor.digest) {
      throw new LazyImageError('DIGEST_MISMATCH', `Cannot copy ${source.name} to ${destination.name}@${options.expectDigest}: the image's digest is ${top.descriptor.digest}`, { ref: destination.name });
    }
    const descriptor = await copier.copyTree(top, destinationTag);
    return { descriptor, blobs: copier.counts, bytesUploaded: copier.bytesUploaded, sociIndexes: copier.sociIndexes, warnings: copier.warnings };
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
  readonly sociIndexes: string[] = [];
  readonly warnings: string[] = [];
  /** Manifests already written, by digest. */
  private readonly written = new Set<string>();
  private readonly call: { signal: AbortSignal };

  constructor(private readonly source: ImageStore, private readonly destination: ImageStore, private readonly options: CopyOptions & { signal: AbortSignal }) {
    this.call = { signal: options.signal };
  }

  /**
   * What to copy from `root`: all of it, or one platform's image, with its SOCI index in an index
   * of their own when it has one (the whole index when there is nothing else in it).
   */
  async choose(root: ManifestDocument): Promise<ManifestDocument> {
    if (root.kind === 'manifest' || this.options.allPlatforms) return root;
    const picked = await pickPlatform(this.source, root, this.options.platform, 'Cannot copy', this.call);
    if (picked.kind !== 'manifest' || this.options.expectDigest === picked.descriptor.digest) return picked;
    const listed = root.index.manifests.find((d) => d.digest === picked.descriptor.digest)!;
    const soci = await this.sociIndexEntries(root, picked, listed);
    if (soci.length === 0) return picked;
    const manifests = [listed, ...soci];
    const kept = new Set(manifests.map((d) => d.digest));
    if (root.index.manifests.every((d) => kept.has(d.digest)) && kept.size === root.index.manifests.length) return root;
    const bytes = goIndex({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests, ...(root.index.annotations ? { annotations: root.index.annotations } : {}) });
    return parseManifest(bytes, MediaType.OciIndex, `the ${listed.platform ? `${listed.platform.os}/${listed.platform.architecture}` : ''} index of ${this.source.name}`);
  }

  /** How an index for `image` lists its v2 SOCI indexes: as the source index does, else built from the annotation. */
  private async sociIndexEntries(root: IndexDocument, image: ImageDocument, listed: Descriptor): Promise<Descriptor[]> {
    const entries = root.index.manifests.filter((d) => describesSociIndexOf(d, image.descriptor.digest));
    const named = image.manifest.annotations?.[INDEX_DIGEST_ANNOTATION];
    if (!named || entries.some((d) => d.digest === named)) return entries;
    const doc = await this.source.getManifest(named, this.call).catch((e: unknown) => {
      if (isContentProblem(e)) return undefined; // reported when the image is copied
      throw e;
    });
    return doc ? [...entries, sociIndexDescriptor(doc.descriptor, listed)] : entries;
  }

  /** Copies a manifest or index with everything it references, children first; tags it if `tag` is given. */
  async copyTree(top: ManifestDocument, tag: string | undefined): Promise<Descriptor> {
    let descriptor: Descriptor | undefined;
    for await (const { doc } of walkIndex(this.source, top, this.call)) {
      const last = doc === top;
      if (this.written.has(doc.descriptor.digest) && !last) continue;
      if (doc.kind === 'manifest') await this.copyManifestBlobs(doc);
      descriptor = await this.put(doc, last ? tag : undefined);
    }
    return descriptor!;
  }

  /** An image manifest's blobs and, before it, the SOCI indexes that belong to it. */
  private async copyManifestBlobs(doc: ImageDocument): Promise<void> {
    await this.copyBlobs(doc.manifest.layers, doc.manifest.config);
    if (isSociIndexConfig(doc.manifest.config.mediaType)) {
      this.sociIndexes.push(doc.descriptor.digest);
      return;
    }
    for (const index of await this.sociIndexesOf(doc)) {
      await this.copyManifestBlobs(index);
      await this.put(index, undefined);
    }
  }

  /** Not yet written: the v2 index an image's annotation names, and its v1 referrers (unless told not to). */
  private async sociIndexesOf(image: ImageDocument): Promise<ImageDocument[]> {
    const digests = new Set<string>();
    const named = image.manifest.annotations?.[INDEX_DIGEST_ANNOTATION];
    if (named) digests.add(named);
    if (this.options.referrers !== false) {
      for (const d of await this.source.referrers(image.descriptor.digest, SOCI_INDEX_V1, this.call)) digests.add(d.digest);
    }
    const found: ImageDocument[] = [];
    for (const digest of digests) {
      if (this.written.has(digest)) continue;
      try {
        const doc = await this.source.getManifest(digest, this.call);
        if (doc.kind === 'manifest') found.push(doc);
      } catch (e) {
        if (!isContentProblem(e)) throw e;
        this.warnings.push(`the SOCI index ${digest} of image ${image.descriptor.digest} cannot be read from ${this.source.name} (${describeError(e)}): the copy has none either, so soci-snapshotter pulls the image without it`);
      }
    }
    return found;
  }

  private async put(doc: ManifestDocument, tag: string | undefined): Promise<Descriptor> {
    const descriptor = await this.destination.putManifest(doc.bytes, doc.descriptor.mediaType, tag, this.call);
    this.written.add(doc.descriptor.digest);
    return descriptor;
  }

  private async copyBlobs(layers: Descriptor[], config: Descriptor): Promise<void> {
    const unique = new Map<string, { descriptor: Descriptor; label: string }>();
    layers.forEach((l, i) => unique.set(l.digest, { descriptor: l, label: `layer ${i + 1}/${layers.length}` }));
    if (!unique.has(config.digest)) unique.set(config.digest, { descriptor: config, label: 'config' });
    const items = [...unique.values()];
    this.options.onProgress?.({ kind: 'plan', items: items.map(({ descriptor, label }) => ({ item: descriptor.digest, label, total: descriptor.size })) });
    await forEachLimit(items, this.options.concurrency ?? DEFAULT_CONCURRENCY, async ({ descriptor, label }) => {
      const report = (done: number, outcome?: 'existed' | 'mounted' | 'uploaded'): void =>
        this.options.onProgress?.({ kind: 'item', item: descriptor.digest, label, done, total: descriptor.size, ...(outcome ? { outcome } : {}) });
      const outcome = await copyBlob(this.source, this.destination, descriptor, { ...this.call, onProgress: report });
      this.counts[outcome]++;
      if (outcome === 'uploaded') this.bytesUploaded += descriptor.size;
      report(descriptor.size, outcome);
    });
  }
}

/** One blob from a store to another: a cross-repository mount within one registry, else streamed (and verified). */
export function copyBlob(from: ImageStore, to: ImageStore, blob: Descriptor, options: PutBlobOptions = {}): Promise<PutBlobResult> {
  const sameRegistry = from.registry !== undefined && from.registry === to.registry;
  return to.putBlob(blob, () => from.getBlob(blob, options.signal ? { signal: options.signal } : {}), { ...options, ...(sameRegistry ? { mountFrom: from.repository! } : {}) });
}
