// A three-layer image with what a real build leaves in its layers and a lazy format must carry
// through to the mounted snapshot: whiteouts of files and of a folder, opaque folders, hard links
// (several names for one file, within a layer), symlinks (relative, absolute, dangling, to a
// folder, with a long target), setuid/setgid/sticky and private modes, empty files, owners, nested
// and long paths, a non-ASCII name. A few MiB of incompressible data, spread over the layers, so
// the bytes fetched at mount are set against layers of some size.
import type { TarEntry } from '../../src/core/tar/writer.js';
import { writeImage, type ImageStore, type LayerInput, type WrittenImage } from '../../src/core/oci/index.js';
import { pseudoRandom } from '../../scripts/sampleImage.js';

const KiB = 1024;
const T0 = 1_700_000_000;

function dir(name: string, mode = 0o755, mtime = T0): TarEntry {
  return { name, type: 'directory', mode, mtime };
}

function text(name: string, body: string, mode = 0o644, mtime = T0 + 1): TarEntry {
  return { name, type: 'file', mode, mtime, content: Buffer.from(body) };
}

function data(name: string, size: number, mode = 0o644): TarEntry {
  return { name, type: 'file', mode, mtime: T0 + 2, content: { size, stream: () => pseudoRandom(name, size) } };
}

/** `.wh.<name>` in `parent`: the file or folder of a lower layer is deleted. */
function whiteout(parent: string, name: string): TarEntry {
  return { name: `${parent}/.wh.${name}`, type: 'file', mode: 0o644, mtime: T0 + 3 };
}

/** `.wh..wh..opq` in `parent`: the lower layers' content of the folder is hidden. */
function opaque(parent: string): TarEntry {
  return { name: `${parent}/.wh..wh..opq`, type: 'file', mode: 0o644, mtime: T0 + 3 };
}

const hardlink = (name: string, target: string): TarEntry => ({ name, type: 'hardlink', linkname: target, mtime: T0 + 2 });
const symlink = (name: string, target: string): TarEntry => ({ name, type: 'symlink', linkname: target, mode: 0o777, mtime: T0 + 4 });

const DEEP = 'usr/lib/deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/a-folder-with-a-long-name';

export function multiLayerLayers(): LayerInput[] {
  const base: TarEntry[] = [
    dir('etc'),
    text('etc/os-release', 'NAME="Lazy Images multi-layer test"\nID=lazyimg-multi\n'),
    text('etc/shadow', 'root:*:19000:0:99999:7:::\n', 0o600),
    text('etc/motd', ''),
    text('etc/issue', ''),
    symlink('etc/localtime', '/usr/share/zoneinfo/Etc/UTC'),
    dir('tmp', 0o1777),
    dir('usr'),
    dir('usr/bin'),
    data('usr/bin/tool', 384 * KiB, 0o755),
    // Three names for one file, one of them in another folder.
    hardlink('usr/bin/tool-alias', 'usr/bin/tool'),
    dir('usr/sbin', 0o750),
    hardlink('usr/sbin/tool-admin', 'usr/bin/tool'),
    { ...data('usr/bin/su', 48 * KiB, 0o4755), uid: 0, gid: 0 },
    { ...data('usr/bin/wall', 24 * KiB, 0o2755), gid: 5 },
    symlink('usr/bin/t', 'tool'),
    dir('usr/lib'),
    ...DEEP.split('/').slice(2).map((_, i, parts) => dir(['usr/lib', ...parts.slice(0, i + 1)].join('/'))),
    text(`${DEEP}/the-file-at-the-bottom-of-a-path-longer-than-one-hundred-bytes.txt`, 'deep\n'),
    symlink('usr/lib/to-the-bottom', `${DEEP}/the-file-at-the-bottom-of-a-path-longer-than-one-hundred-bytes.txt`),
    dir('usr/share'),
    dir('usr/share/doc'),
    ...Array.from({ length: 12 }, (_, i) => text(`usr/share/doc/page-${i}.txt`, `Page ${i}: ${'whiteouts hide what lower layers hold. '.repeat(30 + i)}\n`)),
    symlink('usr/share/docs', 'doc'),
    dir('var'),
    dir('var/cache'),
    dir('var/cache/app'),
    text('var/cache/app/a', 'a\n'),
    data('var/cache/app/b.bin', 96 * KiB),
    dir('var/cache/app/sub'),
    text('var/cache/app/sub/c', 'c\n'),
    dir('opt'),
    { ...dir('opt/data', 0o750), uid: 1000, gid: 1000 },
    { ...data('opt/data/blob.bin', 1536 * KiB, 0o640), uid: 1000, gid: 1000 },
    data('opt/data/old.bin', 256 * KiB),
    text('opt/data/données-é.txt', 'non-ASCII name\n'),
    // An empty file with two names.
    text('opt/data/empty', '', 0o600),
    hardlink('opt/data/empty-too', 'opt/data/empty'),
  ];
  const update: TarEntry[] = [
    dir('etc'),
    text('etc/os-release', 'NAME="Lazy Images multi-layer test"\nID=lazyimg-multi\nVERSION_ID=2\n', 0o644, T0 + 10),
    whiteout('etc', 'motd'),
    dir('usr'),
    dir('usr/share'),
    // The whole folder is deleted.
    whiteout('usr/share', 'doc'),
    whiteout('usr/share', 'docs'),
    dir('var'),
    dir('var/cache'),
    // What the folder held below is hidden; the folder starts over.
    dir('var/cache/app', 0o700),
    opaque('var/cache/app'),
    text('var/cache/app/fresh', 'fresh\n', 0o600),
    dir('opt'),
    { ...dir('opt/data', 0o750), uid: 1000, gid: 1000 },
    whiteout('opt/data', 'old.bin'),
    data('opt/data/model.bin', 1280 * KiB),
    hardlink('opt/data/model-link.bin', 'opt/data/model.bin'),
    hardlink('opt/data/model-link-2.bin', 'opt/data/model.bin'),
    dir('srv'),
    data('srv/site.tar', 512 * KiB, 0o444),
  ];
  const app: TarEntry[] = [
    dir('opt'),
    { ...dir('opt/data', 0o750), uid: 1000, gid: 1000 },
    whiteout('opt/data', 'model-link-2.bin'),
    dir('app'),
    // A folder new in this layer, marked opaque all the same (as some builders do).
    dir('app/static', 0o755, T0 + 20),
    opaque('app/static'),
    data('app/static/bundle.js', 640 * KiB),
    text('app/static/index.html', '<!doctype html><title>lazy</title>\n'),
    text('app/run.sh', '#!/bin/sh\nexec /usr/bin/tool "$@"\n', 0o755),
    hardlink('app/start.sh', 'app/run.sh'),
    text('app/secret.env', 'TOKEN=none\n', 0o400),
    text('app/.keep', ''),
    symlink('app/missing', '../nowhere/at/all'),
    dir('usr'),
    dir('usr/bin'),
    // A symlink of a lower layer replaced by a file.
    text('usr/bin/t', '#!/bin/sh\nexec tool "$@"\n', 0o755),
    whiteout('usr/bin', 'su'),
  ];
  return [
    { entries: base, createdBy: 'ADD rootfs.tar /' },
    { entries: update, createdBy: 'RUN update && cleanup' },
    { entries: app, createdBy: 'COPY app/ /app/' },
  ];
}

export function writeMultiLayerImage(store: ImageStore, tag: string): Promise<WrittenImage> {
  return writeImage(store, multiLayerLayers(), { tag, runtime: { Entrypoint: ['/app/run.sh'], WorkingDir: '/app' } });
}
