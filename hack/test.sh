#!/usr/bin/env bash
# The test command: installs what the tests need from Debian, builds, builds the test images,
# runs every test and ends with "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need=(busybox-static bsdutils runc skopeo umoci iproute2 iptables zlib1g-dev containernetworking-plugins iperf3 docker-registry apache2-utils attr prometheus libseccomp2)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# Native AOT (the shim and the CLI) links with clang.
command -v clang >/dev/null || command -v clang-14 >/dev/null || missing+=(clang)
# The test API server is checked with the real kubectl (1.32).
command -v kubectl >/dev/null || missing+=(kubectl)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || {
      echo "apt-get install ${missing[*]} failed"; echo "0 passed, 1 failed"; exit 1; }
  else
    echo "missing Debian packages (run as root to install): ${missing[*]}"
  fi
fi

if ! command -v dotnet >/dev/null; then echo "dotnet SDK not found"; echo "0 passed, 1 failed"; exit 1; fi

set -e
dotnet build NodeAgent.sln -c Release -nologo -v q -clp:ErrorsOnly
hack/publish-shim.sh >/dev/null
images=$(mktemp -d /tmp/nodeagent-test-images.XXXX)
hack/build-test-images.sh "$images" >/dev/null
set +e

export NODEAGENT_TEST_IMAGES="$images"
export NODEAGENT_SHIM="$root/build/shim/nodeagent-shim"
results=$(mktemp -d /tmp/nodeagent-test-results.XXXX)
dotnet test NodeAgent.sln -c Release --no-build -nologo --logger "trx" --results-directory "$results" 2>&1 | tee "$results/console.log"
rc=${PIPESTATUS[0]}

passed=0; failed=0; skipped=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  c=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$c"); passed=$((passed + ${p:-0}))
  x=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$c"); failed=$((failed + ${x:-0}))
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$c"); failed=$((failed + ${e:-0}))
  # Skipped tests are counted in total but not in executed.
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$c"); e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$c")
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; echo "dotnet test exited $rc"; fi
rm -rf "$images" "$results"
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" = 0 ]
