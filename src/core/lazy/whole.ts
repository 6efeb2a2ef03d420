// The files of a layer no snapshotter can mount lazily, read the way it would be pulled: whole. One
// pass lists the entries; reading a file streams the layer again up to that file, so memory holds
// one file, never the layer, and copying a file holds neither.
import { throwIfAborted } from '../errors.js';
import { decompressed, wrapDecompressError } from '../estargz/index.js';
import type { CallOptions, Descriptor, ImageStore } from '../oci/index.js';
import { cleanEntryName, TarParser, type TarHeader } from '../tar/index.js';
import type { LayerCopy, LayerEntry, LayerRead, ReadRange } from './layer.js';
import { ListedLayer } from './listed.js';

const WHOLE = 'the whole layer (no eStargz TOC, no SOCI zTOC)';

export class WholeLayer extends ListedLayer {
  readonly via = 'whole layer';
  /** Each entry's place in the tar, to find its data again. */
  private readonly positions = new Map<LayerEntry, number>();

  private constructor(private readonly store: ImageStore, descriptor: Descriptor, where: string) {
    super(descriptor, where);
  }

  /** Lists the layer's entries, reading all of it once; `fetched` counts the bytes. */
  static async open(store: ImageStore, descriptor: Descriptor, where: string, options: CallOptions = {}): Promise<{ layer: WholeLayer; fetched: number }> {
    const layer = new WholeLayer(store, descriptor, where);
    let position = 0;
    const fetched = await layer.scan(options, (h) => {
      const entry: LayerEntry = { path: cleanEntryName(h.name), type: h.type, size: h.type === 'reg' ? h.size : 0, mode: h.mode, uid: h.uid, gid: h.gid, linkname: h.linkname };
      layer.positions.set(entry, position++);
      layer.add(entry);
      return false;
    });
    return { layer, fetched };
  }

  protected async readData(entry: LayerEntry, range: ReadRange, options: CallOptions): Promise<LayerRead> {
    const wanted = this.positions.get(entry);
    const parts: Buffer[] = [];
    let position = 0;
    let at = 0;
    let collecting = false;
    const end = range.offset + range.length;
    const fetched = await this.scan(options, () => {
      collecting = position++ === wanted;
      return wanted !== undefined && position > wanted + 1;
    }, (chunk) => {
      if (!collecting) return;
      const from = Math.max(range.offset - at, 0);
      const to = Math.min(end - at, chunk.length);
      if (to > from) parts.push(Buffer.from(chunk.subarray(from, to)));
      at += chunk.length;
    });
    return { bytes: Buffer.concat(parts), fetched, via: WHOLE };
  }

  /** Streams the layer up to the file and the file's bytes to `write`, a decompressed chunk at a time. */
  protected override async copyData(entry: LayerEntry, write: (chunk: Buffer) => Promise<void>, options: CallOptions): Promise<LayerCopy> {
    const wanted = this.positions.get(entry);
    let position = 0;
    let collecting = false;
    let length = 0;
    const ready: Buffer[] = [];
    const fetched = await this.scan(options, () => {
      collecting = position++ === wanted;
      return wanted !== undefined && position > wanted + 1;
    }, (chunk) => {
      if (collecting) ready.push(chunk);
    }, async () => {
      for (const chunk of ready.splice(0)) {
        length += chunk.length;
        await write(chunk);
      }
    });
    return { length, fetched, via: WHOLE };
  }

  /**
   * Streams the layer through the tar parser until `entry` returns true (asked at each header), the
   * tar ends or the layer does; `flush` runs after each decompressed chunk. Returns the compressed
   * bytes read.
   */
  private async scan(options: CallOptions, entry: (h: TarHeader) => boolean, data: (chunk: Buffer) => void = () => undefined, flush?: () => Promise<void>): Promise<number> {
    let fetched = 0;
    let stop = false;
    const parser = new TarParser({ entry: (h) => void (stop ||= entry(h)), data: (c) => stop || data(c) }, this.where);
    const { stream, compression } = await decompressed(await this.store.getBlob(this.descriptor, options), this.where, { onRead: (n) => (fetched = n), size: this.descriptor.size });
    try {
      for await (const chunk of stream) {
        throwIfAborted(options.signal, this.where);
        parser.push(chunk as Buffer);
        await flush?.();
        // What follows the end of the archive is not read, as Go's tar reader does not.
        if (stop || parser.ended) break;
      }
      if (!stop) parser.finish();
    } catch (e) {
      throw wrapDecompressError(e, this.where, compression);
    } finally {
      stream.destroy();
    }
    return fetched;
  }
}
