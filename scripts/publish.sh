#!/usr/bin/env bash
# Publishes the `switchboard` executable the way it is installed and benchmarked: Release, and precompiled to
# native code (ReadyToRun) for this machine, so a fresh server spends its first load serving instead of in the JIT;
# beside it the echo image's program, compiled ahead of time (native AOT: clang links it), so that a pod's echo
# server starts in milliseconds.
# Usage: scripts/publish.sh OUTPUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/publish.sh OUTPUT_DIR}
case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) echo "publish.sh: no ReadyToRun target for $(uname -m)" >&2; exit 1 ;;
esac
dotnet publish src/Switchboard/Switchboard.csproj -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true \
  -o "$out" --nologo -v quiet
dotnet publish src/Switchboard.Echo/Switchboard.Echo.csproj -c Release -r "$rid" -p:PublishAot=true -o "$out" --nologo -v quiet
