#!/usr/bin/env bash
# The main job on a fresh Debian machine, as root: install, build, build the example image, and run the example
# workload of manifests/ on the runtime with no network access.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }

pkgs=(busybox-static skopeo umoci zlib1g-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
command -v clang >/dev/null || command -v clang-14 >/dev/null || missing+=(clang)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "the .NET 10 SDK is required (dotnet not found)" >&2; exit 1; }

bin=$(hack/build.sh build/bin)
hack/build-test-images.sh build/images >/dev/null
root=${NODEAGENT_ROOT:-/var/lib/nodeagent}
B="$bin --root-dir $root"
$B images import build/images/busybox.oci.tar

# The example pods of manifests/, run directly on the runtime until the static-pod kubelet (#3) reads them.
$B ctr rm -f web >/dev/null 2>&1 || true
$B ctr run -d --name web localhost/busybox:latest sh -c 'while true; do echo "heartbeat $(date -u +%H:%M:%S)"; sleep 5; done'
$B ctr run --rm --name hello localhost/busybox:latest sh -c 'echo hello from $(hostname); id'
$B ctr ps -a
echo "--- logs of web (ctr logs -f web to follow; ctr rm -f web to stop) ---"
$B ctr logs web
