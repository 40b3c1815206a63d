#!/usr/bin/env bash
# Runs the Kubernetes API server for tests in the foreground:
#   hack/test-apiserver.sh --dir DIR [--port N] [--node NAME]... [--bootstrap-token ID.SECRET]...
# It prints "ready" once it serves, and writes DIR/admin.kubeconfig (cluster-admin, bearer token), DIR/NAME.kubeconfig
# for each --node (client certificate CN=system:node:NAME, O=system:nodes), DIR/bootstrap.kubeconfig for the first
# --bootstrap-token (stored as the Secret kube-system/bootstrap-token-ID; user system:bootstrap:ID) and DIR/ca.crt.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
project="$root/tests/NodeAgent.TestApiServer"
dll="$project/bin/Release/net10.0/linux-x64/NodeAgent.TestApiServer.dll"
if [ ! -f "$dll" ] || [ -n "$(find "$project" -name '*.cs' -newer "$dll" -print -quit)" ]; then
  dotnet build "$project/NodeAgent.TestApiServer.csproj" -c Release -nologo -v q -clp:ErrorsOnly >&2
fi
exec dotnet "$dll" "$@"
