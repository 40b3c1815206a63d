#!/usr/bin/env bash
# The main job on a fresh Debian machine, as root: install what is needed, build, build the example image (no
# network access), and start the agent on the example static pods of manifests/pods, showing their state.
#   hack/run.sh            Ctrl-C stops the agent; the pods keep running, as with kubelet.
# Afterwards: `build/bin/nodeagent get pods` while an agent runs; `hack/run.sh --clean` removes the pods and the
# pod network the agent made.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }

pkgs=(busybox-static skopeo umoci zlib1g-dev iproute2 iptables libseccomp2)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
command -v clang >/dev/null || command -v clang-14 >/dev/null || missing+=(clang)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "the .NET 10 SDK is required (dotnet not found)" >&2; exit 1; }

bin=$(hack/build.sh build/bin)
root=${NODEAGENT_ROOT:-/var/lib/nodeagent}
port=${NODEAGENT_READ_ONLY_PORT:-10255}
B=("$bin" --root-dir "$root")

if [ "${1:-}" = --clean ]; then
  # The agent stops pods whose manifests are gone; run it once on an empty directory, then remove the network.
  empty=$(mktemp -d)
  "${B[@]}" agent --pod-manifest-path "$empty" --read-only-port 0 > build/agent-clean.log 2>&1 &
  pid=$!
  timeout 60 bash -c "until grep -q 'All pod sources synced' build/agent-clean.log; do sleep 0.2; done"
  # Sandboxes live in the runtime state directory: /run/nodeagent with the default root (the root itself with
  # another root, or when it holds sandboxes of an earlier version).
  timeout 60 bash -c "until [ -z \"\$(find '$root/sandboxes' /run/nodeagent/sandboxes -mindepth 1 -maxdepth 1 2>/dev/null)\" ]; do sleep 0.2; done" || true
  kill -TERM "$pid"; wait "$pid" || true
  "${B[@]}" network cleanup
  rmdir "$empty"
  exit 0
fi

hack/build-test-images.sh build/images >/dev/null
"${B[@]}" images import build/images/busybox.oci.tar

log=build/agent.log
"${B[@]}" agent --pod-manifest-path manifests/pods --read-only-port "$port" --address 127.0.0.1 > "$log" 2>&1 &
agent=$!
trap 'kill -TERM "$agent" 2>/dev/null; wait "$agent" 2>/dev/null; echo; echo "agent stopped; pods keep running (hack/run.sh --clean removes them)"' EXIT
echo "agent started (pid $agent), log in $log; waiting for the example pods…"
# The agent logs every phase change; wait until both example pods reached theirs.
timeout 60 bash -c "until grep -q 'web-.*-> Running' '$log' && grep -Eq 'hello-.*-> (Succeeded|Running)' '$log'; do sleep 0.2; done" \
  || { echo "the example pods did not start; the agent said:"; cat "$log"; exit 1; }
"${B[@]}" get pods -o wide --server "http://127.0.0.1:$port"
echo "--- logs of the hello pod ---"
cat /var/log/pods/default_hello-*/hello/0.log 2>/dev/null | tail -5 || true
echo "--- the agent's log (Ctrl-C to stop the agent) ---"
tail -n +1 -f "$log"
