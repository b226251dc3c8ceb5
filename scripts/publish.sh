#!/usr/bin/env bash
# Publishes the `switchboard` executable the way it is installed, benchmarked and tested end to end: Release,
# compiled ahead of time to native code for this machine's CPU (native AOT: clang links it, or gcc), so that a server
# starts in half a second with no JIT and no runtime to load, and holds less memory (no JIT-compiled code, no second
# mapping of precompiled images); beside it the echo image's program, compiled the same way, so that a pod's echo
# server starts in milliseconds.
# With `echo`, only the echo image's program, built under OUTPUT_DIR/.build: apart from the checkout's bin/ and obj/,
# which tests running beside it use (the test of the published program does this).
# Usage: scripts/publish.sh OUTPUT_DIR [echo]
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/publish.sh OUTPUT_DIR [echo]"
out=${1:?$usage}
only=${2:-}
[ -z "$only" ] || [ "$only" = echo ] || { echo "$usage" >&2; exit 2; }
case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) echo "publish.sh: no native AOT target for $(uname -m)" >&2; exit 1 ;;
esac
echo_build=()
if [ -z "$only" ]; then
  dotnet publish src/Switchboard/Switchboard.csproj -c Release -r "$rid" -p:PublishAot=true -p:IlcInstructionSet=native -o "$out" \
    --nologo -v quiet
else
  echo_build=(--artifacts-path "$out/.build")
fi
dotnet publish src/Switchboard.Echo/Switchboard.Echo.csproj -c Release -r "$rid" -p:PublishAot=true -o "$out" "${echo_build[@]}" \
  --nologo -v quiet
