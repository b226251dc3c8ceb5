#!/usr/bin/env bash
# End-to-end benchmark of `switchboard up` (its own process, published as the README's first command does), seen from
# a client pod as the seed's `curl backend` is:
#   - `up` to ready: from the start of the process to /readyz answering ok (target <= 2 s; k3s takes 20-30 s);
#   - first curl: from the create of a service and a 3-replica nginx deployment to the first HTTP 200 through the
#     service's name from a client pod (DNS through kube-dns's ClusterIP, then the service's ClusterIP) (target <= 3 s);
#   - programming p99: with 1,000 services of 3 ready endpoints each, from the create of one more service to both its
#     name answering in the pod and its ClusterIP accepting the pod's connection, over 50 samples (target <= 100 ms;
#     Kubernetes' own SLO for this is 30 s);
#   - RSS of the process, idle and with those 1,000 services and 3,000 endpoints (targets <= 150 MB and <= 250 MB).
# Usage: bench/e2e.sh [SERVICES=1000] [SAMPLES=50]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
services=${1:-1000}
samples=${2:-50}
work=$(mktemp -d /tmp/switchboard-bench-e2e.XXXXXX)
up_pid=

cleanup() {
  stop_up "$work/switchboard" "$work/data" "$up_pid"
  rm -rf "$work"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

bash scripts/publish.sh "$work/switchboard" >/dev/null
publish_load_generator "$work/load"

api_port=$(free_port)
t0=$(now_ns)
"$work/switchboard/switchboard" up --data-dir "$work/data" --api-port "$api_port" --dns-port "$(free_port)" \
  --dns-metrics "127.0.0.1:$(free_port)" --kubelet-port "$(free_port)" >"$work/up.log" 2>&1 &
up_pid=$!
until curl -sk --max-time 1 "https://127.0.0.1:$api_port/readyz" 2>/dev/null | grep -qx ok; do
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; echo "switchboard up exited" >&2; exit 1; }
  [ $(( ($(now_ns) - t0) / 1000000000 )) -lt 60 ] || { echo "not ready after 60 s" >&2; exit 1; }
  sleep 0.02
done
ready_ms=$(( ($(now_ns) - t0) / 1000000 ))
echo "up_to_ready_seconds=$(awk -v ms="$ready_ms" 'BEGIN { printf "%.2f", ms / 1000 }')" >"$work/results"

# Idle means started and settled, nothing created yet.
sleep 5
status=0
dotnet "$work/load/Switchboard.LoadGenerator.dll" e2e --kubeconfig "$work/data/kubeconfig" --pid "$up_pid" \
  --services "$services" --samples "$samples" >>"$work/results" || status=$?
cat "$work/results"
if [ "$status" -ne 0 ]; then
  echo "the run did not complete; last lines of switchboard up's log:" >&2
  tail -20 "$work/up.log" >&2
  exit "$status"
fi

figure() { grep "^$1=" "$work/results" | head -1 | cut -d= -f2; }
echo
echo "up to ready: $(figure up_to_ready_seconds) s (target <= 2)"
echo "first curl: $(figure first_curl_seconds) s (target <= 3)"
echo "RSS idle: $(figure rss_idle_mb) MB (target <= 150); with $services services and $(figure endpoints) endpoints: $(figure rss_loaded_mb) MB (target <= 250)"
echo "programming p50 $(figure programming_p50_ms) ms, p99 $(figure programming_p99_ms) ms (DNS p99 $(figure dns_p99_ms) ms, VIP p99 $(figure vip_p99_ms) ms; target p99 <= 100)"
