// Reading one file of an eStargz image lazily (`lazyimg cat`, and Open File (lazy) in the editor):
// only the gzip members that hold its chunks are fetched, each chunk is checked against its
// digest, and the bytes are the tar's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convertImage } from '../../../src/core/jobs/index.js';
import { writeImage } from '../../../src/core/oci/index.js';
import { tempLayout } from '../../helpers/images.js';
import { makeTar } from './helpers.js';
import { run } from '../helpers/proc.js';
import { catBytes } from '../helpers/cat.js';

/** A file's bytes in a tar, as Python's tarfile reads them. */
async function fromTar(tar: Buffer, name: string): Promise<Buffer> {
  const script = 'import io,sys,tarfile; t=tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read())); sys.stdout.buffer.write(t.extractfile(sys.argv[1]).read())';
  const r = await run('python3', ['-c', script, name], { input: tar });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

describe('cat through eStargz chunks', () => {
  it('fetches only the members of the file, all its chunks, digest-checked, the same bytes as the tar', async () => {
    const tar = (await makeTar('plain'))!;
    const store = await tempLayout('lazyimg-estargz-cat-');
    await writeImage(store, [{ tar }], { tag: 'v1' });
    await convertImage(store, 'v1', store, 'esgz', { chunkSize: 1024 * 1024 });
    const small = await catBytes(store, 'esgz', '/app/text');
    assert.equal(small.via, 'estargz');
    assert.ok(small.bytes.equals(await fromTar(tar, 'app/text')));
    const big = await catBytes(store, 'esgz', '/app/4mib-plus-1');
    assert.ok(big.bytes.equals(await fromTar(tar, 'app/4mib-plus-1')), 'five 1 MiB chunks, put back together');
    assert.ok(small.fetched < big.fetched / 10, `${small.fetched} bytes for a small file, ${big.fetched} for 4 MiB`);
    const link = await catBytes(store, 'esgz', '/app/link-to-text');
    assert.ok(link.bytes.equals(small.bytes), 'a symbolic link is followed');
  });
});
