// 200 random (seeded) mutations of a real zTOC, each re-addressed so that every digest matches
// (zTOC blob, SOCI index manifest, the image manifest's index-digest annotation), then verified
// with --deep. Every mutation that changes a decoded field must be caught, and the deep problem
// must name the field that changed first. A mutation that leaves the decoded zTOC identical must
// be accepted: soci-snapshotter reads the zTOC through the same flatbuffer offsets we decode, so a
// byte that no field reaches (padding, the vtable's object-size field, bytes after the buffer)
// changes nothing it reads. The counts are printed per kind of mutation and per outcome.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyImage } from '../../src/core/jobs/index.js';
import type { OciLayoutStore } from '../../src/core/oci/index.js';
import { decodeGzipZinfo, WINDOW_SIZE } from '../../src/core/soci/zinfo.js';
import { decodeZtoc, type Ztoc, type ZtocEntry } from '../../src/core/soci/ztoc.js';
import { tempLayout } from '../helpers/images.js';
import { sociImage, withZtocBytes, type SociImage } from '../helpers/sociImage.js';
import { makeTar } from '../unit/estargz/helpers.js';

const SPAN = 64 * 1024;
const MUTATIONS = 200;
const SEED = 0x50c1;
const RECORD = 8 + 8 + 1 + WINDOW_SIZE;

/** mulberry32: a small seeded generator, so a failing mutation can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = 'bit in the tables' | 'bit in the checkpoint header' | 'bit in a checkpoint record' | 'bit in a window' | 'zeroed window' | 'bytes after the end' | 'random byte anywhere';
const KINDS: Array<[Kind, number]> = [
  ['bit in the tables', 45], ['bit in the checkpoint header', 5], ['bit in a checkpoint record', 15], ['bit in a window', 15],
  ['zeroed window', 5], ['bytes after the end', 5], ['random byte anywhere', 10],
];

/** The first decoded field that differs, in the order the deep check compares, and a pattern its problem must match. */
function firstChange(was: Ztoc, is: Ztoc): { field: string; problem: RegExp } | undefined {
  for (const key of ['version', 'buildToolIdentifier', 'compressedArchiveSize', 'uncompressedArchiveSize', 'compressionAlgorithm'] as const) {
    if (was[key] !== is[key]) return { field: key, problem: /^zTOC (version|build tool|compressed size|uncompressed size|compression) is / };
  }
  for (let i = 0; i < Math.max(was.entries.length, is.entries.length); i++) {
    const [a, b] = [was.entries[i], is.entries[i]];
    if (!a || !b) return { field: 'entry count', problem: /^zTOC (entry \d+ .* is not in the layer|leaves out tar entry)/ };
    if (a.name !== b.name) return { field: 'entry name', problem: new RegExp(`^zTOC entry ${i}: name is `) };
    const names: Array<[keyof ZtocEntry, string]> = [['type', 'type'], ['uncompressedOffset', 'offset'], ['uncompressedSize', 'size'], ['linkname', 'link name'], ['mode', 'mode'],
      ['uid', 'uid'], ['gid', 'gid'], ['uname', 'user name'], ['gname', 'group name'], ['modTime', 'modification time'], ['devmajor', 'device major'], ['devminor', 'device minor']];
    for (const [key, word] of names) if (a[key] !== b[key]) return { field: `entry ${word}`, problem: new RegExp(`^zTOC entry ${JSON.stringify(a.name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${word} is `) };
    if (!isDeepStrictEqual(a.pax, b.pax)) return { field: 'entry PAX record', problem: /^zTOC entry .*: PAX record / };
  }
  if (was.maxSpanId !== is.maxSpanId) return { field: 'span count', problem: /^zTOC has \d+ spans/ };
  for (let i = 0; i < was.spanDigests.length; i++) if (was.spanDigests[i] !== is.spanDigests[i]) return { field: 'span digest', problem: new RegExp(`^span ${i}: digest is `) };
  if (!was.checkpoints.equals(is.checkpoints)) {
    const [a, b] = [decodeGzipZinfo(was.checkpoints, 'was'), decodeGzipZinfo(is.checkpoints, 'is')];
    if (a.spanSize !== b.spanSize) return { field: 'checkpoint span size', problem: /^zTOC checkpoints record span size / };
    for (let i = 0; i < a.checkpoints.length; i++) {
      const [x, y] = [a.checkpoints[i]!, b.checkpoints[i]!];
      if (x.in !== y.in || x.out !== y.out || x.bits !== y.bits) return { field: 'checkpoint offsets', problem: new RegExp(`^span ${i}: checkpoint (compressed offset|uncompressed offset|unused bits) is `) };
      if (!x.window.equals(y.window)) return { field: 'checkpoint window', problem: new RegExp(`^span ${i}: checkpoint window differs .*: the span (inflates to wrong bytes|still inflates to the right bytes)`) };
    }
  }
  return undefined;
}

/**
 * Why a mutation inside the buffer that decodes the same is right to accept: the byte it changed
 * is one no field depends on, whatever its value. Found so far: a string's NUL terminator
 * (flatbuffer readers, Go's too, go by the length prefix) and the alignment padding between objects.
 */
let unreadByte: (mutated: Buffer) => string;

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

describe('200 seeded mutations of a real zTOC, every digest fixed up', { timeout: 900_000 }, () => {
  let store: OciLayoutStore;
  let fixture: SociImage;
  let original: Ztoc;
  /** Where the checkpoint blob lies in the zTOC's bytes. */
  let zinfoAt: number;

  before(async () => {
    store = await tempLayout('lazyimg-ztoc-mutations-');
    fixture = await sociImage(store, await makeTar('mixed', '3'), SPAN);
    original = decodeZtoc(fixture.ztocBytes, 'ztoc');
    zinfoAt = fixture.ztocBytes.indexOf(original.checkpoints);
    assert.ok(zinfoAt > 0 && fixture.ztocBytes.indexOf(original.checkpoints, zinfoAt + 1) < 0, 'the checkpoint blob is found once');
    assert.ok(original.maxSpanId >= 20, `${original.maxSpanId + 1} spans`);
    unreadByte = (mutated) => {
      const bytes = fixture.ztocBytes;
      const at = mutated.findIndex((b, i) => b !== bytes[i]);
      for (let v = 0; v < 256; v++) {
        const b = Buffer.from(bytes);
        b[at] = v;
        assert.ok(isDeepStrictEqual(decodeZtoc(b, 'probe'), original), `byte ${at} = ${v} changes the decoded zTOC`);
      }
      // A string is a 32-bit length, its bytes, then a NUL no reader looks at.
      for (let p = at - 4; p >= Math.max(0, at - 4 - 4096); p--) {
        const length = at - p - 4;
        if (p % 4 === 0 && length > 0 && bytes.readUInt32LE(p) === length && !bytes.subarray(p + 4, at).includes(0)) return 'a string\'s NUL terminator (readers go by its length prefix); all 256 values decode the same';
      }
      return 'alignment padding between objects, which no offset points into; all 256 values decode the same';
    };
  });

  after(async () => {
    await rm(store.dir, { recursive: true, force: true });
  });

  it('catches every mutation that changes a decoded field, and accepts only those that change none', async () => {
    const next = random(SEED);
    const int = (n: number): number => Math.floor(next() * n);
    const bytes = fixture.ztocBytes;
    const checkpoints = original.maxSpanId + 1;
    const weights = KINDS.reduce((n, [, w]) => n + w, 0);
    const pickKind = (): Kind => {
      let r = int(weights);
      for (const [kind, w] of KINDS) if ((r -= w) < 0) return kind;
      throw new Error('unreachable');
    };
    const flip = (b: Buffer, at: number): Buffer => {
      b[at]! ^= 1 << int(8);
      return b;
    };
    const mutate = (kind: Kind): { mutated: Buffer; at: string } => {
      const b = Buffer.from(bytes);
      const record = (k: number): number => zinfoAt + 12 + k * RECORD;
      switch (kind) {
        case 'bit in the tables': {
          // Everything outside the checkpoint blob: tables, vtables, strings, vectors, padding.
          let at = int(bytes.length - original.checkpoints.length);
          if (at >= zinfoAt) at += original.checkpoints.length;
          return { mutated: flip(b, at), at: `byte ${at}` };
        }
        case 'bit in the checkpoint header': {
          const at = zinfoAt + int(12);
          return { mutated: flip(b, at), at: `byte ${at}` };
        }
        case 'bit in a checkpoint record': {
          const k = int(checkpoints);
          return { mutated: flip(b, record(k) + int(17)), at: `checkpoint ${k}` };
        }
        case 'bit in a window': {
          const k = int(checkpoints);
          return { mutated: flip(b, record(k) + 17 + int(WINDOW_SIZE)), at: `window ${k}` };
        }
        case 'zeroed window': {
          const k = 1 + int(checkpoints - 1); // checkpoint 0's window is zeros already
          b.fill(0, record(k) + 17, record(k) + RECORD);
          return { mutated: b, at: `window ${k}` };
        }
        case 'bytes after the end':
          return { mutated: Buffer.concat([b, Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)))]), at: 'the end' };
        case 'random byte anywhere': {
          const at = int(b.length);
          const value = (b[at]! + 1 + int(255)) & 0xff;
          b[at] = value;
          return { mutated: b, at: `byte ${at}` };
        }
      }
    };

    const table = new Map<string, number>();
    const count = (key: string): void => void table.set(key, (table.get(key) ?? 0) + 1);
    const totals = { made: 0, changed: 0, undecodable: 0, caught: 0, caughtAtMount: 0, accepted: 0 };
    const acceptedWhy = new Map<string, number>();
    for (let n = 0; n < MUTATIONS; n++) {
      const kind = pickKind();
      const { mutated, at } = mutate(kind);
      totals.made++;
      // Decoded as far as a reader goes: the flatbuffer, then the checkpoints it holds.
      let decoded: Ztoc | undefined;
      try {
        decoded = decodeZtoc(mutated, 'mutant');
        decodeGzipZinfo(decoded.checkpoints, 'mutant');
      } catch {
        decoded = undefined;
      }
      const change = decoded && firstChange(original, decoded);
      await withZtocBytes(store, fixture, mutated, 'mutant');
      const plain = await verifyImage(store, 'mutant');
      const deep = await verifyImage(store, 'mutant', { deep: true });
      const problems = deep.layers[0]!.soci?.problems ?? [];
      const label = `mutation ${n} (${kind} at ${at})`;
      assert.equal(deep.soci.length, 1, `${label}: the index is found`);
      assert.deepEqual(deep.problems, [], `${label}: every digest matches`);
      if (!decoded) {
        totals.undecodable++;
        assert.equal(plain.ok, false, `${label}: a zTOC that does not decode is refused`);
        assert.equal(deep.ok, false, label);
        count(`${kind} → does not decode (refused by plain verify too)`);
      } else if (!change) {
        // The same zTOC as decoded: nothing the snapshotter reads changed.
        assert.ok(isDeepStrictEqual(decoded, original), `${label}: decodes to the same zTOC`);
        assert.equal(deep.ok, true, `${label}: ${problems.join('; ')}`);
        totals.accepted++;
        const why = kind === 'bytes after the end' ? 'bytes after the flatbuffer, which no offset reaches' : unreadByte(mutated);
        acceptedWhy.set(why, (acceptedWhy.get(why) ?? 0) + 1);
        count(`${kind} → same decoded zTOC, accepted`);
      } else {
        totals.changed++;
        assert.equal(deep.ok, false, `${label}: changed ${change.field} but deep verify accepted it`);
        totals.caught++;
        if (plain.ok) {
          assert.match(problems[0]!, change.problem, `${label}: changed ${change.field}; the deep problem should say so`);
          count(`${kind} → ${change.field}, caught by deep only`);
        } else {
          totals.caughtAtMount++;
          count(`${kind} → ${change.field}, caught by plain verify too`);
        }
      }
      await rm(join(store.dir, 'blobs', 'sha256', deep.layers[0]!.soci?.ztoc.slice(7) ?? 'none'), { force: true });
    }
    const lines = [...table].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `  ${String(n).padStart(3)}  ${key}`);
    console.log([
      `zTOC mutations (seed ${SEED}): ${totals.made} made; ${totals.undecodable} no longer decode; ${totals.changed} change a decoded field, ${totals.caught} caught`
      + ` (${totals.caughtAtMount} by plain verify too, ${totals.caught - totals.caughtAtMount} by deep only); ${totals.accepted} decode identically and are accepted:`,
      ...[...acceptedWhy].map(([why, n]) => `       ${n} × ${why}`),
      ...lines,
    ].join('\n'));
    assert.equal(totals.made, MUTATIONS);
    assert.equal(totals.caught, totals.changed);
  });
});
