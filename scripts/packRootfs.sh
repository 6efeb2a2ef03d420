#!/usr/bin/env bash
# Packs a root file system folder into a new OCI layout as one layer, tagged, with the usual PATH:
# the last step of the base images the tests and `npm run image` make with debootstrap.
#   packRootfs.sh ROOTFS LAYOUT TAG    (LAYOUT must not exist yet)
set -euo pipefail
rootfs=$1 layout=$2 tag=$3
bundle=$(mktemp -d)
trap 'rm -rf --one-file-system "$bundle"' EXIT
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$bundle/b" >/dev/null
cp -a "$rootfs/." "$bundle/b/rootfs/"
umoci repack --image "$layout:$tag" "$bundle/b" >/dev/null
umoci config --image "$layout:$tag" --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin >/dev/null
umoci gc --layout "$layout"
