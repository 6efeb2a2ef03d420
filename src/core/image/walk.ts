// The one walk over an index tree: every index and manifest under a document, each child before
// the index that lists it (the order a copy writes them in), to a fixed depth.
import { LazyImageError, throwIfAborted } from '../errors.js';
import { MAX_INDEX_DEPTH } from '../limits.js';
import type { CallOptions, Descriptor, ImageStore, ManifestDocument } from '../oci/index.js';

export interface Walked {
  doc: ManifestDocument;
  /** The descriptor its parent index lists it with (platform, artifact type); none for the root. */
  listed?: Descriptor;
}

export interface WalkOptions extends CallOptions {
  /** A child that cannot be read: return true to go on without it, false to fail the walk. */
  skip?: (listed: Descriptor, error: unknown) => boolean;
}

/** Yields `root`'s descendants, then `root`, children before their index. */
export async function* walkIndex(store: ImageStore, root: ManifestDocument, options: WalkOptions = {}): AsyncGenerator<Walked> {
  yield* walk(store, { doc: root }, 0, options);
}

async function* walk(store: ImageStore, node: Walked, depth: number, options: WalkOptions): AsyncGenerator<Walked> {
  throwIfAborted(options.signal, store.name);
  const { doc } = node;
  if (doc.kind === 'index') {
    if (depth >= MAX_INDEX_DEPTH) throw new LazyImageError('INVALID_FORMAT', `${store.name}: indexes nested deeper than ${MAX_INDEX_DEPTH} (at ${doc.descriptor.digest})`, { ref: store.name });
    for (const listed of doc.index.manifests) {
      let child: ManifestDocument;
      try {
        child = await store.getManifest(listed, { signal: options.signal });
      } catch (e) {
        if (options.skip?.(listed, e)) continue;
        throw e;
      }
      yield* walk(store, { doc: child, listed }, depth + 1, options);
    }
  }
  yield node;
}
