#!/usr/bin/env bash
# Builds the local test images without network, from Debian's busybox-static:
#   OUTDIR/busybox.oci.tar     OCI image archive, named localhost/busybox:latest
#   OUTDIR/busybox.docker.tar  docker save archive, named localhost/busybox-docker:latest
# Prints each archive's path, one per line, and nothing else on stdout. Idempotent: rebuilds only when
# the busybox binary or this script is newer than the archives.
set -euo pipefail
out=${1:-build/images}
mkdir -p "$out"
out=$(cd "$out" && pwd)
oci="$out/busybox.oci.tar"
docker="$out/busybox.docker.tar"

need=()
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 || need+=(busybox-static)
command -v umoci >/dev/null || need+=(umoci)
command -v skopeo >/dev/null || need+=(skopeo)
if [ ${#need[@]} -gt 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } >&2
fi

if [ -s "$oci" ] && [ -s "$docker" ] && [ "$oci" -nt /bin/busybox ] && [ "$oci" -nt "$0" ] && [ "$docker" -nt "$oci" ]; then
  echo "$oci"; echo "$docker"; exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nodeagent-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
{
  umoci init --layout "$work/layout"
  umoci new --image "$work/layout:latest"
  umoci unpack --rootless --image "$work/layout:latest" "$work/bundle"
  rootfs="$work/bundle/rootfs"
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" \
           "$rootfs/usr/bin" "$rootfs/sbin" "$rootfs/usr/sbin"
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list-full); do
    [ "$applet" = bin/busybox ] && continue
    [ -e "$rootfs/$applet" ] || ln -s /bin/busybox "$rootfs/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n' > "$rootfs/etc/group"
  # As real images have it: readable by root only (tests check a non-root exec cannot read it).
  printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' > "$rootfs/etc/shadow"
  chmod 0640 "$rootfs/etc/shadow"
  umoci repack --image "$work/layout:latest" "$work/bundle"
  umoci config --image "$work/layout:latest" --clear=config.cmd --clear=config.env \
    --config.cmd sh --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --architecture amd64 --os linux
  rm -f "$oci.tmp" "$docker.tmp"
  skopeo copy --quiet "oci:$work/layout:latest" "oci-archive:$oci.tmp:localhost/busybox:latest"
  skopeo copy --quiet "oci:$work/layout:latest" "docker-archive:$docker.tmp:localhost/busybox-docker:latest"
} >&2
mv -f "$oci.tmp" "$oci"
mv -f "$docker.tmp" "$docker"
echo "$oci"
echo "$docker"
