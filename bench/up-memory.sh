#!/usr/bin/env bash
# Memory of `switchboard up` (published, as installed) holding COUNT Services created through its API: COUNT services
# without selectors in one namespace, as WRITERS `kubectl create -f` lists sent at once (the heavy case: big request
# bodies and a burst of watch events for every informer), then left alone SETTLE seconds. Prints, each in MB:
#   up RSS with N services: peak (VmHWM) N, settled (VmRSS) N
#   up RSS settled by kind: code/files N, jitted code and stubs (W^X memfd) N, anon (GC heap, native, stacks) N; threads N
# and, with dotnet-dump on PATH (`dotnet tool install dotnet-dump`) and a build that runs on the runtime (the IL build's
# src/Switchboard/bin/Release/net10.0; the native executable has no diagnostics port), the GC heap: committed, live,
# and the types holding most of it. Figures depend on nothing but the process, not on the machine's load,
# except the peak, which a slow machine raises (more requests and events queued at once).
# HEAP_REPORT=FILE keeps the whole heap report there (bytes, count, type; largest first).
# SWITCHBOARD=DIR measures an already published switchboard (scripts/publish.sh DIR), e.g. another commit's.
# Usage: bench/up-memory.sh [COUNT=10000] [WRITERS=8] [SETTLE=30]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
count=${1:-10000}
writers=${2:-8}
settle=${3:-30}
published_up memory

start_up "$bin" "$work"
echo "up ready: RSS $(proc_status_mb "$up_pid" VmRSS) MB" >&2

export KUBECONFIG="$work/data/kubeconfig"
kubectl create namespace memory >/dev/null
python3 - "$count" "$writers" "$work" <<'PY'
import json, sys
count, writers, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for w in range(writers):
    items = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"mem-{i:05d}", "namespace": "memory"},
              "spec": {"ports": [{"port": 80}]}} for i in range(w, count, writers)]
    with open(f"{work}/services-{w}.json", "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
PY
creators=()
for ((w = 0; w < writers; w++)); do
  kubectl create -f "$work/services-$w.json" >/dev/null &
  creators+=($!)
done
for pid in "${creators[@]}"; do wait "$pid"; done
created=$(kubectl get services -n memory --no-headers | wc -l)
[ "$created" = "$count" ] || { echo "expected $count services, the API lists $created" >&2; exit 1; }
echo "created $count services ($writers writers); settling ${settle}s" >&2
sleep "$settle"
kill -0 "$up_pid" 2>/dev/null || { tail -20 "$work/up.log" >&2; echo "switchboard up exited" >&2; exit 1; }

echo "up RSS with $count services: peak (VmHWM) $(proc_status_mb "$up_pid" VmHWM) MB, settled (VmRSS) $(proc_status_mb "$up_pid" VmRSS) MB"
file_kb=$(awk '/^RssFile:/ { print $2 }' "/proc/$up_pid/status")
anon_kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$up_pid/status")
shmem_kb=$(awk '/^RssShmem:/ { print $2 }' "/proc/$up_pid/status")
echo "up RSS settled by kind: code/files $((file_kb / 1024)) MB, jitted code and stubs (W^X memfd) $((shmem_kb / 1024)) MB, anon (GC heap, native, stacks) $((anon_kb / 1024)) MB; threads $(awk '/^Threads:/ { print $2 }' "/proc/$up_pid/status")"
if command -v dotnet-dump >/dev/null && compgen -G "${TMPDIR:-/tmp}/dotnet-diagnostic-$up_pid-*" >/dev/null; then
  # A heap dump (no full GC forced: `-live` keeps only what is reachable); dumpheap lists types by the bytes held.
  dotnet-dump collect -p "$up_pid" --type Heap -o "$work/up.dump" >/dev/null
  dotnet-dump analyze "$work/up.dump" -c "eeheap -gc" -c "dumpheap -stat -live" -c exit >"$work/heap-raw.txt"
  # A type's line: its method table's address (12 hex digits or more; mawk has no {n}), count, bytes, name.
  awk '$1 ~ /^[0-9a-f]+$/ && length($1) >= 12 && $2 ~ /^[0-9,]+$/ && $3 ~ /^[0-9,]+$/ { gsub(",", "", $2); gsub(",", "", $3); print $3, $2, substr($0, index($0, $4)) }' \
    "$work/heap-raw.txt" | sort -k1,1 -rn >"$work/heap.txt"
  [ -z "${HEAP_REPORT:-}" ] || cp "$work/heap.txt" "$HEAP_REPORT"
  echo "up GC heap: $(sed -n 's/^GC Committed Heap Size:.*(\([0-9,]*\)) bytes.*/\1/p' "$work/heap-raw.txt" | tr -d , | awk '{ print int($1 / 1048576) }') MB committed, live objects $(awk '{ s += $1 } END { print int(s / 1048576) }' "$work/heap.txt") MB; largest types (bytes, count, type):"
  awk 'NR <= 25 { printf "  %10d %7d  %s\n", $1, $2, substr($0, index($0, $3)) }' "$work/heap.txt"
fi
