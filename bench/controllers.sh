#!/usr/bin/env bash
# Controllers benchmark: `switchboard up` (API server + controllers, its own process) and a driver that plays 8
# nodes, creates 500 Services in one namespace, waits for their empty Endpoints and EndpointSlices, then creates
# 500 Deployments × 3 replicas and measures:
#   the time until all 1,500 pods exist and pods created per second;
#   per pod, the time from its Ready status write (pods/status) to its address showing as ready in the service's
#   Endpoints and in its EndpointSlice, as a watcher sees them: p50, p99, max; once during the creation storm
#   (create_*) and once in steady state, 300 pods turning not ready and Ready again 4 at a time (flip_*).
#   Target: p99 ≤ 100 ms.
# Usage: bench/controllers.sh [DEPLOYMENTS=500] [REPLICAS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
deployments=${1:-500}
replicas=${2:-3}
work=$(mktemp -d /tmp/switchboard-bench-controllers.XXXXXX)
up_pid=

cleanup() {
  stop_up "$work/switchboard" "$work/data" "$up_pid"
  rm -rf "$work"
}
trap cleanup EXIT


bash scripts/publish.sh "$work/switchboard" >/dev/null
publish_load_generator "$work/load"
port=$(free_port)
"$work/switchboard/switchboard" up --data-dir "$work/data" --api-port "$port" --nodes 0 >"$work/up.log" 2>&1 &
up_pid=$!
for _ in $(seq 600); do
  [ -s "$work/data/kubeconfig" ] && curl -ksf "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; echo "switchboard up exited" >&2; exit 1; }
  sleep 0.1
done
curl -ksf "https://127.0.0.1:$port/readyz" >/dev/null || { echo "switchboard up not ready after 60 s" >&2; exit 1; }

cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / t }' "/proc/$1/stat"; }
cpu_before=$(cpu_seconds "$up_pid")
status=0
/usr/bin/time -f "driver_cpu_seconds=%U+%S" -o "$work/driver.time" \
  dotnet "$work/load/Switchboard.LoadGenerator.dll" controllers --kubeconfig "$work/data/kubeconfig" \
  --deployments "$deployments" --replicas "$replicas" >"$work/results" || status=$?
cat "$work/results"
awk -v a="$cpu_before" -v b="$(cpu_seconds "$up_pid")" 'BEGIN { printf "switchboard_up_cpu_seconds=%.1f\n", b - a }'
cat "$work/driver.time"
if [ "$status" -ne 0 ]; then
  echo "the run did not converge; last lines of switchboard up's log:" >&2
  tail -20 "$work/up.log" >&2
  exit "$status"
fi

for figure in create_endpoints create_slices create_endpoints_after_ready create_slices_after_ready flip_endpoints flip_slices; do
  p99=$(grep "^${figure}_latency_p99_ms=" "$work/results" | cut -d= -f2)
  awk -v f="$figure" -v p="$p99" 'BEGIN { printf "%s: p99 %.1f ms (target <= 100 ms): %s\n", f, p, (p <= 100) ? "met" : "MISSED" }'
done
