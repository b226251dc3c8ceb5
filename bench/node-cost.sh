#!/usr/bin/env bash
# What a pod start costs the node, in load-insensitive figures (bench/node.sh's times depend on what else the machine
# runs): `switchboard up` runs in a cpuacct cgroup of its own, with everything it starts; a Deployment of the echo image
# with an httpGet readiness probe is scaled from 0 to N and timed to N pods Ready. Printed: the CPU the node spent per
# pod (the API server, controllers, agent, monitor host and every process they start, less the containers' programs,
# which run in their pods' cgroups) and of that the container monitor host's, then, in a second scale traced with strace,
# the programs executed per pod, by name.
# Usage: bench/node-cost.sh [N=20] (SWITCHBOARD=DIR measures that published switchboard instead of publishing one)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
n=${1:-20}
work=$(mktemp -d /tmp/switchboard-bench-node-cost.XXXXXX)
cgroup=/sys/fs/cgroup/cpuacct/switchboard-bench-$$
up_pid=
tracer_pid=
kc=$work/data/kubeconfig
bin=${SWITCHBOARD:-$work/switchboard}

cleanup() {
  [ -n "$tracer_pid" ] && kill "$tracer_pid" 2>/dev/null
  stop_up "$bin" "$work/data" "$up_pid"
  [ -d "$cgroup" ] && rmdir "$cgroup" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

[ -d /sys/fs/cgroup/cpuacct ] || { echo "node-cost.sh needs the cgroup v1 cpuacct controller at /sys/fs/cgroup/cpuacct" >&2; exit 1; }
command -v strace >/dev/null || { echo "node-cost.sh needs strace (Debian package strace)" >&2; exit 1; }
kubectl() { command kubectl --kubeconfig "$kc" "$@"; }

[ -n "${SWITCHBOARD:-}" ] || bash scripts/publish.sh "$bin" >/dev/null
mkdir "$cgroup"
sh -c 'echo $$ > "$0/cgroup.procs"; exec "$@"' "$cgroup" "$bin/switchboard" up --data-dir "$work/data" --etcd-listen "127.0.0.1:$(free_port)" \
  --api-port "$(free_port)" --dns-port "$(free_port)" --dns-metrics "127.0.0.1:$(free_port)" \
  --kubelet-port "$(free_port)" --proxy-metrics-port "$(free_port)" >"$work/up.log" 2>&1 &
up_pid=$!
for _ in $(seq 600); do
  [ -s "$kc" ] && kubectl wait node --all --for=condition=Ready --timeout=1s >/dev/null 2>&1 && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; echo "switchboard up exited" >&2; exit 1; }
  sleep 0.1
done

kubectl create namespace bench-node-cost >/dev/null
kubectl -n bench-node-cost apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 0
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: echo
        image: switchboard/echo
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}}
YAML

# Waited for with one watch on the Deployment: a list of the pods every 0.2 s cost the API server more the longer a
# scale took, which made the node's figure grow with the machine's load.
scale_to_ready() {
  kubectl -n bench-node-cost scale deployment echo --replicas "$n" >/dev/null
  kubectl -n bench-node-cost wait deployment echo --for=jsonpath='{.status.readyReplicas}'="$n" --timeout=600s >/dev/null
}
scale_to_zero() {
  kubectl -n bench-node-cost scale deployment echo --replicas 0 >/dev/null
  until [ -z "$(kubectl -n bench-node-cost get pods -o name)" ]; do sleep 0.2; done
}

# Round 1: CPU, untraced.
before=$(cat "$cgroup/cpuacct.usage")
start=$(date +%s%N)
scale_to_ready
seconds=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
cpu_ms=$((($(cat "$cgroup/cpuacct.usage") - before) / 1000000))
# Of which the container monitor host (started by the round's first container): user and system ticks of /proc/PID/stat.
monitor_ms=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' "/proc/$(cut -d' ' -f1 "$work"/data/nodes/*/runtime/monitor.pid)/stat")
scale_to_zero

# Round 2: programs executed, with strace following the node process and its container monitor host (execs that
# failed, as execvp's tries along PATH, are not counted).
monitor=$(cat "$work"/data/nodes/*/runtime/monitor.pid 2>/dev/null | awk '{ print "-p " $1 }' || true)
# shellcheck disable=SC2086
strace -f -z -qq -e trace=execve -e signal=none -o "$work/strace" -p "$up_pid" $monitor &
tracer_pid=$!
sleep 2
scale_to_ready
sleep 1
kill "$tracer_pid"
wait "$tracer_pid" 2>/dev/null || true
tracer_pid=
scale_to_zero

echo "n${n}_seconds_to_ready=$seconds"
echo "n${n}_node_cpu_ms_per_pod=$((cpu_ms / n))"
echo "n${n}_monitor_host_cpu_ms_per_pod=$((monitor_ms / n))"
awk -v n="$n" '/execve\("/ { split($0, q, "\""); k = split(q[2], p, "/"); c[p[k]]++; t++ }
  END { printf "n%d_execs_per_pod=%.1f\n", n, t / n; for (x in c) printf "n%d_execs_per_pod_%s=%.1f\n", n, x, c[x] / n }' "$work/strace" | sort -t= -k2 -g -r
echo "load: $(uptime | sed 's/.*load average: //')"
