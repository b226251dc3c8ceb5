#!/usr/bin/env bash
# API server benchmark: `switchboard apiserver` on the embedded SQLite store, as its own process.
# 8 parallel KubernetesClient clients create 2,000 services in one namespace while a watcher (a process
# of its own, so it does not wait behind the clients for a thread) times each ADDED event, then the
# whole list is read. Prints creates/s, list latency, watch delivery p99 (from when each create was sent)
# and the server's peak RSS (VmHWM), each against its target. Then the RBAC-on run: the same creates by a user of
# the server's --token-auth-file bound to the edit ClusterRole in its namespace (each create authorized through RBAC),
# between two more admin runs (system:masters, the authorizer's fast path), printing
# `rbac/admin create ratio: X.XX` (RBAC creates/s over the admin runs' mean; target >= 0.9).
# A figure the run did not produce is a failure: the script then exits 1.
# Usage: bench/apiserver.sh [SERVICES=2000] [CLIENTS=8]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
services=${1:-2000}
clients=${2:-8}
work=$(mktemp -d /tmp/switchboard-bench-apiserver.XXXXXX)
server_pid=

cleanup() {
  stop_pid "$server_pid"
  rm -rf "$work"
}
trap cleanup EXIT


bash scripts/publish.sh "$work/server" >/dev/null
publish_load_generator "$work/load"

port=$(free_port)
bench_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s,bench-user,2001\n' "$bench_token" >"$work/tokens.csv"
"$work/server/switchboard" apiserver --data-dir "$work/data" --store sqlite --api-port "$port" --token-auth-file "$work/tokens.csv" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
  grep -q "API server serving on" "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
grep -q "API server serving on" "$work/server.log" || { echo "server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
idle_rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")

dotnet "$work/load/Switchboard.LoadGenerator.dll" apiserver --kubeconfig "$work/data/kubeconfig" \
  --clients "$clients" --services "$services" | tee "$work/results"
peak_rss_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
# utime + stime of the server (clock ticks): CPU per create is steadier than wall-clock figures on a shared machine.
cpu_ticks=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
echo "server_cpu_ms_per_create=$(awk -v t="$cpu_ticks" -v hz="$(getconf CLK_TCK)" -v n="$services" 'BEGIN { printf "%.2f", t * 1000 / hz / n }')"
echo "server_idle_rss_mb=$((idle_rss_kb / 1024))"
echo "server_peak_rss_mb=$((peak_rss_kb / 1024))"

# The RBAC-on run, between two admin runs so neither side has the warmer server.
load() { dotnet "$work/load/Switchboard.LoadGenerator.dll" apiserver --kubeconfig "$work/data/kubeconfig" --clients "$clients" --services "$services" "$@"; }
load >"$work/admin1"
load --user bench-user --token "$bench_token" >"$work/rbac"
load >"$work/admin2"
rate() { grep '^creates_per_second=' "$1" | cut -d= -f2 || true; }
admin1=$(rate "$work/admin1"); rbac=$(rate "$work/rbac"); admin2=$(rate "$work/admin2")
echo "admin creates/s: $admin1, $admin2; rbac creates/s: $rbac"
ratio=$(awk -v r="$rbac" -v a="$admin1" -v b="$admin2" 'BEGIN { if (r > 0 && a + b > 0) printf "%.2f", 2 * r / (a + b) }')
echo "rbac/admin create ratio: ${ratio:-none}"

figure() { grep "^$1=" "$work/results" | cut -d= -f2 || true; }
missing=0
verdict() {
  if ! [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    printf '%-28s %10s  target %s %s  FAILED (no figure)\n' "$1" "-" "$3" "$4"
    missing=1
    return
  fi
  awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; printf "%-28s %10s  target %s %s  %s\n", "'"$1"'", v, op, t, ok ? "MET" : "MISSED" }'
}
echo
verdict "creates/s" "$(figure creates_per_second)" ">=" 1000
printf '%-28s %10s  (max %s, %s items; no target)\n' "list latency median (ms)" "$(figure list_latency_median_ms)" "$(figure list_latency_max_ms)" "$(figure list_items)"
verdict "watch delivery p99 (ms)" "$(figure watch_delivery_p99_ms)" "<=" 10
verdict "server peak RSS (MB)" "$((peak_rss_kb / 1024))" "<=" 200
verdict "rbac/admin create ratio" "$ratio" ">=" 0.9
exit $missing
