#!/usr/bin/env bash
# Builds the small test images from Debian's busybox-static, with no network, and prints each archive's path:
#   OUTDIR/busybox.oci.tar     OCI image archive, named localhost/busybox:latest
#   OUTDIR/busybox.docker.tar  `docker save` archive of the same image, named localhost/busybox-docker:latest
# usage: hack/build-test-images.sh [OUTDIR]   (default build/images)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/images}
mkdir -p "$out"
out=$(cd "$out" && pwd)

missing=()
for p in busybox-static umoci skopeo; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

stamp="$out/.busybox-$(sha256sum /bin/busybox "$0" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ -f "$out/busybox.oci.tar" ] && [ -f "$out/busybox.docker.tar" ]; then
  echo "$out/busybox.oci.tar"
  echo "$out/busybox.docker.tar"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
layout="$work/layout"
umoci init --layout "$layout" >&2
umoci new --image "$layout:latest" >&2
umoci unpack --image "$layout:latest" "$work/bundle" >&2
rootfs="$work/bundle/rootfs"
mkdir -p "$rootfs"/{bin,etc,tmp,root,proc,sys,dev,home}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$rootfs/etc/group"
umoci repack --image "$layout:latest" "$work/bundle" >&2
umoci config --image "$layout:latest" \
  --config.cmd sh \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --architecture amd64 --os linux >&2

rm -f "$out/busybox.oci.tar" "$out/busybox.docker.tar" "$out"/.busybox-*
skopeo copy -q "oci:$layout:latest" "oci-archive:$out/busybox.oci.tar:localhost/busybox:latest" >&2
skopeo copy -q "oci:$layout:latest" "docker-archive:$out/busybox.docker.tar:localhost/busybox-docker:latest" >&2
touch "$stamp"
echo "$out/busybox.oci.tar"
echo "$out/busybox.docker.tar"
