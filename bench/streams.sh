#!/usr/bin/env bash
# Streaming benchmark against `switchboard up` (published as the README's first command does), with the real kubectl:
#   - exec round trip: `kubectl exec POD -- true`, p50 over RUNS runs, against `ip netns exec` of the pod's namespace
#     running the same command (target: within 3x; kubectl's own start-up and its pod GET cost most of it);
#   - exec throughput: `kubectl exec POD -- cat FILE` of 100 MiB to /dev/null, through the API server's relay and the
#     node's channel WebSocket, best of 3 (target >= 200 MB/s) against `ip netns exec … cat` of the same file.
# Each last line gives the ratio against the raw tool in the same run.
# Usage: bench/streams.sh [RUNS=50]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
work=$(mktemp -d /tmp/switchboard-bench-streams.XXXXXX)
up_pid=

cleanup() {
  if [ -n "$up_pid" ]; then
    dotnet "$work/switchboard/switchboard.dll" down --data-dir "$work/data" >/dev/null 2>&1 || kill "$up_pid" 2>/dev/null
    wait "$up_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

bash scripts/publish.sh "$work/switchboard" >/dev/null
api_port=$(free_port)
dotnet "$work/switchboard/switchboard.dll" up --data-dir "$work/data" --api-port "$api_port" --dns-port "$(free_port)" \
  --dns-metrics "127.0.0.1:$(free_port)" --kubelet-port "$(free_port)" >"$work/up.log" 2>&1 &
up_pid=$!
until curl -sk --max-time 1 "https://127.0.0.1:$api_port/readyz" 2>/dev/null | grep -qx ok; do
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; echo "switchboard up exited" >&2; exit 1; }
  sleep 0.05
done

export KUBECONFIG="$work/data/kubeconfig"
k() { kubectl --cache-dir "$work/kubectl-cache" "$@"; }
k run bench --image=debian --restart=Never -- sleep infinity >/dev/null
k wait --for=condition=Ready pod/bench --timeout=120s >/dev/null
uid=$(k get pod bench -o jsonpath='{.metadata.uid}')
netns=$(ip netns list | awk '{ print $1 }' | grep "_$uid\$")
# The file lives in the pod's own root (its overlay), made there by exec.
k exec bench -- sh -c 'head -c 104857600 /dev/zero > /tmp/100MiB'
# The container's pid (its monitor's record), whose /proc root is the pod's root as the host reaches it.
root=/proc/$(cut -d' ' -f1 "$work"/data/nodes/*/pods/"$uid"/containers/bench/*/pid)/root

for _ in $(seq "$runs"); do
  t0=$(now_ns); k exec bench -- true; echo $(( ($(now_ns) - t0) / 1000 ))
done | median >"$work/kubectl_us"
for _ in $(seq "$runs"); do
  t0=$(now_ns); ip netns exec "$netns" true; echo $(( ($(now_ns) - t0) / 1000 ))
done | median >"$work/netns_us"

best_mbps() { # command… : best of 3 of 100 MiB / elapsed
  local best=0
  for _ in 1 2 3; do
    local t0 t1 mbps
    t0=$(now_ns); "$@" >/dev/null; t1=$(now_ns)
    mbps=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", 104857600 / (ns / 1e9) / 1e6 }')
    [ "$mbps" -gt "$best" ] && best=$mbps
  done
  echo "$best"
}
kubectl_mbps=$(best_mbps k exec bench -- cat /tmp/100MiB)
bytes=$(k exec bench -- cat /tmp/100MiB | wc -c)
[ "$bytes" -eq 104857600 ] || { echo "kubectl exec cat carried $bytes bytes, not 104857600" >&2; exit 1; }
raw_mbps=$(best_mbps ip netns exec "$netns" cat "$root/tmp/100MiB")

kubectl_ms=$(awk -v us="$(cat "$work/kubectl_us")" 'BEGIN { printf "%.1f", us / 1000 }')
netns_ms=$(awk -v us="$(cat "$work/netns_us")" 'BEGIN { printf "%.1f", us / 1000 }')
echo "kubectl exec POD -- true: p50 $kubectl_ms ms over $runs runs; ip netns exec true: p50 $netns_ms ms"
echo "kubectl exec POD -- cat 100 MiB: $kubectl_mbps MB/s (target >= 200); ip netns exec cat: $raw_mbps MB/s"
echo "exec round trip ratio: $(awk -v a="$kubectl_ms" -v b="$netns_ms" 'BEGIN { printf "%.1f", a / b }')x (target <= 3x)"
echo "exec throughput ratio: $(awk -v a="$kubectl_mbps" -v b="$raw_mbps" 'BEGIN { printf "%.2f", a / b }')x of the raw cat"
