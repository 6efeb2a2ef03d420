#!/usr/bin/env bash
# Builds the images `npm run bench:estargz` converts, once, as OCI layouts in the cache:
#   bench-estargz/minbase/layout:bookworm  debootstrap --variant=minbase bookworm, one layer
#   bench-estargz/layers/layout:bookworm   the same root filesystem split into 4 layers
#                                          (the rest, /usr/lib, /usr/share, /usr/bin + /usr/sbin)
# The same files in both, so the second image shows what several layers change, nothing else.
# Idempotent: an image whose layout already holds the tag is kept. Needs root (debootstrap, umoci).
set -euo pipefail
CACHE="${LAZYIMG_CACHE:-$HOME/.cache/lazy-images}"
OUT="$CACHE/bench-estargz"
TAG=bookworm

built() { [ -f "$OUT/$1/layout/index.json" ] && grep -q "\"$TAG\"" "$OUT/$1/layout/index.json"; }
if built minbase && built layers; then exit 0; fi
for tool in debootstrap umoci; do
  command -v "$tool" >/dev/null || { echo "estargzData.sh: $tool is missing: apt-get install $tool" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "bench data: debootstrap --variant=minbase bookworm (a few minutes)"
debootstrap --variant=minbase bookworm "$work/rootfs" > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }

# A layout is built under a temporary name and moved into place last, so an interrupted run
# leaves no layout that looks complete.
new_image() { # <name>: an empty image and its unpacked bundle
  rm -rf "$OUT/$1/layout.tmp" "$work/bundle-$1"
  mkdir -p "$OUT/$1"
  umoci init --layout "$OUT/$1/layout.tmp"
  umoci new --image "$OUT/$1/layout.tmp:$TAG"
  umoci unpack --image "$OUT/$1/layout.tmp:$TAG" "$work/bundle-$1" >/dev/null
}
add_layer() { # <name>: what was copied into the bundle since the last call becomes one layer
  umoci repack --refresh-bundle --image "$OUT/$1/layout.tmp:$TAG" "$work/bundle-$1" >/dev/null
}
publish() { # <name>
  rm -rf "$OUT/$1/layout"
  mv "$OUT/$1/layout.tmp" "$OUT/$1/layout"
  echo "bench data: $OUT/$1/layout:$TAG"
}

if ! built minbase; then
  new_image minbase
  cp -a "$work/rootfs/." "$work/bundle-minbase/rootfs/"
  add_layer minbase
  publish minbase
fi

if ! built layers; then
  new_image layers
  rootfs="$work/bundle-layers/rootfs"
  # Whatever /usr/lib, /usr/share, /usr/bin and /usr/sbin do not hold (etc, var, the usr-merge
  # symlinks, /usr/libexec...), then those four, largest first, like a base and later layers.
  cp -a "$work/rootfs/." "$rootfs/"
  rm -rf "$rootfs/usr/lib" "$rootfs/usr/share" "$rootfs/usr/bin" "$rootfs/usr/sbin"
  add_layer layers
  for part in "usr/lib" "usr/share" "usr/bin usr/sbin"; do
    for dir in $part; do cp -a "$work/rootfs/$dir" "$rootfs/$dir"; done
    add_layer layers
  done
  publish layers
fi
