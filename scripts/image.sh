#!/usr/bin/env bash
# `npm run image`: the lazyimg CLI as an OCI image, built offline with umoci, as root.
#
#   base   Debian bookworm from debootstrap --variant=minbase, made once and kept as an OCI layout
#          in $LAZYIMG_CACHE/minbase-bookworm (tag bookworm); only that step needs the Debian mirror.
#   layer  this machine's node (a Debian 12 build like the base, so glibc matches), the production
#          bundles the CLI loads (cli.js and the two worker-thread scripts it starts by path from its
#          own folder) in /opt/lazyimg, and a passwd entry for uid 65532 so the CLI has a home.
#
# Out: build/image/layout (OCI layout, tag <version>) and build/image/lazyimg-oci.tar (the same as
# an OCI archive, for `ctr images import`; its index names the image lazyimg:<version>).
# Prints the image's size at the end. Set LAZYIMG_IMAGE_SKIP_BUILD=1 to package the dist/ already there.
# `scripts/image.sh base` makes only the cached base (CI does it with its other downloads; the
# Kubernetes test fixture makes its sandbox image from it).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "image: run as root (debootstrap and umoci keep file owners)" >&2; exit 1; }

CACHE="${LAZYIMG_CACHE:-$HOME/.cache/lazy-images}"
BASE="$CACHE/minbase-bookworm"
OUT=build/image
VERSION=$(node -p 'require("./package.json").version')
USER_ID=65532
BUNDLES=(cli.js gzipWorker.js ztocWorker.js)
log() { echo "image: $*" >&2; }

work=$(mktemp -d)
trap 'rm -rf --one-file-system "$work"' EXIT

# The base, once: minbase plus nothing, with what only apt and people read removed.
if ! grep -qs '"bookworm"' "$BASE/layout/index.json"; then
  log "debootstrap bookworm minbase into $BASE (a few minutes, the only step that needs the mirror)"
  debootstrap --variant=minbase bookworm "$work/rootfs" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/var/cache/apt/* "$work"/rootfs/var/log/* \
    "$work"/rootfs/usr/share/doc/* "$work"/rootfs/usr/share/man/* "$work"/rootfs/usr/share/info/* "$work"/rootfs/usr/share/locale/*
  rm -rf "$BASE/layout.new"
  mkdir -p "$BASE"
  scripts/packRootfs.sh "$work/rootfs" "$BASE/layout.new" bookworm
  rm -rf "$BASE/layout" "$work/rootfs"
  mv "$BASE/layout.new" "$BASE/layout"   # only a finished layout gets the name the check above looks for
fi
[ "${1:-}" = base ] && { log "base: $BASE/layout:bookworm"; exit 0; }

if [ "${LAZYIMG_IMAGE_SKIP_BUILD:-}" != 1 ]; then
  log "bundling the CLI (production)"
  npm run --silent build -- --production
fi
for b in "${BUNDLES[@]}"; do [ -f "dist/$b" ] || { log "dist/$b is missing: run npm run build -- --production" ; exit 1; }; done

log "building lazyimg:$VERSION"
rm -rf "$OUT"
mkdir -p "$OUT"
cp -a "$BASE/layout" "$OUT/layout"
L="$OUT/layout"
umoci unpack --image "$L:bookworm" "$work/bundle" >/dev/null
root="$work/bundle/rootfs"
install -D -m 0755 "$(readlink -f "$(command -v node)")" "$root/usr/local/bin/node"
for b in "${BUNDLES[@]}"; do install -D -m 0644 "dist/$b" "$root/opt/lazyimg/$b"; done
echo "lazyimg:x:$USER_ID:$USER_ID:lazyimg:/tmp:/usr/sbin/nologin" >>"$root/etc/passwd"
echo "lazyimg:x:$USER_ID:" >>"$root/etc/group"
umoci repack --image "$L:$VERSION" "$work/bundle" >/dev/null
umoci rm --image "$L:bookworm"
umoci config --image "$L:$VERSION" \
  --config.entrypoint node --config.entrypoint /opt/lazyimg/cli.js --clear=config.cmd \
  --config.user "$USER_ID:$USER_ID" --config.workingdir /tmp \
  --config.env NODE_ENV=production \
  --config.label "org.opencontainers.image.title=lazyimg" --config.label "org.opencontainers.image.version=$VERSION" \
  --manifest.annotation "org.opencontainers.image.title=lazyimg" --manifest.annotation "org.opencontainers.image.version=$VERSION" \
  --history.comment "lazyimg $VERSION: node and the CLI bundles" >/dev/null
umoci gc --layout "$L"

# containerd names an imported image after io.containerd.image.name; without it `ctr images
# import` needs --base-name.
python3 - "$L/index.json" "$VERSION" <<'PY'
import json, sys
path, version = sys.argv[1], sys.argv[2]
index = json.load(open(path))
for m in index["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == version:
        m["annotations"]["io.containerd.image.name"] = f"docker.io/library/lazyimg:{version}"
json.dump(index, open(path, "w"), separators=(",", ":"))
PY
# umoci writes index.json for its owner only; the image is for everyone to read (and run as 65532).
chmod -R a+rX "$L"
tar -C "$L" --sort=name --owner=0 --group=0 --numeric-owner -cf "$OUT/lazyimg-oci.tar" oci-layout index.json blobs

manifest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"].split(":")[1])' "$L/index.json")
python3 - "$L" "$manifest" "$OUT/lazyimg-oci.tar" "$VERSION" <<'PY'
import json, os, sys
layout, manifest, archive, version = sys.argv[1:]
m = json.load(open(f"{layout}/blobs/sha256/{manifest}"))
layers = [l["size"] for l in m["layers"]]
mib = lambda n: f"{n / 1048576:.1f} MiB"
print(f"image: lazyimg:{version} sha256:{manifest}")
print(f"image: {len(layers)} layers, compressed {mib(sum(layers))} (base {mib(sum(layers[:-1]))}, node + CLI {mib(layers[-1])}); archive {archive} {mib(os.path.getsize(archive))}")
PY
