// What lazy file reads have fetched in this window, per layer: Open File (lazy) and the image file
// system both record here, and the image report shows it against each layer's size. A layer is
// counted per store (a registry repository or a layout), since a read fetched from that store.
// No vscode: plain listeners, so a hidden report can simply not listen.

export interface LayerReads {
  /** Compressed bytes fetched from the store for file contents. */
  bytes: number;
  reads: number;
}

type Listener = (store: string, digest: string) => void;

export class LazyReads {
  private readonly layers = new Map<string, LayerReads>();
  private readonly listeners = new Set<Listener>();

  /** One read of a file of `digest`, from the store named `store`, that fetched `bytes`. */
  record(store: string, digest: string, bytes: number): void {
    const key = `${store}\n${digest}`;
    const was = this.layers.get(key) ?? { bytes: 0, reads: 0 };
    this.layers.set(key, { bytes: was.bytes + bytes, reads: was.reads + 1 });
    for (const listener of this.listeners) listener(store, digest);
  }

  get(store: string, digest: string): LayerReads | undefined {
    return this.layers.get(`${store}\n${digest}`);
  }

  /** Calls `listener` after each read; the returned function stops it. */
  onRecord(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
