#!/usr/bin/env bash
# Storage benchmark: the embedded SQLite store against a real etcd (default durability: fsync per
# commit) on this machine, same workload, alternating rounds. 16 writers × 30 s of mixed
# create/update with 1 KiB values, then write→watch-event latency. Prints medians and, last:
#   sqlite/etcd write throughput ratio: X.XX
# Usage: bench/storage.sh [ROUNDS=3] [SECONDS=30]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-30}
work=$(mktemp -d /tmp/switchboard-bench-storage.XXXXXX)
etcd_pid=

cleanup() {
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

dotnet build bench/Switchboard.LoadGenerator -c Release --nologo -v quiet -o "$work/bin" >/dev/null
client=$(free_port) peer=$(free_port)
etcd --name bench --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "bench=http://127.0.0.1:$peer" --max-request-bytes 2097152 >"$work/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 100); do
  ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$client" endpoint health >/dev/null 2>&1 && break
  sleep 0.1
done

run() { # store-name store-arg → key=value lines
  dotnet "$work/bin/Switchboard.LoadGenerator.dll" storage --store "$2" --sqlite-file "$work/sqlite-$1-$RANDOM.db" \
    --writers 16 --seconds "$seconds" --value-bytes 1024 --watch-samples 1000
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for round in $(seq "$rounds"); do
  for store in sqlite etcd; do
    arg=sqlite; [ $store = etcd ] && arg="etcd://127.0.0.1:$client"
    run $store "$arg" | sed "s/^/$store /" >>"$work/results"
    echo "round $round $store: $(grep "^$store writes_per_second" "$work/results" | tail -1 | cut -d= -f2) writes/s" >&2
  done
done

for store in sqlite etcd; do
  for figure in writes_per_second write_latency_median_ms write_latency_p99_ms watch_latency_median_ms watch_latency_p99_ms; do
    printf '%s %s (median of %s rounds): %s\n' "$store" "$figure" "$rounds" \
      "$(grep "^$store $figure=" "$work/results" | cut -d= -f2 | median)"
  done
done
sqlite=$(grep '^sqlite writes_per_second=' "$work/results" | cut -d= -f2 | median)
etcd=$(grep '^etcd writes_per_second=' "$work/results" | cut -d= -f2 | median)
awk -v s="$sqlite" -v e="$etcd" 'BEGIN { printf "sqlite/etcd write throughput ratio: %.2f\n", s / e }'
