#!/usr/bin/env bash
# etcd v3 front benchmark: the front of `switchboard apiserver` over its SQLite store against a real etcd (fresh data
# dir, default durability), both on this machine's disk and reached through the same gRPC client (the project's
# EtcdKeyValueStore on dotnet-etcd, plain gRPC on loopback, one client process). Each round starts both from nothing
# and rounds alternate which goes first. Figures: puts of 1 KiB values at 1 and at 64 concurrent clients, a range of
# 10,000 keys, and watch delivery from a put's acknowledgement to its event. Prints medians and, last:
#   front/etcd put ratio (1 client): X.XX
#   front/etcd put ratio (64 clients): X.XX
#   front/etcd range ratio: X.XX            (etcd's range time / the front's: above 1, the front is faster)
#   front watch delivery p99: X.XXX ms
#   load average: …
# Usage: bench/etcd-front.sh [ROUNDS=3] [SECONDS=10]; BENCH_DIR=DIR puts the data elsewhere (default: artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=${1:-3}
seconds=${2:-10}
work=$(durable_work_dir etcd-front)
server_pid=

stop_server() {
  stop_pid "$server_pid"
  server_pid=
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

require_real_disk "$work"


wait_healthy() { # port
  for _ in $(seq 300); do
    ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$1" endpoint health >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || { echo "the server exited; its log:" >&2; cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "no answer on 127.0.0.1:$1" >&2
  exit 1
}

# Sets server_pid and port. Not run as $(start …): a subshell would keep server_pid to itself, and stop_server would
# leave every server running through the later rounds.
start() { # name round
  local client dir="$work/$1-$2"
  client=$(free_port)
  if [ "$1" = etcd ]; then
    local peer
    peer=$(free_port)
    etcd --name bench --data-dir "$dir" \
      --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
      --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
      --initial-cluster "bench=http://127.0.0.1:$peer" --max-request-bytes 2097152 >"$work/server.log" 2>&1 &
  else
    "$work/switchboard/switchboard" apiserver --data-dir "$dir" --api-port "$(free_port)" \
      --etcd-listen '' --etcd-plain-listen "127.0.0.1:$client" >"$work/server.log" 2>&1 &
  fi
  server_pid=$!
  wait_healthy "$client"
  port=$client
}

publish_load_generator "$work/bin"
dotnet build src/Switchboard -c Release --nologo -v quiet -o "$work/switchboard" >/dev/null

load() { dotnet "$work/bin/Switchboard.LoadGenerator.dll" etcd-front "$@"; }

run() { # round name
  start "$2" "$1"
  {
    load --store "etcd://127.0.0.1:$port" --clients 1 --seconds "$seconds" | sed "s/^/$2 c1_/"
    load --store "etcd://127.0.0.1:$port" --clients 64 --seconds "$seconds" --range-keys 10000 --watch-samples 1000 | sed "s/^/$2 c64_/"
  } >>"$work/results"
  stop_server
  rm -rf "$work/$2-$1"
  echo "round $1 $2: $(grep "^$2 c1_puts_per_second" "$work/results" | tail -1 | cut -d= -f2) puts/s (1 client)," \
    "$(grep "^$2 c64_puts_per_second" "$work/results" | tail -1 | cut -d= -f2) puts/s (64 clients)" >&2
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
figure() { grep "^$1 $2=" "$work/results" | cut -d= -f2 | median; }

for round in $(seq "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then order="front etcd"; else order="etcd front"; fi
  for name in $order; do
    run "$round" "$name"
  done
done

echo "filesystem: $fs"
for name in front etcd; do
  echo "$name puts/s, 1 client (median): $(figure "$name" c1_puts_per_second)"
  echo "$name puts/s, 64 clients (median): $(figure "$name" c64_puts_per_second)"
  echo "$name range of 10,000 keys (median ms): $(figure "$name" c64_range_median_ms)"
  echo "$name watch delivery p99 (median ms): $(figure "$name" c64_watch_latency_p99_ms)"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "front/etcd put ratio (1 client): $(ratio "$(figure front c1_puts_per_second)" "$(figure etcd c1_puts_per_second)")"
echo "front/etcd put ratio (64 clients): $(ratio "$(figure front c64_puts_per_second)" "$(figure etcd c64_puts_per_second)")"
echo "front/etcd range ratio: $(ratio "$(figure etcd c64_range_median_ms)" "$(figure front c64_range_median_ms)")"
echo "front watch delivery p99: $(figure front c64_watch_latency_p99_ms) ms"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
