#!/usr/bin/env bash
# Streaming benchmark (issue 12): kubectl's streaming commands through `switchboard up` (API server relay, node agent)
# against the raw tool doing the same work in the same run. One section per command; each prints its figures and
# its last line, a ratio against the raw tool.
# - port-forward: one 100 MiB HTTP download (nginx serving a file in a pod) through `kubectl port-forward`, against the
#   same download straight from the pod's IP (curl inside the node's network namespace); median of RUNS each.
#   Target: port-forward / direct >= 0.5.
# Usage: bench/streams.sh [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
work=$(mktemp -d /tmp/switchboard-bench-streams.XXXXXX)
up_pid=
forward_pid=

cleanup() {
  if [ -n "$forward_pid" ]; then
    kill "$forward_pid" 2>/dev/null || true
    wait "$forward_pid" 2>/dev/null || true
  fi
  if [ -n "$up_pid" ]; then
    dotnet "$work/switchboard/switchboard.dll" down --data-dir "$work/data" >/dev/null 2>&1 || kill "$up_pid" 2>/dev/null
    wait "$up_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
k() { kubectl --kubeconfig "$work/data/kubeconfig" "$@"; }

bash scripts/publish.sh "$work/switchboard" >/dev/null
sb=(dotnet "$work/switchboard/switchboard.dll")
port=$(free_port)
"${sb[@]}" up --data-dir "$work/data" --api-port "$port" --kubelet-port "$(free_port)" --dns-port "$(free_port)" --dns-metrics "127.0.0.1:$(free_port)" >"$work/up.log" 2>&1 &
up_pid=$!
for _ in $(seq 600); do
  [ -s "$work/data/kubeconfig" ] && k wait node --all --for=condition=Ready --timeout=1s >/dev/null 2>&1 && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; echo "switchboard up exited" >&2; exit 1; }
  sleep 0.1
done
k wait node --all --for=condition=Ready --timeout=1s >/dev/null || { echo "no Ready node after 60 s" >&2; exit 1; }
k create namespace bench >/dev/null

# Bytes per second of one HTTP download of URL with curl (run by the command before it, e.g. `ip netns exec NS`).
download_rate() {
  local out
  out=$("$@" -fsS -o /dev/null -w '%{size_download} %{speed_download}')
  [ "${out%% *}" -eq $((100 * 1024 * 1024)) ] || { echo "short download: $out" >&2; exit 1; }
  echo "${out#* }"
}

section_portforward() {
  local files=$work/files pod_ip uid node_ns local_port direct=() forwarded=() i
  # nginx's workers read the file as www-data: the directories on the way must be searchable.
  mkdir -p "$files"
  chmod 755 "$work" "$files"
  head -c $((100 * 1024 * 1024)) /dev/urandom >"$files/big"
  chmod 644 "$files/big"
  k apply -n bench -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: nginx}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx
    image: nginx
    ports: [{containerPort: 80}]
    readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
    volumeMounts: [{name: files, mountPath: /usr/share/nginx/html/files, readOnly: true}]
  volumes:
  - name: files
    hostPath: {path: $files, type: Directory}
YAML
  k wait -n bench pod/nginx --for=condition=Ready --timeout=60s >/dev/null
  pod_ip=$(k get -n bench pod/nginx -o jsonpath='{.status.podIP}')
  uid=$(k get -n bench pod/nginx -o jsonpath='{.metadata.uid}')
  # The pod's namespace is the node's name, '_', the pod's uid.
  node_ns=$(ip netns list | awk -v s="_$uid" '{ n = $1 } index(n, s) && substr(n, length(n) - length(s) + 1) == s { print substr(n, 1, length(n) - length(s)) }')
  [ -n "$node_ns" ] || { echo "no network namespace for pod uid $uid" >&2; exit 1; }

  kubectl --kubeconfig "$work/data/kubeconfig" port-forward -n bench pod/nginx :80 >"$work/forward.log" 2>&1 &
  forward_pid=$!
  for _ in $(seq 300); do
    local_port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) -> 80$/\1/p' "$work/forward.log")
    [ -n "$local_port" ] && break
    kill -0 "$forward_pid" 2>/dev/null || { cat "$work/forward.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$local_port" ] || { echo "kubectl port-forward did not listen" >&2; exit 1; }

  for i in $(seq "$runs"); do
    direct+=("$(download_rate ip netns exec "$node_ns" curl "http://$pod_ip/files/big")")
    forwarded+=("$(download_rate curl "http://127.0.0.1:$local_port/files/big")")
  done
  kill "$forward_pid"
  wait "$forward_pid" 2>/dev/null || true
  forward_pid=

  local direct_median forwarded_median
  direct_median=$(printf '%s\n' "${direct[@]}" | median)
  forwarded_median=$(printf '%s\n' "${forwarded[@]}" | median)
  awk -v d="$direct_median" -v f="$forwarded_median" -v n="$runs" 'BEGIN {
    printf "port-forward: 100 MiB download, median of %d: direct from the pod IP %.0f MB/s, through kubectl port-forward %.0f MB/s\n", n, d / 1e6, f / 1e6
    printf "port-forward / direct throughput ratio: %.2f (target >= 0.5)\n", f / d
  }'
}

section_portforward
