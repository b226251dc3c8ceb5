#!/usr/bin/env bash
# DNS benchmark: the shipped `switchboard dns` against unbound (Debian) serving the same 10,000 names.
# 1. `switchboard apiserver` (SQLite) and `switchboard dns`, the published binary (scripts/publish.sh), run as their
#    own processes on loopback; the DNS server's forwarder points at a loopback port where nothing listens.
# 2. 10,000 Services are created THROUGH THE API SERVER (KubernetesClient, 8 at a time); each is timed
#    from "create returned" to "the DNS server answers it" (DNS programming latency as a client sees it).
# 3. unbound gets the same names as local-data (local-zone static: no outside access, NXDOMAIN otherwise), as
#    many threads as Switchboard has UDP sockets (one per CPU it may run on), and the same 4 MiB socket buffers.
# 4. dnsperf runs for SECONDS against each, ROUNDS times, with one query file (70% existing names, 30% NXDOMAIN),
#    every process on the same cores (taskset CPUS); rounds alternate which server goes first. A measurement with a
#    lost query or an rcode other than NOERROR/NXDOMAIN fails the run.
# Prints both QPS (median of the rounds), the programming latency p99 and, last:
#   switchboard/unbound qps ratio: X.XX
# With --trace, each round also measures Switchboard with a `switchboard trace -f` reader attached (curl following
# /trace as fast as it reads) and a second Switchboard DNS with its trace buffer off (--dns-trace-buffer 0), and prints
#   trace attached/none qps ratio: X.XX      (target >= 0.9)
#   trace buffer on/off qps ratio: X.XX      (the cost of always recording for --last)
# With --up, the Switchboard side is the whole `switchboard up` (API, controllers, node, proxy and DNS in one process,
# as users run it) instead of the apiserver and dns pair, and its peak RSS with COUNT services is printed.
# Usage: bench/dns.sh [--trace] [--up] [COUNT=10000] [SECONDS=15] [ROUNDS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
trace=0 up=0
while [[ ${1:-} == --* ]]; do
  case $1 in
    --trace) trace=1 ;;
    --up) up=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
count=${1:-10000}
seconds=${2:-15}
rounds=${3:-2}
cpus=${CPUS:-0-$(($(nproc) - 1))}
work=$(mktemp -d /tmp/switchboard-bench-dns.XXXXXX)
pids=()

cleanup() {
  if ((up)); then
    stop_up "$work/switchboard" "$work/api" "${server_pid:-}" # `down`: up's node namespace goes too, which a SIGTERM leaves
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # what command…: retries for 60 s
  local what=$1; shift
  for _ in $(seq 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for $what" >&2; exit 1
}

bash scripts/publish.sh "$work/switchboard" >/dev/null
dotnet build bench/Switchboard.DnsBench -c Release --nologo -v quiet -o "$work/bin" >/dev/null
bench() { dotnet "$work/bin/Switchboard.DnsBench.dll" "$@"; }
# An array, not a function: started with &, the pid is then switchboard's own (taskset execs dotnet), to kill and measure.
switchboard=(taskset -c "$cpus" "$work/switchboard/switchboard")

api_port=$(free_port) sb_port=$(free_port) ops_port=$(free_port) ub_port=$(free_port) nowhere=$(free_port)
if ((up)); then
  "${switchboard[@]}" up --data-dir "$work/api" --api-port "$api_port" --kubelet-port "$(free_port)" --etcd-listen "127.0.0.1:$(free_port)" --dns-port "$sb_port" \
    --dns-metrics "127.0.0.1:$ops_port" --upstream "127.0.0.1:$nowhere" >"$work/up.log" 2>&1 &
else
  "${switchboard[@]}" apiserver --data-dir "$work/api" --store sqlite --api-port "$api_port" --etcd-listen "127.0.0.1:$(free_port)" >"$work/api.log" 2>&1 &
fi
server_pid=$!
pids+=($server_pid)
wait_for "the API server's kubeconfig" test -s "$work/api/kubeconfig"
dns() { # DNS-PORT METRICS-PORT LOG [flag…]: the shipped DNS server, in the background
  local port=$1 ops=$2 log=$3; shift 3
  "${switchboard[@]}" dns --kubeconfig "$work/api/kubeconfig" --listen "127.0.0.1:$port" --metrics "127.0.0.1:$ops" \
    --upstream "127.0.0.1:$nowhere" "$@" >"$log" 2>&1 &
  pids+=($!)
  wait_for "Switchboard DNS /ready on $ops" curl -sf "http://127.0.0.1:$ops/ready"
}
if ((up)); then
  wait_for "switchboard up's DNS /ready" curl -sf "http://127.0.0.1:$ops_port/ready"
else
  dns "$sb_port" "$ops_port" "$work/dns.log"
fi
if ((trace)); then
  off_port=$(free_port) off_ops=$(free_port)
  dns "$off_port" "$off_ops" "$work/dns-off.log" --dns-trace-buffer 0
fi

echo "creating $count services through the API server…" >&2
bench populate --kubeconfig "$work/api/kubeconfig" --dns "127.0.0.1:$sb_port" --count "$count" --out "$work" | tee "$work/populate.txt"

cat >"$work/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: $ub_port
  do-ip6: no
  num-threads: $(taskset -c "$cpus" nproc)
  so-reuseport: yes
  so-rcvbuf: 4m
  so-sndbuf: 4m
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

perf() { # name port seconds → QPS; fails the run on lost queries or unexpected rcodes
  local out="$work/dnsperf-$1-$RANDOM.txt"
  taskset -c "$cpus" dnsperf -s 127.0.0.1 -p "$2" -d "$work/queries.txt" -l "$3" -c 4 -T 2 -q 400 >"$out" 2>&1
  local lost rcodes
  lost=$(awk '/Queries lost:/ { print $3 }' "$out")
  rcodes=$(sed -n 's/^ *Response codes: *//p' "$out" | tr ',' '\n' | awk '{ print $1 }' | grep -vxE 'NOERROR|NXDOMAIN' || true)
  if [ "$lost" != 0 ] || [ -n "$rcodes" ]; then
    echo "dnsperf against $1: ${lost:-?} queries lost, unexpected rcodes: ${rcodes:-none}" >&2
    cat "$out" >&2
    exit 1
  fi
  awk '/Queries per second/ { print $4 }' "$out"
}
measure() { # name port: one timed run, recorded
  local qps
  qps=$(perf "$1" "$2" "$seconds")
  echo "round $round $1: $qps qps" >&2
  echo "$1 $qps" >>"$work/qps"
}
traced() { # a reader attached for the whole measurement: it follows the trace stream and counts lines (and lost events)
  curl -sN "http://127.0.0.1:$ops_port/trace?follow=true" >"$work/trace-$round.ndjson" &
  local reader=$!
  measure traced "$sb_port"
  kill "$reader"; wait "$reader" 2>/dev/null || true
  echo "round $round trace reader: $(grep -c '"type":"dns"' "$work/trace-$round.ndjson") events read, $(awk -F'"lost":' 'NF > 1 { s += $2 + 0 } END { print s + 0 }' "$work/trace-$round.ndjson") lost" >&2
}
# Warm every server (JIT tiers, caches) before measuring.
perf warmup "$sb_port" 3 >/dev/null
((trace)) && perf warmup "$off_port" 3 >/dev/null
perf warmup "$ub_port" 3 >/dev/null
for round in $(seq "$rounds"); do
  steps=("measure switchboard $sb_port" "measure unbound $ub_port")
  ((trace)) && steps+=(traced "measure off ${off_port:-}")
  if ((round % 2 == 0)); then # the other order: whoever went first last round goes last
    for ((i = ${#steps[@]} - 1; i >= 0; i--)); do ${steps[i]}; done
  else
    for step in "${steps[@]}"; do $step; done
  fi
done

median() { awk -v who="$1" '$1 == who { print $2 }' "$work/qps" | sort -g | awk '{ a[NR] = $1 } END { printf "%.0f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
sb=$(median switchboard) ub=$(median unbound)
echo "switchboard qps (median of $rounds × ${seconds}s): $sb"
echo "unbound qps (median of $rounds × ${seconds}s): $ub"
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
  traced=$(median traced) off=$(median off)
  echo "switchboard qps with a trace attached (median of $rounds × ${seconds}s): $traced"
  echo "switchboard qps with the trace buffer off (median of $rounds × ${seconds}s): $off"
  awk -v t="$traced" -v s="$sb" 'BEGIN { printf "trace attached/none qps ratio: %.2f\n", t / s }'
  # Round by round (each attached run right after its own unattached one), and their median: the noise of a shared machine shows.
  paste <(awk '$1 == "switchboard" { print $2 }' "$work/qps") <(awk '$1 == "traced" { print $2 }' "$work/qps") \
    | awk '{ r[NR] = $2 / $1; printf "%s%.2f", (NR > 1 ? " " : "trace attached/none qps ratio by round: "), r[NR] } END { print "" }'
  paste <(awk '$1 == "switchboard" { print $2 }' "$work/qps") <(awk '$1 == "traced" { print $2 }' "$work/qps") \
    | awk '{ print $2 / $1 }' | sort -g | awk '{ v[NR] = $1 } END { printf "trace attached/none qps ratio (median of rounds): %.2f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
  awk -v s="$sb" -v o="$off" 'BEGIN { printf "trace buffer on/off qps ratio: %.2f\n", s / o }'
fi
if ((up)); then
  echo "switchboard up peak RSS (VmHWM) with $count services: $(($(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status") / 1024)) MB"
fi
awk -v s="$sb" -v u="$ub" 'BEGIN { printf "switchboard/unbound qps ratio: %.2f\n", s / u }'
