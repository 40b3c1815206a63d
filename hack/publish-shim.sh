#!/usr/bin/env bash
# Publishes the per-container shim with Native AOT into build/shim/ (or $1) and prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/shim}
dotnet publish cmd/nodeagent-shim/nodeagent-shim.csproj -c Release -r linux-x64 -o "$out" -nologo -v q -clp:ErrorsOnly >&2
echo "$(cd "$out" && pwd)/nodeagent-shim"
