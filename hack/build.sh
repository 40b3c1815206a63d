#!/usr/bin/env bash
# Publishes the nodeagent CLI and the per-container shim (both Native AOT) into OUTDIR (default build/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/bin}
mkdir -p "$out"
dotnet publish cmd/nodeagent/nodeagent.csproj -c Release -r linux-x64 --self-contained -o "$out" -nologo -v q -clp:ErrorsOnly
dotnet publish cmd/nodeagent-shim/nodeagent-shim.csproj -c Release -r linux-x64 -o "$out" -nologo -v q -clp:ErrorsOnly
rm -f "$out"/*.pdb "$out"/*.dbg
echo "$(cd "$out" && pwd)/nodeagent"
