#!/usr/bin/env bash
# End-to-end check against a real cluster: creates a k3d (k3s in Docker) cluster, issues a node credential for
# system:node:NAME (a client CSR approved with kubectl and signed by the cluster), starts
# `nodeagent agent --kubeconfig ...` on this host as that node, runs the scenarios with kubectl, and tears it all down.
#   hack/e2e-k3d.sh [SCENARIO]...      default: all scenarios, in order
# Needs root, docker (with a reachable daemon), k3d, kubectl, openssl and the .NET SDK; exits 2 when one is missing
# (these machines have no Docker engine and no k3d: it cannot run here). Environment:
#   E2E_IMAGE    image of the test pod (default docker.io/library/busybox:1.36; the host must be able to pull it)
#   E2E_KEEP=1   leave the cluster, the agent and its root dir in place for a look afterwards
#   E2E_KUBECONFIG=FILE  use the cluster-admin kubeconfig of a cluster that already runs instead of creating one with
#                k3d (then Docker and k3d are not needed); hack/test-apiserver.sh's DIR/admin.kubeconfig works too
# A scenario is a shell function `scenario_NAME` run with $KC (admin kubeconfig), $NODE, $AGENT_LOG set; add the
# issue #12/#13 ones the same way and list them in SCENARIOS.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIOS=(node_ready lease pod_running describe delete_pod crashloop mirror_pod node_restriction)

EXISTING=${E2E_KUBECONFIG:-}
tools=(kubectl openssl dotnet)
[ -n "$EXISTING" ] || tools+=(docker k3d)
missing=()
for tool in "${tools[@]}"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e-k3d: missing ${missing[*]}: this needs Docker, k3d, kubectl, openssl and the .NET SDK (not available on these machines)" >&2
  exit 2
fi
if [ -z "$EXISTING" ] && ! docker info >/dev/null 2>&1; then
  echo "e2e-k3d: the docker client cannot reach a Docker daemon (docker info failed); k3d needs one" >&2
  exit 2
fi
[ "$(id -u)" = 0 ] || { echo "e2e-k3d: run as root (the agent runs containers on this host)" >&2; exit 2; }

suffix=$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
CLUSTER="nodeagent-e2e-$suffix"
NODE="e2e-$suffix"
WORK=$(mktemp -d "/tmp/nodeagent-e2e-$suffix.XXXX")
KC="$WORK/admin.kubeconfig"
NODE_KC="$WORK/node.kubeconfig"
AGENT_LOG="$WORK/agent.log"
IMAGE=${E2E_IMAGE:-docker.io/library/busybox:1.36}
BIN=""
agent_pid=""

log() { echo "e2e-k3d: $*" >&2; }
k() { kubectl --kubeconfig "$KC" "$@"; }

teardown() {
  local rc=$?
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    log "E2E_KEEP=1: left cluster $CLUSTER, agent pid ${agent_pid:-none}, files in $WORK"
    exit "$rc"
  fi
  if [ -n "$agent_pid" ]; then
    k delete pods -A --field-selector "spec.nodeName=$NODE" --wait=true --timeout=60s >/dev/null 2>&1 || true
    kill -TERM "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
    "$BIN" --root-dir "$WORK/root" network cleanup >/dev/null 2>&1 || true
  fi
  k delete csr "node-csr-$NODE" --timeout=10s >/dev/null 2>&1 || true
  [ -n "$EXISTING" ] || k3d cluster delete "$CLUSTER" >/dev/null 2>&1 || true
  if grep -q " $WORK" /proc/mounts; then
    log "mounts remain under $WORK; left in place"
  else
    rm -rf "$WORK"
  fi
  [ "$rc" = 0 ] && log "passed" || log "FAILED (exit $rc)"
  exit "$rc"
}
trap teardown EXIT

create_cluster() {
  if [ -n "$EXISTING" ]; then
    log "using the cluster of $EXISTING"
    cp "$EXISTING" "$KC"
    chmod 600 "$KC"
    return
  fi
  log "creating k3d cluster $CLUSTER"
  k3d cluster create "$CLUSTER" --servers 1 --agents 0 --wait --timeout 180s \
    --k3s-arg "--disable=traefik@server:0" --k3s-arg "--disable=metrics-server@server:0" >/dev/null
  k3d kubeconfig get "$CLUSTER" > "$KC"
  chmod 600 "$KC"
  k wait --for=condition=Ready nodes --all --timeout=120s >/dev/null
}

# A kubelet client certificate as kubelet's TLS bootstrap would get it, asked for by the admin and approved by hand.
issue_node_credential() {
  log "issuing a client certificate for system:node:$NODE"
  openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/node.key" 2>/dev/null
  openssl req -new -key "$WORK/node.key" -subj "/O=system:nodes/CN=system:node:$NODE" -out "$WORK/node.csr" 2>/dev/null
  k apply -f - >/dev/null <<EOF
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: node-csr-$NODE}
spec:
  request: $(base64 -w0 < "$WORK/node.csr")
  signerName: kubernetes.io/kube-apiserver-client-kubelet
  usages: [digital signature, client auth]
EOF
  k certificate approve "node-csr-$NODE" >/dev/null
  local deadline=$((SECONDS + 60)) cert=""
  until cert=$(k get csr "node-csr-$NODE" -o jsonpath='{.status.certificate}') && [ -n "$cert" ]; do
    [ $SECONDS -lt $deadline ] || { log "the CSR was not signed in 60 s"; return 1; }
    sleep 1
  done
  echo "$cert" | base64 -d > "$WORK/node.crt"
  local server ca
  server=$(k config view --raw -o jsonpath='{.clusters[0].cluster.server}')
  ca=$(k config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
  cat > "$NODE_KC" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: k3d
  cluster: {server: "$server", certificate-authority-data: $ca}
users:
- name: system:node:$NODE
  user: {client-certificate: $WORK/node.crt, client-key: $WORK/node.key}
contexts:
- name: node
  context: {cluster: k3d, user: "system:node:$NODE"}
current-context: node
EOF
  chmod 600 "$NODE_KC"
  local who
  who=$(kubectl --kubeconfig "$NODE_KC" auth whoami -o jsonpath='{.status.userInfo.username}')
  [ "$who" = "system:node:$NODE" ] || { log "the node credential authenticates as '$who'"; return 1; }
}

start_agent() {
  BIN=$(hack/build.sh "$WORK/bin")
  log "starting the agent as node $NODE (log: $AGENT_LOG)"
  mkdir -p "$WORK/manifests"
  "$BIN" --root-dir "$WORK/root" agent --kubeconfig "$NODE_KC" --hostname-override "$NODE" --read-only-port 0 --disable-kube-proxy \
    --pod-manifest-path "$WORK/manifests" > "$AGENT_LOG" 2>&1 &
  agent_pid=$!
}

# Waits for a kubectl condition with a deadline; prints the agent log on failure.
wait_for() {
  local what=$1 timeout=$2; shift 2
  if ! k wait "$@" --timeout="${timeout}s" >/dev/null; then
    log "$what: not reached in ${timeout}s; agent log:"; tail -n 50 "$AGENT_LOG" >&2; return 1
  fi
}

scenario_node_ready() {
  local deadline=$((SECONDS + 60))
  until k get node "$NODE" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { log "node $NODE did not register"; tail -n 50 "$AGENT_LOG" >&2; return 1; }
    sleep 1
  done
  wait_for "node Ready" 120 --for=condition=Ready "node/$NODE"
  k get node "$NODE" -o wide
}

scenario_pod_running() {
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: e2e-sleeper, namespace: default, labels: {app: e2e}}
spec:
  nodeSelector: {kubernetes.io/hostname: $NODE}
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    image: $IMAGE
    command: [sh, -c, "echo started; exec sleep 3600"]
EOF
  wait_for "pod Running" 180 --for=jsonpath='{.status.phase}'=Running pod/e2e-sleeper
  wait_for "pod Ready" 60 --for=condition=Ready pod/e2e-sleeper
  k get pod e2e-sleeper -o wide
  [ "$(k get pod e2e-sleeper -o jsonpath='{.spec.nodeName}')" = "$NODE" ]
}

scenario_describe() {
  local node pod
  node=$(k describe node "$NODE")
  grep -Eq 'Ready +True' <<<"$node" || { log "describe node: no Ready True"; echo "$node" >&2; return 1; }
  pod=$(k describe pod e2e-sleeper)
  grep -Eq "Node: +$NODE/" <<<"$pod" || { log "describe pod: not on $NODE"; echo "$pod" >&2; return 1; }
  grep -Eq 'Normal +Started' <<<"$pod" || { log "describe pod: no Started event"; echo "$pod" >&2; return 1; }
}

scenario_delete_pod() {
  k delete pod e2e-sleeper --timeout=60s >/dev/null
  if k get pod e2e-sleeper >/dev/null 2>&1; then
    log "pod e2e-sleeper still exists after delete"; return 1
  fi
}

scenario_lease() {
  [ "$(k -n kube-node-lease get lease "$NODE" -o jsonpath='{.spec.holderIdentity}')" = "$NODE" ] || { log "no lease held by $NODE"; return 1; }
  [ "$(k -n kube-node-lease get lease "$NODE" -o jsonpath='{.metadata.ownerReferences[0].kind}')" = Node ] || { log "lease without a Node owner"; return 1; }
}

scenario_crashloop() {
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: e2e-crash, namespace: default}
spec:
  nodeSelector: {kubernetes.io/hostname: $NODE}
  containers:
  - name: main
    image: $IMAGE
    command: [sh, -c, "exit 3"]
EOF
  wait_for "CrashLoopBackOff" 120 --for=jsonpath='{.status.containerStatuses[0].state.waiting.reason}'=CrashLoopBackOff pod/e2e-crash
  k describe pod e2e-crash | grep -q 'Back-off restarting failed container' || { log "no BackOff event"; return 1; }
  k delete pod e2e-crash --timeout=60s >/dev/null
}

scenario_mirror_pod() {
  local dir="$WORK/manifests"
  cat > "$dir/e2e-static.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: e2e-static}
spec:
  containers:
  - name: main
    image: $IMAGE
    command: [sh, -c, "exec sleep 3600"]
EOF
  wait_for "mirror pod Running" 120 --for=jsonpath='{.status.phase}'=Running "pod/e2e-static-$NODE"
  k delete pod "e2e-static-$NODE" --wait=false >/dev/null
  wait_for "mirror pod made again" 60 --for=jsonpath='{.status.phase}'=Running "pod/e2e-static-$NODE"
  rm "$dir/e2e-static.yaml"
  wait_for "mirror pod gone" 60 --for=delete "pod/e2e-static-$NODE"
}

scenario_node_restriction() {
  # The node credential may not set restricted labels; the agent itself is never refused (no Forbidden in its log).
  if kubectl --kubeconfig "$NODE_KC" label node "$NODE" node-role.kubernetes.io/control-plane= >/dev/null 2>&1; then
    log "the node could set a restricted label on itself"; return 1
  fi
  if grep -q 'Forbidden' "$AGENT_LOG"; then log "the agent was refused something:"; grep Forbidden "$AGENT_LOG" | head >&2; return 1; fi
}

create_cluster
issue_node_credential
start_agent
run=("$@")
[ ${#run[@]} -gt 0 ] || run=("${SCENARIOS[@]}")
for s in "${run[@]}"; do
  declare -F "scenario_$s" >/dev/null || { log "unknown scenario $s (known: ${SCENARIOS[*]})"; exit 2; }
  log "scenario $s"
  "scenario_$s"
done
