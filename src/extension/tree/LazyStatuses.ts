// Whether each image row is lazy, so the tree says it without being expanded: read in the
// background for the first rows of a listing the tree draws (a few at a time, top first; each read
// is a few manifest requests, which Docker Hub counts against its pull limit), kept until a
// refresh, and replaced by what expanding the image reads anyway.
import { describeError } from '../../core/errors.js';
import { imageLaziness, summarizeLaziness, type ImageLaziness, type LazinessSummary, type Stores } from '../../core/image/index.js';
import type { ImageReference } from '../../core/oci/index.js';

const AT_ONCE = 3;

export type LazyStatus =
  | { kind: 'loading' }
  | { kind: 'known'; summary: LazinessSummary; image: ImageLaziness }
  | { kind: 'failed'; message: string };

export class LazyStatuses {
  private readonly statuses = new Map<string, LazyStatus>();
  private readonly waiting: Array<{ id: string; ref: ImageReference }> = [];
  private running = 0;

  /** `changed` is told the id of a row whose status arrived. */
  constructor(private readonly stores: () => Stores, private readonly changed: (id: string) => void) {}

  /** The row's status as it stands; with `read`, the first look queues it to be read. */
  get(id: string, ref: ImageReference, read: boolean): LazyStatus | undefined {
    let status = this.statuses.get(id);
    if (!status && read) {
      status = { kind: 'loading' };
      this.statuses.set(id, status);
      this.waiting.push({ id, ref });
      this.next();
    }
    return status;
  }

  /** What expanding the image read: no need to read it again. The row is redrawn only when its
   *  status changes, since redrawing a row lists its children again, which calls this again. */
  set(id: string, image: ImageLaziness): void {
    const before = this.statuses.get(id);
    const summary = summarizeLaziness(image);
    this.statuses.set(id, { kind: 'known', summary, image });
    if (before?.kind !== 'known' || before.summary.text !== summary.text) this.changed(id);
  }

  /** Forgets the statuses of a row and everything below it (all of them without an id). */
  forget(id?: string): void {
    for (const key of [...this.statuses.keys()]) {
      if (id === undefined || key === id || key.startsWith(`${id}/`)) this.statuses.delete(key);
    }
  }

  private next(): void {
    while (this.running < AT_ONCE && this.waiting.length) {
      const { id, ref } = this.waiting.shift()!; // in the order the rows were drawn: top first
      if (this.statuses.get(id)?.kind !== 'loading') continue; // forgotten, or set by an expansion
      this.running++;
      void this.read(ref).then((status) => {
        if (this.statuses.get(id)?.kind !== 'loading') return;
        this.statuses.set(id, status);
        this.changed(id);
      }).finally(() => {
        this.running--;
        this.next();
      });
    }
  }

  private async read(ref: ImageReference): Promise<LazyStatus> {
    try {
      const image = await imageLaziness(await this.stores().open(ref), ref.digest ?? ref.tag);
      return { kind: 'known', summary: summarizeLaziness(image), image };
    } catch (e) {
      return { kind: 'failed', message: describeError(e) };
    }
  }
}
