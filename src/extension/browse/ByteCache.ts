// File contents read from images, kept while the window is open so a file opened again costs no
// fetch; the least recently used go first once the total passes the cap.

export class ByteCache {
  private readonly entries = new Map<string, Uint8Array>();
  private total = 0;

  constructor(private readonly capacity: number) {}

  get(key: string): Uint8Array | undefined {
    const bytes = this.entries.get(key);
    if (bytes) {
      // Map order is insertion order: re-inserting marks it as the most recently used.
      this.entries.delete(key);
      this.entries.set(key, bytes);
    }
    return bytes;
  }

  set(key: string, bytes: Uint8Array): void {
    if (bytes.length > this.capacity) return;
    const old = this.entries.get(key);
    if (old) this.total -= old.length;
    this.entries.delete(key);
    this.entries.set(key, bytes);
    this.total += bytes.length;
    for (const [k, v] of this.entries) {
      if (this.total <= this.capacity) break;
      this.entries.delete(k);
      this.total -= v.length;
    }
  }
}
