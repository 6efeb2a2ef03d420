// The digests a TOC records for a regular file: of the whole payload, and of each chunk.
import { createHash, type Hash } from 'node:crypto';

/** Fed a file's payload in order, in parts of any size. A file of one chunk is hashed once. */
export class FileDigests {
  private readonly whole = createHash('sha256');
  private current: Hash | undefined;
  private inChunk = 0;
  private readonly chunks: string[] = [];

  constructor(private readonly size: number, private readonly chunkSize: number) {
    if (size > chunkSize) this.current = createHash('sha256');
  }

  update(data: Buffer): void {
    this.whole.update(data);
    if (!this.current) return;
    for (let at = 0; at < data.length;) {
      const take = Math.min(this.chunkSize - this.inChunk, data.length - at);
      this.current.update(data.subarray(at, at + take));
      this.inChunk += take;
      at += take;
      if (this.inChunk === this.chunkSize) this.closeChunk();
    }
  }

  /** `sha256:` digests of the whole payload and of each chunk (no chunk for an empty file). */
  finish(): { digest: string; chunkDigests: string[] } {
    const digest = `sha256:${this.whole.digest('hex')}`;
    if (!this.current) return { digest, chunkDigests: this.size > 0 ? [digest] : [] };
    if (this.inChunk > 0) this.closeChunk();
    return { digest, chunkDigests: this.chunks };
  }

  private closeChunk(): void {
    this.chunks.push(`sha256:${this.current!.digest('hex')}`);
    this.current = createHash('sha256');
    this.inChunk = 0;
  }
}
