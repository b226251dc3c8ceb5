#!/usr/bin/env bash
# DNS benchmark: Switchboard's DNS server against unbound (Debian) serving the same 10,000 names.
# 1. An API server (SQLite) and the DNS service run as their own processes on loopback.
# 2. 10,000 Services are created THROUGH THE API SERVER (KubernetesClient, 8 at a time); each is timed
#    from "create returned" to "the DNS server answers it" (DNS programming latency as a client sees it).
# 3. unbound gets the same names as local-data (local-zone static: no outside access, NXDOMAIN otherwise).
# 4. dnsperf runs for SECONDS against each, alternating, ROUNDS times, with one query file (70% existing
#    names, 30% NXDOMAIN), every process on the same cores (taskset CPUS).
# Prints both QPS (mean of the rounds), the programming latency p99 and, last:
#   switchboard/unbound qps ratio: X.XX
# With --trace, each round also measures Switchboard with a `switchboard trace -f` reader attached (curl following
# /trace as fast as it reads) and a second Switchboard DNS with its trace buffer off (--trace-buffer 0), and prints
#   trace attached/none qps ratio: X.XX      (target >= 0.9)
#   trace buffer on/off qps ratio: X.XX      (the cost of always recording for --last)
# Usage: bench/dns.sh [--trace] [COUNT=10000] [SECONDS=15] [ROUNDS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
trace=0
if [[ ${1:-} == --trace ]]; then trace=1; shift; fi
count=${1:-10000}
seconds=${2:-15}
rounds=${3:-2}
cpus=${CPUS:-0-$(($(nproc) - 1))}
work=$(mktemp -d /tmp/switchboard-bench-dns.XXXXXX)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # what command…: retries for 60 s
  local what=$1; shift
  for _ in $(seq 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for $what" >&2; exit 1
}

dotnet build bench/Switchboard.DnsBench -c Release --nologo -v quiet -o "$work/bin" >/dev/null
bench() { dotnet "$work/bin/Switchboard.DnsBench.dll" "$@"; }

api_port=$(free_port) sb_port=$(free_port) ops_port=$(free_port) ub_port=$(free_port)
mkdir -p "$work/api"
taskset -c "$cpus" dotnet "$work/bin/Switchboard.DnsBench.dll" apiserver --data-dir "$work/api" --port "$api_port" >"$work/api.log" 2>&1 &
pids+=($!)
wait_for "the API server's kubeconfig" test -s "$work/api/kubeconfig"
taskset -c "$cpus" dotnet "$work/bin/Switchboard.DnsBench.dll" serve --kubeconfig "$work/api/kubeconfig" \
  --listen "127.0.0.1:$sb_port" --ops "127.0.0.1:$ops_port" >"$work/dns.log" 2>&1 &
pids+=($!)
wait_for "Switchboard DNS /ready" curl -sf "http://127.0.0.1:$ops_port/ready"
if ((trace)); then
  off_port=$(free_port) off_ops=$(free_port)
  taskset -c "$cpus" dotnet "$work/bin/Switchboard.DnsBench.dll" serve --kubeconfig "$work/api/kubeconfig" \
    --listen "127.0.0.1:$off_port" --ops "127.0.0.1:$off_ops" --trace-buffer 0 >"$work/dns-off.log" 2>&1 &
  pids+=($!)
  wait_for "Switchboard DNS (trace off) /ready" curl -sf "http://127.0.0.1:$off_ops/ready"
fi

echo "creating $count services through the API server…" >&2
bench populate --kubeconfig "$work/api/kubeconfig" --dns "127.0.0.1:$sb_port" --count "$count" --out "$work" | tee "$work/populate.txt"

cat >"$work/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: $ub_port
  do-ip6: no
  num-threads: $(nproc)
  so-reuseport: yes
  username: ""
  chroot: ""
  directory: "$work"
  pidfile: "$work/unbound.pid"
  do-daemonize: no
  use-syslog: no
  logfile: "$work/unbound.log"
  verbosity: 0
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  local-zone: "." refuse
  include: "$work/unbound-local.conf"
CONF
unbound-checkconf "$work/unbound.conf" >/dev/null
taskset -c "$cpus" unbound -c "$work/unbound.conf" &
pids+=($!)
wait_for "unbound" dig @127.0.0.1 -p "$ub_port" +time=1 +tries=1 svc-00000.bench.svc.cluster.local A +short

perf() { # port seconds → QPS
  taskset -c "$cpus" dnsperf -s 127.0.0.1 -p "$1" -d "$work/queries.txt" -l "$2" -c 4 -T 2 -q 400 2>&1 \
    | awk '/Queries per second/ { print $4 }'
}
# Warm both (JIT tiers, caches) before measuring.
perf "$sb_port" 3 >/dev/null
((trace)) && perf "$off_port" 3 >/dev/null
perf "$ub_port" 3 >/dev/null
for round in $(seq "$rounds"); do
  sb=$(perf "$sb_port" "$seconds"); echo "round $round switchboard: $sb qps" >&2; echo "switchboard $sb" >>"$work/qps"
  ub=$(perf "$ub_port" "$seconds"); echo "round $round unbound: $ub qps" >&2; echo "unbound $ub" >>"$work/qps"
  if ((trace)); then
    # A reader attached for the whole measurement: it follows the trace stream and counts lines (and lost events).
    curl -sN "http://127.0.0.1:$ops_port/trace?follow=true" >"$work/trace-$round.ndjson" &
    reader=$!
    traced=$(perf "$sb_port" "$seconds"); echo "round $round switchboard, trace attached: $traced qps" >&2; echo "traced $traced" >>"$work/qps"
    kill "$reader"; wait "$reader" 2>/dev/null || true
    echo "round $round trace reader: $(grep -c '"type":"dns"' "$work/trace-$round.ndjson") events read, $(awk -F'"lost":' 'NF > 1 { s += $2 + 0 } END { print s + 0 }' "$work/trace-$round.ndjson") lost" >&2
    off=$(perf "$off_port" "$seconds"); echo "round $round switchboard, trace buffer off: $off qps" >&2; echo "off $off" >>"$work/qps"
  fi
done

mean() { awk -v who="$1" '$1 == who { s += $2; n++ } END { printf "%.0f", s / n }' "$work/qps"; }
median() { awk -v who="$1" '$1 == who { print $2 }' "$work/qps" | sort -n | awk '{ v[NR] = $1 } END { printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
sb=$(mean switchboard) ub=$(mean unbound)
echo "switchboard qps (mean of $rounds × ${seconds}s): $sb"
echo "unbound qps (mean of $rounds × ${seconds}s): $ub"
p99=$(sed -n 's/^programming_latency_created_to_answered_ms .*p99=\([0-9.]*\).*/\1/p' "$work/populate.txt")
echo "dns programming latency p99 (service created → answered): ${p99} ms"
curl -sf "http://127.0.0.1:$ops_port/metrics" | awk -F'[{}" ]+' '
  /^switchboard_dns_programming_duration_seconds_bucket\{kind="service"/ { c[n + 0] = $NF + 0; le[n + 0] = $5; n++ }
  /^switchboard_dns_programming_duration_seconds_(sum|count)\{kind="service"/ { v[$1] = $NF }
  END {
    for (i = 0; i < n && c[i] < 0.99 * c[n - 1]; i++) {}
    printf "switchboard server-side programming latency (watch event → answer): mean %.3f ms, p99 <= %s s (histogram bucket), %d events\n",
      1000 * v["switchboard_dns_programming_duration_seconds_sum"] / v["switchboard_dns_programming_duration_seconds_count"], le[i], c[n - 1]
  }'
if ((trace)); then
  traced=$(mean traced) off=$(mean off)
  echo "switchboard qps with a trace attached (mean of $rounds × ${seconds}s): $traced"
  echo "switchboard qps with the trace buffer off (mean of $rounds × ${seconds}s): $off"
  awk -v t="$traced" -v s="$sb" 'BEGIN { printf "trace attached/none qps ratio: %.2f\n", t / s }'
  # Round by round (each attached run right after its own unattached one), and their median: the noise of a shared machine shows.
  paste <(awk '$1 == "switchboard" { print $2 }' "$work/qps") <(awk '$1 == "traced" { print $2 }' "$work/qps") \
    | awk '{ r[NR] = $2 / $1; printf "%s%.2f", (NR > 1 ? " " : "trace attached/none qps ratio by round: "), r[NR] } END { print "" }'
  paste <(awk '$1 == "switchboard" { print $2 }' "$work/qps") <(awk '$1 == "traced" { print $2 }' "$work/qps") \
    | awk '{ print $2 / $1 }' | sort -n | awk '{ v[NR] = $1 } END { printf "trace attached/none qps ratio (median of rounds): %.2f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
  echo "switchboard qps medians: none $(median switchboard), trace attached $(median traced), trace buffer off $(median off)"
  awk -v s="$sb" -v o="$off" 'BEGIN { printf "trace buffer on/off qps ratio: %.2f\n", s / o }'
fi
awk -v s="$sb" -v u="$ub" 'BEGIN { printf "switchboard/unbound qps ratio: %.2f\n", s / u }'
