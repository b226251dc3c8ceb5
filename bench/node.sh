#!/usr/bin/env bash
# Node benchmark: `switchboard up` (API server, controllers, one real node; its own process) runs a Deployment of the
# echo image with an httpGet /healthz readiness probe, scaled from 0 to N for each N (default 10 and 50). A watcher
# times, per pod, its creation to its Ready condition (pod start p50, p99), and the scale to N pods Ready (pods/s).
# In the same run, the floor: a shell loop doing, for the same N pods at once, each pod's setup with `ip` as the node
# does it (a network namespace, a veth on a bridge, addresses and routes, in a throwaway namespace standing for the
# node) and starting the echo program in it (the published switchboard-echo, which the node runs too) until it
# listens, timed per pod. The floor's programs run in a cgroup weighed as the node's pods are (beside them under
# switchboard/, with the machine's cpus as shares): the node's pods meet the machine's other load as one group of that
# weight, so the floor's must too, or a busy machine starves the node's pods and not the floor's.
# Last line: pod start p99 / raw setup p99 at the largest N (target <= 2.0; the absolute p99 <= 300 ms).
# Usage: bench/node.sh [COUNTS=10,50] (SWITCHBOARD=DIR measures that published switchboard instead of publishing one)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
counts=${1:-10,50}
work=$(mktemp -d /tmp/switchboard-bench-node.XXXXXX)
floor=sbbench-$$
floor_cgroup=
up_pid=
bin=${SWITCHBOARD:-$work/switchboard}

stop_floor() {
  if [ -f "$work/floor-pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$work/floor-pids"
    rm -f "$work/floor-pids" "$work"/floor-[0-9]*
  fi
  for ns in $(ip netns list | awk -v p="$floor-" 'index($1, p) == 1 { print $1 }'); do ip netns del "$ns"; done
  # Its programs are gone once the kernel has reaped them: until then the cgroup is busy.
  for _ in $(seq 100); do
    [ -n "$floor_cgroup" ] && [ -d "$floor_cgroup" ] && ! rmdir "$floor_cgroup" 2>/dev/null || break
    sleep 0.1
  done
  floor_cgroup=
}

cleanup() {
  stop_floor
  stop_up "$bin" "$work/data" "$up_pid"
  rm -rf "$work"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

[ -n "${SWITCHBOARD:-}" ] || bash scripts/publish.sh "$bin" >/dev/null
publish_load_generator "$work/load"
sb=("$bin/switchboard")

# The floor, for N pods at once as a scale makes them: per pod, in the background, what the node's network setup
# runs (a namespace, one `ip -batch` on the node side, one in the pod), then the container's program, until it says
# it listens (its first line, read from a fifo: no polling). Each pod's time runs from the start of the batch (the
# node's pods are timed from their own creation, which the ReplicaSet spreads a little: the floor's figures lean
# high, never low).
raw_pod() {
  local i=$1 t0=$2 node=$floor-node ns=$floor-p$1 ip=10.250.$(($1 / 250)).$(($1 % 250 + 2)) fifo=$work/floor-$1 line
  ip netns add "$ns"
  ip -n "$node" -batch - <<<"link add v$i type veth peer name eth0 netns $ns
link set v$i master br0
link set v$i type bridge_slave hairpin on
link set v$i up"
  ip -n "$ns" -batch - <<<"link set lo up
addr add $ip/16 dev eth0
link set eth0 up
route add default via 10.250.255.254"
  mkfifo "$fifo"
  setsid sh -c '[ -z "$0" ] || echo $$ >"$0/cgroup.procs"; exec "$@"' "$floor_cgroup" ip netns exec "$ns" "$bin/switchboard-echo" --http-port=8080 </dev/null >"$fifo" 2>/dev/null &
  echo $! >>"$work/floor-pids"
  read -r line <"$fifo" || { echo "the floor's echo program did not start in $ns" >&2; return 1; }
  echo $(( ($(now_ns) - t0) / 1000000 ))
}

raw_setup() {
  local n=$1 i t0
  if [ -f /sys/fs/cgroup/cpu/cpu.shares ]; then
    floor_cgroup=/sys/fs/cgroup/cpu/switchboard/$floor
    for level in "${floor_cgroup%/*}" "$floor_cgroup"; do
      [ -d "$level" ] || { mkdir "$level" && echo $(($(nproc) * 1024)) >"$level/cpu.shares"; }
    done
  fi
  ip netns add "$floor-node"
  ip -n "$floor-node" -batch - <<<"link set lo up
link add br0 type bridge
addr add 10.250.255.254/16 dev br0
link set br0 up"
  t0=$(now_ns)
  for i in $(seq "$n"); do raw_pod "$i" "$t0" & done
  wait
}

# p50 and p99 (nearest rank, as the load generator's) of the numbers on stdin.
percentiles() { sort -n | awk '{ v[NR - 1] = $1 } END { i = int(0.99 * NR); if (i > NR - 1) i = NR - 1; printf "%d %d\n", v[int(0.5 * NR)], v[i] }'; }

IFS=, read -ra ns_list <<<"$counts"
for n in "${ns_list[@]}"; do
  raw_setup "$n" >"$work/raw-$n"
  stop_floor
  [ "$(wc -l <"$work/raw-$n")" -eq "$n" ] || { echo "the floor did not set up $n pods" >&2; exit 1; }
  read -r p50 p99 < <(percentiles <"$work/raw-$n")
  last=$(sort -n "$work/raw-$n" | tail -1)
  {
    echo "n${n}_raw_seconds=$(awk -v ms="$last" 'BEGIN { printf "%.2f", ms / 1000 }')"
    echo "n${n}_raw_pods_per_second=$(awk -v ms="$last" -v n="$n" 'BEGIN { printf "%.1f", n * 1000 / ms }')"
    echo "n${n}_raw_setup_p50_ms=$p50"
    echo "n${n}_raw_setup_p99_ms=$p99"
  } >>"$work/floor"
done

port=$(free_port)
"${sb[@]}" up --data-dir "$work/data" --api-port "$port" --etcd-listen "127.0.0.1:$(free_port)" --dns-port "$(free_port)" --dns-metrics "127.0.0.1:$(free_port)" \
  --kubelet-port "$(free_port)" --proxy-metrics-port "$(free_port)" >"$work/up.log" 2>&1 &
up_pid=$!
for _ in $(seq 600); do
  [ -s "$work/data/kubeconfig" ] && kubectl --kubeconfig "$work/data/kubeconfig" wait node --all --for=condition=Ready --timeout=1s >/dev/null 2>&1 && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; echo "switchboard up exited" >&2; exit 1; }
  sleep 0.1
done
kubectl --kubeconfig "$work/data/kubeconfig" wait node --all --for=condition=Ready --timeout=1s >/dev/null || { echo "no Ready node after 60 s" >&2; exit 1; }

status=0
dotnet "$work/load/Switchboard.LoadGenerator.dll" node --kubeconfig "$work/data/kubeconfig" --counts "$counts" >"$work/results" || status=$?
cat "$work/results" "$work/floor"
if [ "$status" -ne 0 ]; then
  echo "the run did not complete; last lines of switchboard up's log:" >&2
  tail -20 "$work/up.log" >&2
  exit "$status"
fi

figure() { grep "^$1=" "$work/results" "$work/floor" | head -1 | cut -d= -f2; }
echo
for n in "${ns_list[@]}"; do
  printf 'N=%-3s %6s pods/s (floor %s)  pod start p50 %s ms, p99 %s ms (floor p50 %s ms, p99 %s ms; target p99 <= 300 ms)\n' "$n" \
    "$(figure "n${n}_pods_per_second")" "$(figure "n${n}_raw_pods_per_second")" "$(figure "n${n}_pod_start_p50_ms")" \
    "$(figure "n${n}_pod_start_p99_ms")" "$(figure "n${n}_raw_setup_p50_ms")" "$(figure "n${n}_raw_setup_p99_ms")"
done
last=${ns_list[-1]}
awk -v a="$(figure "n${last}_pod_start_p99_ms")" -v b="$(figure "n${last}_raw_setup_p99_ms")" 'BEGIN { printf "pod start p99 / raw setup ratio: %.2f\n", a / b }'
