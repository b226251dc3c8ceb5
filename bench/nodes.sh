#!/usr/bin/env bash
# Many-nodes benchmark: `switchboard up --nodes N` (node 1 in up's process, nodes 2..N `switchboard agent` children,
# each node's namespace a machine on the cluster's underlay) with S Services over P pods (S Deployments of busybox
# pods, spread by the scheduler). It measures, as three figures:
#   - services_programmed_seconds: from creating the S Services (their pods already Ready) until every node's proxy
#     has a KUBE-SVC jump for each of them in its namespace;
#   - VIP connect p50 from a client pod on node 1 to a ClusterIP whose one nginx endpoint is on node 1 (same node) and
#     one whose endpoint is on node 2 (cross node), 200 connects each with curl's time_connect; target ratio <= 1.5;
#   - unroute_seconds: after node N's agent is killed (SIGKILL), until node 1's proxy rules send nothing to node N's
#     pod CIDR; target <= the Lease grace period + 2 s (kube-controller-manager: 40 s plus its sync period).
# Usage: bench/nodes.sh [NODES=5] [SERVICES=200] [PODS=1000] [GRACE=40s]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
nodes=${1:-5}
services=${2:-200}
pods=${3:-1000}
grace=${4:-40s}
work=$(mktemp -d /tmp/switchboard-bench-nodes.XXXXXX)
up_pid=

cleanup() {
  stop_up "$work/switchboard" "$work/data" "$up_pid"
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.2f", (b - a) / 1000 }'; }
p50() { sort -g | awk '{ v[NR - 1] = $1 } END { printf "%.3f", v[int(0.5 * NR)] * 1000 }'; }

bash scripts/publish.sh "$work/switchboard" >/dev/null
sb=("$work/switchboard/switchboard")
mkdir -m 700 "$work/data"
"${sb[@]}" up --data-dir "$work/data" --nodes "$nodes" --node-name bn --node-monitor-grace-period "$grace" \
  --api-port "$(free_port)" --dns-port "$(free_port)" --dns-metrics "127.0.0.1:$(free_port)" --kubelet-port "$(free_port)" --proxy-metrics-port "$(free_port)" \
  >"$work/up.log" 2>&1 &
up_pid=$!
export KUBECONFIG=$work/data/kubeconfig
for _ in $(seq 1800); do
  [ -s "$KUBECONFIG" ] && kubectl get --raw /readyz >/dev/null 2>&1 && break
  kill -0 "$up_pid" 2>/dev/null || { tail -20 "$work/up.log" >&2; echo "switchboard up exited" >&2; exit 1; }
  sleep 0.1
done
kubectl get --raw /readyz >/dev/null || { echo "switchboard up not ready after 180 s" >&2; exit 1; }
cluster=$(ip netns list | awk '{ print $1 }' | grep -E '^sb-[0-9a-f]+-bn$' | head -1 | sed 's/^sb-//; s/-bn$//')
node_ns() { if [ "$1" -eq 1 ]; then echo "sb-$cluster-bn"; else echo "sb-$cluster-bn-$1"; fi; }

# S Deployments sharing P pods, each a busybox that sleeps; their pods Ready first.
kubectl create namespace bench >/dev/null
per=$(( pods / services ))
for i in $(seq "$services"); do
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-$i, namespace: bench}
spec:
  replicas: $per
  selector: {matchLabels: {app: app-$i}}
  template:
    metadata: {labels: {app: app-$i}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: c, image: busybox, command: [sleep, "36000"]}]
---
YAML
done >"$work/deployments.yaml"
kubectl create -f "$work/deployments.yaml" >/dev/null
until [ "$(kubectl get pods -n bench --no-headers 2>/dev/null | grep -c ' Running ')" -ge $(( per * services )) ]; do sleep 1; done
# One list per poll: `kubectl wait --all` waits on the pods one at a time, 5 minutes for 1,000 on a loaded machine.
ready_pods() { kubectl get pods -n bench -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true; }
until [ "$(ready_pods)" -ge $(( per * services )) ]; do sleep 1; done

# Figure 1: the Services, until every node's proxy jumps to each.
for i in $(seq "$services"); do
  printf 'apiVersion: v1\nkind: Service\nmetadata: {name: svc-%s, namespace: bench}\nspec: {selector: {app: app-%s}, ports: [{port: 80}]}\n---\n' "$i" "$i"
done >"$work/services.yaml"
t0=$(now_ms)
kubectl create -f "$work/services.yaml" >/dev/null
for n in $(seq "$nodes"); do
  until [ "$(ip netns exec "$(node_ns "$n")" iptables-save -t nat | grep -cE '^-A KUBE-SERVICES .*"bench/svc-[0-9]+ cluster IP".* -j KUBE-SVC-')" -ge "$services" ]; do sleep 0.1; done
done
programmed=$(seconds_since "$t0")

# Figure 2: same-node and cross-node VIP connects from node 1.
pin() { printf '{"spec":{"nodeName":"%s"}}' "$1"; }
kubectl run client -n bench --image=curlimages/curl --restart=Never --overrides="$(pin bn)" --command -- sleep 36000 >/dev/null
kubectl run same -n bench --image=nginx --restart=Never --labels=vip=same --overrides="$(pin bn)" >/dev/null
kubectl run cross -n bench --image=nginx --restart=Never --labels=vip=cross --overrides="$(pin bn-2)" >/dev/null
kubectl expose pod same -n bench --port 80 >/dev/null
kubectl expose pod cross -n bench --port 80 >/dev/null
kubectl wait pod/client pod/same pod/cross -n bench --for=condition=Ready --timeout=120s >/dev/null
# The same client pod connects to both, alternately in one loop (200 each), so a change of the machine's load meanwhile
# weighs on both alike.
same_ip=$(kubectl get service same -n bench -o jsonpath='{.spec.clusterIP}')
cross_ip=$(kubectl get service cross -n bench -o jsonpath='{.spec.clusterIP}')
for ip in "$same_ip" "$cross_ip"; do
  until kubectl exec client -n bench -- curl -s -o /dev/null --max-time 2 "http://$ip/"; do sleep 0.2; done
done
kubectl exec client -n bench -- sh -c "for i in \$(seq 200); do for t in same=$same_ip cross=$cross_ip; do
  printf '%s ' \${t%%=*}; curl -s -o /dev/null --max-time 2 -w '%{time_connect}\n' http://\${t#*=}/; done; done" >"$work/connects.txt"
same_p50=$(awk '$1 == "same" { print $2 }' "$work/connects.txt" | p50)
cross_p50=$(awk '$1 == "cross" { print $2 }' "$work/connects.txt" | p50)

# Figure 3: node N's agent killed, until node 1 routes no Service to node N's pods.
last=bn-$nodes
[ "$nodes" -gt 1 ] || { echo "figure 3 needs 2 nodes or more" >&2; exit 1; }
cidr=$(kubectl get node "$last" -o jsonpath='{.spec.podCIDR}')
prefix=${cidr%.0/24}.
# The rules are read whole before grep looks: with pipefail, grep -q closing the pipe early would end the wait at once.
routes_to_last() { grep -q -- "--to-destination ${prefix//./\\.}" <<<"$(ip netns exec "$(node_ns 1)" iptables-save -t nat)"; }
routes_to_last || { echo "node 1 routes nothing to $last's pods ($cidr) before the kill: nothing to measure" >&2; exit 1; }
kill -9 "$(cut -d' ' -f1 "$work/data/nodes/$last/agent.pid")"
t0=$(now_ms)
while routes_to_last; do sleep 0.1; done
unrouted=$(seconds_since "$t0")

echo "nodes=$nodes services=$services pods=$(( per * services )) grace=$grace"
echo "services_programmed_seconds=$programmed"
echo "same_node_vip_connect_p50_ms=$same_p50"
echo "cross_node_vip_connect_p50_ms=$cross_p50"
echo "unroute_seconds=$unrouted"
echo "load: $(uptime | sed 's/.*load average/load average/')"
echo
echo "every node's proxy had all $services services in $programmed s"
awk -v s="$same_p50" -v c="$cross_p50" 'BEGIN { printf "cross-node / same-node VIP connect p50: %.2f (%.3f ms / %.3f ms; target <= 1.5)\n", c / s, c, s }'
awk -v u="$unrouted" -v g="$grace" 'BEGIN { sub(/s$/, "", g); printf "killed node unrouted after %.2f s (target <= grace %s s + 2 s)\n", u, g }'
