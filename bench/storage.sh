#!/usr/bin/env bash
# Storage benchmark: the embedded SQLite store against a real etcd (default durability: fsync per
# commit) on this machine, same workload. 16 writers × 30 s of mixed create/update with 1 KiB values,
# then write→watch-event latency. Each round starts from nothing for both stores (a fresh SQLite file,
# a fresh etcd with an empty data dir), and rounds alternate which store goes first. Both write to the
# same real disk (never a tmpfs: fsync would cost nothing there); its filesystem type is printed.
# Prints medians and, last:
#   sqlite/etcd write throughput ratio: X.XX
# Usage: bench/storage.sh [ROUNDS=3] [SECONDS=30]; BENCH_DIR=DIR puts the data elsewhere (default: artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=${1:-3}
seconds=${2:-30}
work=$(durable_work_dir storage)
etcd_pid=

stop_etcd() {
  stop_pid "$etcd_pid"
  etcd_pid=
}
cleanup() {
  stop_etcd
  rm -rf "$work"
}
trap cleanup EXIT

require_real_disk "$work"


# A new etcd on an empty data dir, as each SQLite round gets a new file; prints its client URL.
start_etcd() {
  local client peer dir="$work/etcd-$1"
  client=$(free_port) peer=$(free_port)
  etcd --name bench --data-dir "$dir" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "bench=http://127.0.0.1:$peer" --max-request-bytes 2097152 >"$dir.log" 2>&1 &
  etcd_pid=$!
  for _ in $(seq 100); do
    ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$client" endpoint health >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "etcd://127.0.0.1:$client"
}

dotnet build bench/Switchboard.LoadGenerator -c Release --nologo -v quiet -o "$work/bin" >/dev/null

run() { # round store → "store key=value" lines appended to the results
  local arg=sqlite
  if [ "$2" = etcd ]; then
    start_etcd "$1" >"$work/etcd-url"
    arg=$(cat "$work/etcd-url")
  fi
  dotnet "$work/bin/Switchboard.LoadGenerator.dll" storage --store "$arg" --sqlite-file "$work/sqlite-$1.db" \
    --writers 16 --seconds "$seconds" --value-bytes 1024 --watch-samples 1000 | sed "s/^/$2 /" >>"$work/results"
  stop_etcd
  rm -rf "$work/etcd-$1" "$work/sqlite-$1.db"*
  echo "round $1 $2: $(grep "^$2 writes_per_second" "$work/results" | tail -1 | cut -d= -f2) writes/s" >&2
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for round in $(seq "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then order="sqlite etcd"; else order="etcd sqlite"; fi
  for store in $order; do
    run "$round" "$store"
  done
done

echo "filesystem: $fs"
for store in sqlite etcd; do
  for figure in writes_per_second write_latency_median_ms write_latency_p99_ms watch_latency_median_ms watch_latency_p99_ms; do
    printf '%s %s (median of %s rounds): %s\n' "$store" "$figure" "$rounds" \
      "$(grep "^$store $figure=" "$work/results" | cut -d= -f2 | median)"
  done
done
sqlite=$(grep '^sqlite writes_per_second=' "$work/results" | cut -d= -f2 | median)
etcd=$(grep '^etcd writes_per_second=' "$work/results" | cut -d= -f2 | median)
awk -v s="$sqlite" -v e="$etcd" 'BEGIN { printf "sqlite/etcd write throughput ratio: %.2f\n", s / e }'
