// What a job stored in a store, so that one that fails or is cancelled can say what it leaves
// there. Jobs write blobs first and manifests last, so that is usually content-addressed blobs
// only: harmless, and reused by the next attempt. Blobs the store had already are not counted.
import type { Descriptor } from './types.js';
import type { ImageStore, PutBlobResult } from './store.js';

export interface WrittenContent {
  digest: string;
  size: number;
  mediaType: string;
  /** A manifest written with a tag. */
  tag?: string;
}

/** `store`, noting in `written` each blob it stores (or mounts) and each manifest it writes. */
export function recordWrites(store: ImageStore, written: WrittenContent[]): ImageStore {
  const blob = (d: Descriptor, how: PutBlobResult): PutBlobResult => {
    if (how !== 'existed') written.push({ digest: d.digest, size: d.size, mediaType: d.mediaType });
    return how;
  };
  const adopt = store.adoptBlobFile?.bind(store);
  const own: Partial<ImageStore> = {
    putBlob: async (d, open, options) => blob(d, await store.putBlob(d, open, options)),
    putManifest: async (bytes, mediaType, tag, options) => {
      const d = await store.putManifest(bytes, mediaType, tag, options);
      written.push({ digest: d.digest, size: d.size, mediaType: d.mediaType, ...(tag !== undefined ? { tag } : {}) });
      return d;
    },
    // Left undefined when the store has none: callers test for it.
    adoptBlobFile: adopt && (async (d, file, options) => blob(d, await adopt(d, file, options))),
  };
  return new Proxy(store, {
    get(target, key) {
      if (key in own) return own[key as keyof ImageStore];
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
