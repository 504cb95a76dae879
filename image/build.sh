#!/bin/sh
# Builds the llamaops OCI image without a container daemon: a Debian bookworm root
# filesystem from mmdebstrap, the wheel and its dependencies installed into a virtualenv
# in it, packed as an OCI image layout with umoci. The same image as ../Dockerfile:
# non-root user 65532, entrypoint /opt/llamaops/bin/llamaops.
#
#   image/build.sh PYTHON OUT      e.g. image/build.sh .venv/bin/python build/image
#
# PYTHON builds the wheels (it must be a CPython 3.11, as bookworm's python3 is); OUT is
# an OCI layout whose tag `latest` is the image. Needs root (chroot), mmdebstrap and umoci.
set -eu
PYTHON=$1
OUT=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "wheels of llamaops and its dependencies"
"$PYTHON" -m pip wheel --quiet --wheel-dir "$WORK/wheels" .

echo "a bookworm root filesystem with Python"
mmdebstrap --quiet --variant=apt --include=python3,python3-venv,ca-certificates \
  bookworm "$WORK/rootfs.tar"

echo "the OCI image"
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
umoci init --layout "$OUT"
umoci new --image "$OUT:latest"
umoci unpack --image "$OUT:latest" "$WORK/bundle"
ROOTFS="$WORK/bundle/rootfs"
tar -xf "$WORK/rootfs.tar" -C "$ROOTFS"
cp -r "$WORK/wheels" "$ROOTFS/tmp/wheels"
chroot "$ROOTFS" python3 -m venv /opt/llamaops
chroot "$ROOTFS" /opt/llamaops/bin/pip install --quiet --no-index --find-links /tmp/wheels llamaops
rm -rf "$ROOTFS/tmp/wheels" "$ROOTFS/var/cache/apt/archives"/*.deb "$ROOTFS/var/lib/apt/lists"/*
echo "llamaops:x:65532:65532:llamaops:/nonexistent:/usr/sbin/nologin" >> "$ROOTFS/etc/passwd"
echo "llamaops:x:65532:" >> "$ROOTFS/etc/group"
umoci repack --image "$OUT:latest" "$WORK/bundle"
umoci config --image "$OUT:latest" \
  --config.user 65532:65532 \
  --config.entrypoint /opt/llamaops/bin/llamaops \
  --config.cmd run \
  --config.env PYTHONUNBUFFERED=1 \
  --config.workingdir / \
  --config.label org.opencontainers.image.title=llamaops
umoci gc --layout "$OUT"
echo "built $OUT:latest ($(du -sh "$OUT" | cut -f1))"
