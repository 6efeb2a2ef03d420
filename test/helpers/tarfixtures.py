#!/usr/bin/env python3
"""Tar archives for the eStargz tests, made and read with Python's tarfile: a producer and a
reader independent of ours.

  tarfixtures.py make <case>   writes the archive of <case> to stdout
  tarfixtures.py dump          reads a tar (or a gzip of one, multi-member too) on stdin and prints
                               one JSON object per entry: name, type, mode, ids, names, mtime,
                               link target, device numbers, xattrs (base64) and a sha256 of the data
"""
import base64
import gzip
import hashlib
import io
import json
import random
import sys
import tarfile

MIB = 1024 * 1024
MTIME = 1700000000


def add(tar, name, data=None, kind=tarfile.REGTYPE, **fields):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mtime = fields.pop("mtime", MTIME)
    info.mode = fields.pop("mode", 0o755 if kind == tarfile.DIRTYPE else 0o644)
    for key, value in fields.items():
        setattr(info, key, value)
    if data is not None:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def noise(n, seed):
    return random.Random(seed).randbytes(n)


def edge(fmt, duplicates=True):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        add(tar, "./", kind=tarfile.DIRTYPE)
        add(tar, "app/", kind=tarfile.DIRTYPE)
        add(tar, "app/bin/", kind=tarfile.DIRTYPE)
        add(tar, "app/bin/server", b"#!/bin/sh\necho serving\n", mode=0o755, uid=1000, gid=1000, uname="app", gname="app")
        add(tar, "app/bin/server-link", kind=tarfile.LNKTYPE, linkname="app/bin/server", mode=0o755, uid=1000, gid=1000, uname="app", gname="app")
        add(tar, "app/empty", b"")
        add(tar, "app/exact-4mib", noise(4 * MIB, 1))
        add(tar, "app/4mib-plus-1", noise(4 * MIB + 1, 2))
        add(tar, "app/text", b"hello eStargz\n" * 5000, uid=2000, gid=2000, uname="other", gname="others")
        add(tar, "app/" + "n" * 196, b"a name of 200 characters\n")
        add(tar, "app/données/文件.txt", "unicode ✓\n".encode())
        add(tar, "app/link-to-text", kind=tarfile.SYMTYPE, linkname="text", mode=0o777)
        add(tar, "app/long-link", kind=tarfile.SYMTYPE, linkname="../" + "t" * 150, mode=0o777)
        if fmt == tarfile.PAX_FORMAT:
            info = tarfile.TarInfo("app/with-xattrs")
            info.size = 6
            info.mtime = MTIME
            info.mode = 0o600
            info.pax_headers = {"SCHILY.xattr.user.comment": "hello", "SCHILY.xattr.user.note": "ünïcode"}
            tar.addfile(info, io.BytesIO(b"xattr\n"))
        # PAX records in one format, base-256 numbers in the other.
        add(tar, "app/big-ids", b"ids\n", uid=3000000, gid=3000001)
        add(tar, "dev/", kind=tarfile.DIRTYPE)
        add(tar, "dev/null", kind=tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
        add(tar, "dev/sda", kind=tarfile.BLKTYPE, devmajor=8, devminor=0, mode=0o660)
        add(tar, "dev/fifo", kind=tarfile.FIFOTYPE, mode=0o600)
        add(tar, "etc/", kind=tarfile.DIRTYPE)
        add(tar, "etc/.wh.removed", b"")
        add(tar, "etc/opaque/", kind=tarfile.DIRTYPE)
        add(tar, "etc/opaque/.wh..wh..opq", b"")
        if duplicates:
            add(tar, "etc/dup", b"first version\n")
            add(tar, "./etc/dup2", b"first dup2\n")
            add(tar, "etc/dup", b"second version, kept\n")
            add(tar, "etc/dup2", b"second dup2, kept\n")
        add(tar, "etc/old-mtime", b"old\n", mtime=1)
    return out.getvalue()


def usrmerged():
    """A usr-merged root as Debian ships it: /bin, /lib and /sbin are links into /usr."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add(tar, "./", kind=tarfile.DIRTYPE)
        add(tar, "bin", kind=tarfile.SYMTYPE, linkname="usr/bin", mode=0o777)
        add(tar, "etc/", kind=tarfile.DIRTYPE)
        add(tar, "etc/os-release", b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
        add(tar, "lib", kind=tarfile.SYMTYPE, linkname="usr/lib", mode=0o777)
        add(tar, "sbin", kind=tarfile.SYMTYPE, linkname="usr/sbin", mode=0o777)
        add(tar, "usr/", kind=tarfile.DIRTYPE)
        add(tar, "usr/bin/", kind=tarfile.DIRTYPE)
        add(tar, "usr/bin/bash", noise(300000, 3), mode=0o755)
        add(tar, "usr/bin/sh", kind=tarfile.SYMTYPE, linkname="bash", mode=0o777)
        add(tar, "usr/lib/", kind=tarfile.DIRTYPE)
        add(tar, "usr/lib/libc.so.6", noise(200000, 4), mode=0o755)
        add(tar, "usr/sbin/", kind=tarfile.DIRTYPE)
        add(tar, "usr/share/doc/readme", b"documentation\n" * 1000)
    return out.getvalue()


def empty():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT):
        pass
    return out.getvalue()


def big(n):
    """n MiB of files of varied sizes and compressibility, for chunk and memory tests."""
    out = io.BytesIO()
    rng = random.Random(7)
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add(tar, "data/", kind=tarfile.DIRTYPE)
        total, i = 0, 0
        while total < n * MIB:
            size = rng.choice([0, 100, 5000, 70000, 1 * MIB, 9 * MIB])
            data = noise(size, i) if i % 2 else (b"text %d\n" % i) * (size // 8)
            add(tar, "data/f%05d" % i, data)
            total += len(data)
            i += 1
    return out.getvalue()


def words(n, seed):
    """n bytes of lines of words: compressible as prose is, with deflate blocks of tens of KiB."""
    rng = random.Random(seed)
    vocabulary = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(2000)]
    out = bytearray()
    while len(out) < n:
        out += b" ".join(rng.choice(vocabulary) for _ in range(rng.randint(4, 14))) + b"\n"
    return bytes(out[:n])


def mixed(n):
    """n MiB of files of prose and of noise, with directories, links and owners: a layer as images have."""
    out = io.BytesIO()
    rng = random.Random(11)
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add(tar, "usr/", kind=tarfile.DIRTYPE)
        add(tar, "usr/bin/", kind=tarfile.DIRTYPE)
        add(tar, "usr/share/doc/", kind=tarfile.DIRTYPE, mode=0o775, uid=0, gid=50, gname="staff")
        add(tar, "usr/bin/env", noise(30000, 1), mode=0o755)
        add(tar, "usr/bin/printenv", kind=tarfile.LNKTYPE, linkname="usr/bin/env", mode=0o755)
        add(tar, "usr/bin/sh", kind=tarfile.SYMTYPE, linkname="dash", mode=0o777)
        total, i = 0, 0
        while total < n * MIB:
            size = rng.choice([0, 900, 20000, 150000, 400000])
            data = noise(size, i) if i % 4 == 3 else words(size, i)
            add(tar, "usr/share/doc/page%03d.txt" % i, data, uid=1000, gid=1000, uname="doc", gname="doc")
            total += len(data)
            i += 1
    return out.getvalue()


CASES = {
    "edge": lambda: edge(tarfile.PAX_FORMAT),
    "gnu": lambda: edge(tarfile.GNU_FORMAT),
    # No path twice: converted in one pass (duplicates need two).
    "plain": lambda: edge(tarfile.PAX_FORMAT, duplicates=False),
    "empty": empty,
    "usrmerged": usrmerged,
    "big": lambda: big(int(sys.argv[3]) if len(sys.argv) > 3 else 64),
    "mixed": lambda: mixed(int(sys.argv[3]) if len(sys.argv) > 3 else 4),
}


def dump():
    data = sys.stdin.buffer.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    kinds = {tarfile.REGTYPE: "reg", tarfile.AREGTYPE: "reg", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink",
             tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for info in tar:
            content = tar.extractfile(info).read() if info.isreg() else b""
            xattrs = {k[len("SCHILY.xattr."):]: base64.b64encode(v.encode("utf-8", "surrogateescape")).decode()
                      for k, v in info.pax_headers.items() if k.startswith("SCHILY.xattr.")}
            print(json.dumps({
                "name": info.name, "type": kinds.get(info.type, info.type.decode()), "mode": info.mode,
                "uid": info.uid, "gid": info.gid, "uname": info.uname, "gname": info.gname, "mtime": int(info.mtime),
                "linkname": info.linkname, "devmajor": info.devmajor, "devminor": info.devminor, "xattrs": xattrs,
                "size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
            }, ensure_ascii=False))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        sys.stdout.buffer.write(CASES[sys.argv[2]]())
    elif sys.argv[1] == "dump":
        dump()
    else:
        sys.exit("usage: tarfixtures.py make <case> | dump")
