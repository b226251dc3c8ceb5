#!/usr/bin/env bash
# Streaming benchmark (issue 12): kubectl's streaming commands through `switchboard up` (API server relay, node agent)
# against the raw tool doing the same work in the same run. One section per command; each prints its figures and
# its last line, a ratio against the raw tool.
# - exec round trip: `kubectl exec POD -- true`, p50 over RUNS*10 runs, against `ip netns exec` of the pod's network
#   namespace running the same command. Target: within 3x (kubectl's own start-up and its pod GET cost most of it).
#   The same rounds also time `kubectl version --client` (kubectl's own start), `kubectl get pod POD` (start, TLS, the
#   discovery cache, one GET, a table) and `kubectl get --raw` of the pod (start, TLS, one GET: what exec does before it
#   dials), one of each per round, so a line shows what of the exec is kubectl's and what is the server's.
# - exec throughput: `kubectl exec POD -- cat` of a 100 MiB file in the pod's own root to /dev/null (API server relay,
#   the node's channel WebSocket), best of 3, against `ip netns exec … cat` of the same file. Target: >= 200 MB/s.
# - port-forward: one 100 MiB HTTP download (nginx serving a file in a pod) through `kubectl port-forward`, against the
#   same download straight from the pod's IP (curl inside the node's network namespace); median of RUNS each.
#   Target: port-forward / direct >= 0.5. It also prints the CPU time switchboard (API server relay and node) and
#   kubectl spent per forwarded 100 MiB, a figure the other tenants of a loaded machine move less than the rates.
#   Where a forwarded byte's CPU goes (perf of `up`, 100 MiB downloads, JIT-compiled for symbols): the kernel 45% (TCP
#   on the four loopback sockets it crosses, and the switches), libcrypto 22% (three AES-256-GCM passes: the node
#   seals, the relay opens and seals), thread-pool workers spinning for work 16%, memmove 10% (about eight copies of
#   1-1.5% each: WebSocket send buffer, Kestrel's pipes, SslStream's buffers, the read-ahead); kubectl spends about
#   0.2 s per 100 MiB against switchboard's 0.5 s. Tried and not kept (CPU s per 100 MiB, alternating runs at load
#   40-65): Kestrel's UnsafePreferInlineScheduling on both servers 0.61-0.90 against 0.52-0.58 (and kubectl 0.25-0.40
#   against 0.19-0.24: smaller sends); a 1 MiB transport write buffer 0.48-0.68 against 0.37-0.76;
#   DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 0.58-0.68 against 0.48-0.91. All three TLS connections negotiate
#   TLS_AES_256_GCM_SHA384 (.NET's server keeps its own order); AES-128-GCM seals 16 KiB records about 6% faster
#   here (openssl speed: 3.06 against 2.88 GB/s), some 6 ms per 100 MiB over the three passes.
#   kubectl's 0.2 s and curl's and nginx's ~0.1 s are 0.3 CPU-s per 100 MiB before the relay: on 2 cores that bounds the
#   forward near 650 MB/s, about 0.5 of an unloaded direct download, with a relay that cost nothing.
# Usage: bench/streams.sh [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs=${1:-5}
work=$(mktemp -d /tmp/switchboard-bench-streams.XXXXXX)
up_pid=
forward_pid=

cleanup() {
  stop_pid "$forward_pid"
  stop_up "$work/switchboard" "$work/data" "$up_pid"
  rm -rf "$work"
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
k() { kubectl --kubeconfig "$work/data/kubeconfig" "$@"; }

bash scripts/publish.sh "$work/switchboard" >/dev/null
sb=("$work/switchboard/switchboard")
port=$(free_port)
"${sb[@]}" up --data-dir "$work/data" --api-port "$port" --kubelet-port "$(free_port)" --dns-port "$(free_port)" --dns-metrics "127.0.0.1:$(free_port)" --etcd-listen '' >"$work/up.log" 2>&1 &
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

now_ns() { date +%s%N; }

# MB/s of COMMAND… printing 100 MiB, best of 3.
best_rate() {
  local best=0 t0 t1 rate
  for _ in 1 2 3; do
    t0=$(now_ns); "$@" >/dev/null; t1=$(now_ns)
    rate=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", 104857600 / (ns / 1e9) / 1e6 }')
    [ "$rate" -gt "$best" ] && best=$rate
  done
  echo "$best"
}

section_exec() {
  local uid netns root version_us get_us raw_us kubectl_us netns_us samples=$((runs * 10)) bytes kubectl_rate raw_rate t0 t1 t2 t3 t4 t5
  k run -n bench shell --image=debian --restart=Never -- sleep infinity >/dev/null
  k wait -n bench pod/shell --for=condition=Ready --timeout=60s >/dev/null
  uid=$(k get -n bench pod/shell -o jsonpath='{.metadata.uid}')
  netns=$(ip netns list | awk '{ print $1 }' | grep "_$uid\$")
  # The file lives in the pod's own root (its overlay); the host reaches it through the container's /proc root.
  k exec -n bench shell -- sh -c 'head -c 104857600 /dev/zero > /tmp/100MiB'
  root=/proc/$(cut -d' ' -f1 "$work"/data/nodes/*/pods/"$uid"/containers/shell/*/pid)/root

  # One of each per round, so a slow spell of a shared machine lands on all of them alike.
  local timings=$work/exec-timings
  for _ in $(seq "$samples"); do
    t0=$(now_ns); kubectl version --client >/dev/null; t1=$(now_ns)
    k get -n bench pod shell >/dev/null; t2=$(now_ns)
    k get --raw /api/v1/namespaces/bench/pods/shell >/dev/null; t3=$(now_ns)
    k exec -n bench shell -- true; t4=$(now_ns)
    ip netns exec "$netns" true; t5=$(now_ns)
    echo $(( (t1 - t0) / 1000 )) $(( (t2 - t1) / 1000 )) $(( (t3 - t2) / 1000 )) $(( (t4 - t3) / 1000 )) $(( (t5 - t4) / 1000 ))
  done >"$timings"
  version_us=$(awk '{ print $1 }' "$timings" | median)
  get_us=$(awk '{ print $2 }' "$timings" | median)
  raw_us=$(awk '{ print $3 }' "$timings" | median)
  kubectl_us=$(awk '{ print $4 }' "$timings" | median)
  netns_us=$(awk '{ print $5 }' "$timings" | median)
  bytes=$(k exec -n bench shell -- cat /tmp/100MiB | wc -c)
  [ "$bytes" -eq 104857600 ] || { echo "kubectl exec cat carried $bytes bytes, not 104857600" >&2; exit 1; }
  kubectl_rate=$(best_rate k exec -n bench shell -- cat /tmp/100MiB)
  raw_rate=$(best_rate ip netns exec "$netns" cat "$root/tmp/100MiB")
  awk -v v="$version_us" -v g="$get_us" -v r="$raw_us" -v k="$kubectl_us" -v n="$netns_us" -v s="$samples" -v kr="$kubectl_rate" -v rr="$raw_rate" 'BEGIN {
    printf "exec: kubectl exec POD -- true p50 %.1f ms over %d runs; ip netns exec true p50 %.1f ms\n", k / 1000, s, n / 1000
    printf "exec decomposition, p50 of the same rounds: kubectl version --client %.1f ms (kubectl start), kubectl get pod %.1f ms, kubectl get --raw of the pod %.1f ms (start, TLS, one GET), kubectl exec true %.1f ms, ip netns exec true %.1f ms\n", v / 1000, g / 1000, r / 1000, k / 1000, n / 1000
    printf "exec beyond its own pod GET: %.1f ms (a second TLS connection, the WebSocket, the node, the process); exec / get --raw %.2fx\n", (k - r) / 1000, k / r
    printf "exec round trip / kubectl get pod: %.2fx (what exec adds beyond kubectl start-up, TLS and one GET; %.1f ms)\n", k / g, (k - g) / 1000
    printf "exec round trip ratio: %.1fx (target <= 3x)\n", k / n
    printf "exec: kubectl exec POD -- cat 100 MiB %d MB/s (target >= 200); ip netns exec cat %d MB/s\n", kr, rr
    printf "exec throughput ratio: %.2f of the raw cat\n", kr / rr
  }'
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

  # CPU ticks (utime + stime) of a process.
  ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
  local up_ticks=0 kubectl_ticks
  kubectl_ticks=$(ticks "$forward_pid")
  for i in $(seq "$runs"); do
    direct+=("$(download_rate ip netns exec "$node_ns" curl "http://$pod_ip/files/big")")
    up_ticks=$(( up_ticks - $(ticks "$up_pid") ))
    forwarded+=("$(download_rate curl "http://127.0.0.1:$local_port/files/big")")
    up_ticks=$(( up_ticks + $(ticks "$up_pid") ))
  done
  kubectl_ticks=$(( $(ticks "$forward_pid") - kubectl_ticks ))
  kill "$forward_pid"
  wait "$forward_pid" 2>/dev/null || true
  forward_pid=

  local direct_median forwarded_median
  direct_median=$(printf '%s\n' "${direct[@]}" | median)
  forwarded_median=$(printf '%s\n' "${forwarded[@]}" | median)
  awk -v d="$direct_median" -v f="$forwarded_median" -v n="$runs" -v u="$up_ticks" -v kt="$kubectl_ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    printf "port-forward: 100 MiB download, median of %d: direct from the pod IP %.0f MB/s, through kubectl port-forward %.0f MB/s\n", n, d / 1e6, f / 1e6
    printf "port-forward CPU per forwarded 100 MiB: switchboard (API server relay and node) %.2f s, kubectl %.2f s\n", u / hz / n, kt / hz / n
    printf "port-forward / direct throughput ratio: %.2f (target >= 0.5)\n", f / d
  }'
}

section_exec
section_portforward
