#!/usr/bin/env bash
# Node benchmark: `switchboard up` (API server, controllers, one real node; its own process) runs a Deployment of the
# echo image with an httpGet /healthz readiness probe, scaled from 0 to N for each N (default 10 and 50). A watcher
# times, per pod, its creation to its Ready condition (pod start p50, p99), and the scale to N pods Ready (pods/s).
# In the same run, the floor: a shell loop doing, for the same N, each pod's setup with `ip` as the node does it (a
# network namespace, a veth on a bridge, addresses and routes, in a throwaway namespace standing for the node) and
# starting the echo program in it until it answers /healthz, timed per pod.
# Last line: pod start p99 / raw setup p99 at the largest N (target <= 2.0; the absolute p99 <= 300 ms).
# Usage: bench/node.sh [COUNTS=10,50]
set -euo pipefail
cd "$(dirname "$0")/.."
counts=${1:-10,50}
work=$(mktemp -d /tmp/switchboard-bench-node.XXXXXX)
floor=sbbench-$$
up_pid=
floor_pids=()

cleanup() {
  for pid in "${floor_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ns in $(ip netns list | awk -v p="$floor-" 'index($1, p) == 1 { print $1 }'); do ip netns del "$ns"; done
  if [ -n "$up_pid" ]; then
    dotnet "$work/switchboard/switchboard.dll" down --data-dir "$work/data" >/dev/null 2>&1 || kill "$up_pid" 2>/dev/null
    wait "$up_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }

bash scripts/publish.sh "$work/switchboard" >/dev/null
dotnet build bench/Switchboard.LoadGenerator -c Release --nologo -v quiet -o "$work/load" >/dev/null
sb=(dotnet "$work/switchboard/switchboard.dll")

# The floor: per pod what the node's network setup runs (a namespace, one `ip -batch` on the node side, one in the
# pod), then the container's program, until its /healthz answers as a readiness probe from the node would see it.
raw_setup() {
  local n=$1 node=$floor-node i ns ip t0 pid
  ip netns add "$node"
  ip -n "$node" -batch - <<<"link set lo up
link add br0 type bridge
addr add 10.250.0.1/24 dev br0
link set br0 up"
  for i in $(seq "$n"); do
    ns=$floor-p$i ip=10.250.0.$((i + 1))
    t0=$(now_ns)
    ip netns add "$ns"
    ip -n "$node" -batch - <<<"link add v$i type veth peer name eth0 netns $ns
link set v$i master br0
link set v$i type bridge_slave hairpin on
link set v$i up"
    ip -n "$ns" -batch - <<<"link set lo up
addr add $ip/24 dev eth0
link set eth0 up
route add default via 10.250.0.1"
    setsid ip netns exec "$ns" "${sb[@]}" image echo --http-port=8080 </dev/null >/dev/null 2>&1 &
    pid=$!
    floor_pids+=("$pid")
    until ip netns exec "$node" curl -sf -o /dev/null --max-time 1 "http://$ip:8080/healthz"; do
      kill -0 "$pid" 2>/dev/null || { echo "the echo program in $ns exited" >&2; return 1; }
      sleep 0.005
    done
    echo $(( ($(now_ns) - t0) / 1000000 ))
  done
}

# p50 and p99 (nearest rank, as the load generator's) of the numbers on stdin.
percentiles() { sort -n | awk '{ v[NR - 1] = $1 } END { i = int(0.99 * NR); if (i > NR - 1) i = NR - 1; printf "%d %d\n", v[int(0.5 * NR)], v[i] }'; }

IFS=, read -ra ns_list <<<"$counts"
for n in "${ns_list[@]}"; do
  t0=$(now_ns)
  raw_setup "$n" >"$work/raw-$n"
  t1=$(now_ns)
  for pid in "${floor_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  floor_pids=()
  for ns in $(ip netns list | awk -v p="$floor-" 'index($1, p) == 1 { print $1 }'); do ip netns del "$ns"; done
  read -r p50 p99 < <(percentiles <"$work/raw-$n")
  echo "n${n}_raw_setup_seconds=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e9 }')" >>"$work/floor"
  echo "n${n}_raw_pods_per_second=$(awk -v d=$((t1 - t0)) -v n="$n" 'BEGIN { printf "%.1f", n * 1e9 / d }')" >>"$work/floor"
  echo "n${n}_raw_setup_p50_ms=$p50" >>"$work/floor"
  echo "n${n}_raw_setup_p99_ms=$p99" >>"$work/floor"
done

port=$(free_port)
"${sb[@]}" up --data-dir "$work/data" --api-port "$port" --dns-port "$(free_port)" --dns-metrics "127.0.0.1:$(free_port)" >"$work/up.log" 2>&1 &
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
