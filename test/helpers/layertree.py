"""Describes one layer's file tree as JSON,
{path: [type, mode, uid, gid, mtime, link, sha256, xattrs, links]}, either from its tar (Python's
tarfile, independent of our TypeScript reader) or from a folder (a snapshotter's FUSE mount of the
layer), so that the two can be compared. `links` is, for a regular file, [its link count, every
name of its inode sorted, or none when it has one name]; for anything else it is empty.

    layertree.py tar LAYER.tar[.gz] [OPAQUE_XATTR,...]   the layer as the snapshotters show it
    layertree.py dir ROOT                                the folder as it is

From the tar, the tree is what both daemons' FUSE layers show (stargz-snapshotter and
soci-snapshotter fs/layer/node.go), the form overlayfs stacks: `.wh.NAME` is NAME, a character
device 0:0 with permissions 0000, owner 0:0 and the whiteout entry's mtime; `.wh..wh..opq` is
hidden and its folder answers the opaque xattrs with "y". Which xattrs those are the daemon
chooses at start (trusted.overlay.opaque, or user.overlay.opaque where overlayfs needs its userxattr
option, as when rootless), so the caller names them (default trusted.overlay.opaque). A parent folder the tar does not record is a folder 0755, owner 0:0,
mtime Go's zero time; a hard link is its target's inode, so all its names share one entry.
"""
import hashlib
import json
import os
import stat
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor

GO_ZERO_TIME = -62135596800
OPAQUE = '.wh..wh..opq'
WHITEOUT = '.wh.'


def clean(name):
    name = name.lstrip('/')
    while name.startswith('./'):
        name = name[2:]
    name = name.rstrip('/')
    return '' if name == '.' else name


def from_tar(path, opaque_xattrs):
    entries, xattrs, links = {}, {}, []
    with tarfile.open(path, 'r:*') as tar:
        for ti in tar:
            name = clean(ti.name)
            if not name:
                continue
            parent, base = os.path.split(name)
            if base == OPAQUE:
                xattrs.setdefault(parent, {}).update({key: '79' for key in opaque_xattrs})  # hex of "y"
                continue
            if base.startswith(WHITEOUT):
                hidden = os.path.join(parent, base[len(WHITEOUT):])
                entries[hidden] = ['char', 0, 0, 0, int(ti.mtime), '0:0', '', {}, []]
                continue
            own = {k[len('SCHILY.xattr.'):]: v.encode('utf-8', 'surrogateescape').hex()
                   for k, v in ti.pax_headers.items() if k.startswith('SCHILY.xattr.')}
            if own:
                xattrs.setdefault(name, {}).update(own)
            mtime = int(ti.mtime // 1)
            if ti.islnk():
                links.append((name, clean(ti.linkname)))
            elif ti.isreg():
                digest = hashlib.sha256()
                f = tar.extractfile(ti)
                for chunk in iter(lambda: f.read(1 << 20), b''):
                    digest.update(chunk)
                entries[name] = ['reg', ti.mode & 0o7777, ti.uid, ti.gid, mtime, '', digest.hexdigest(), {}, [1, []]]
            elif ti.isdir():
                entries[name] = ['dir', ti.mode & 0o7777, ti.uid, ti.gid, mtime, '', '', {}, []]
            elif ti.issym():
                entries[name] = ['symlink', ti.mode & 0o7777, ti.uid, ti.gid, mtime, ti.linkname, '', {}, []]
            elif ti.ischr() or ti.isblk():
                kind = 'char' if ti.ischr() else 'block'
                entries[name] = [kind, ti.mode & 0o7777, ti.uid, ti.gid, mtime, f'{ti.devmajor}:{ti.devminor}', '', {}, []]
            elif ti.isfifo():
                entries[name] = ['fifo', ti.mode & 0o7777, ti.uid, ti.gid, mtime, '', '', {}, []]
    groups = {}
    for name, target in links:
        if target in entries:
            entries[name] = list(entries[target])
            xattrs.setdefault(name, {}).update(xattrs.get(target, {}))
            groups.setdefault(target, [target]).append(name)
    for names in groups.values():
        for name in names:
            entries[name][8] = [len(names), sorted(names)]
    for name in list(entries):
        parent = os.path.dirname(name)
        while parent and parent not in entries:
            entries[parent] = ['dir', 0o755, 0, 0, GO_ZERO_TIME, '', '', {}, []]
            parent = os.path.dirname(parent)
    for name, attrs in xattrs.items():
        if name in entries:
            entries[name][7] = dict(sorted(attrs.items()))
    return entries


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def from_dir(root):
    entries, files, inodes = {}, [], {}
    stack = ['']
    while stack:
        rel = stack.pop()
        for d in os.scandir(os.path.join(root, rel)):
            name = os.path.join(rel, d.name)
            st = d.stat(follow_symlinks=False)
            mode, mtime = st.st_mode & 0o7777, st.st_mtime_ns // 1_000_000_000
            fmt = stat.S_IFMT(st.st_mode)
            kind = {stat.S_IFREG: 'reg', stat.S_IFDIR: 'dir', stat.S_IFLNK: 'symlink', stat.S_IFCHR: 'char',
                    stat.S_IFBLK: 'block', stat.S_IFIFO: 'fifo'}.get(fmt, 'other')
            link = ''
            if kind == 'symlink':
                link = os.readlink(d.path)
            elif kind in ('char', 'block'):
                link = f'{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}'
            attrs = {}
            try:
                for key in os.listxattr(d.path, follow_symlinks=False):
                    attrs[key] = os.getxattr(d.path, key, follow_symlinks=False).hex()
            except OSError:
                pass
            entries[name] = [kind, mode, st.st_uid, st.st_gid, mtime, link, '', dict(sorted(attrs.items())), []]
            if kind == 'dir':
                stack.append(name)
            elif kind == 'reg':
                files.append(name)
                entries[name][8] = [st.st_nlink, []]
                inodes.setdefault(st.st_ino, []).append(name)
    for names in inodes.values():
        if len(names) > 1:
            for name in names:
                entries[name][8][1] = sorted(names)
    # Reading through FUSE waits on the network: read several files at a time.
    with ThreadPoolExecutor(max_workers=8) as pool:
        for name, digest in zip(files, pool.map(lambda n: sha256_file(os.path.join(root, n)), files)):
            entries[name][6] = digest
    return entries


if __name__ == '__main__':
    mode, target = sys.argv[1], sys.argv[2]
    opaque_xattrs = sys.argv[3].split(',') if len(sys.argv) > 3 else ['trusted.overlay.opaque']
    tree = from_tar(target, opaque_xattrs) if mode == 'tar' else from_dir(target)
    json.dump(dict(sorted(tree.items())), sys.stdout)
