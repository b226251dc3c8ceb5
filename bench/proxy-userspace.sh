#!/usr/bin/env bash
# Userspace proxy benchmark: Switchboard's userspace proxy mode against HAProxy (mode tcp) in front of the same 3
# nginx backends, both in one throwaway node namespace, driven by wrk from a client pod namespace.
# 1. `switchboard up --nodes 0` is the control plane; a Service (cluster IP, no selector) and its EndpointSlice with
#    the 3 backends are created through the API server with kubectl.
# 2. `switchboard proxy --mode userspace` runs as its own process, as on a node, and serves the cluster IP from the
#    node namespace `sb-<cluster>-<node>` that this script builds (a bridge, 3 backend pods, 1 client pod): the real
#    component, fed by informers, with nothing of the control plane in the measured path.
# 3. HAProxy listens on the node's bridge address in the same namespace and balances over the same backends, with
#    one thread per processor (nbthread), as the userspace proxy runs one relay loop per processor.
# 4. wrk runs SECONDS against each, alternating, ROUNDS times (keep-alive HTTP/1.1, CONNECTIONS connections, the
#    same client and paths for both); which of the two goes first alternates too, so neither always runs after the
#    other's load.
# Prints each run's requests/s, the medians and, last:
#   userspace/haproxy rps ratio: X.XX
# Usage: bench/proxy-userspace.sh [SECONDS=10] [ROUNDS=3] [CONNECTIONS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
seconds=${1:-10}
rounds=${2:-3}
connections=${3:-64}
work=$(mktemp -d /tmp/switchboard-bench-proxy-userspace.XXXXXX)
tag=pxu$$
cluster=$tag node=bench
node_ns="sb-$cluster-$node"
client_ns="$tag-client"
subnet=10.252.0
gateway=$subnet.1
vip=10.96.252.10
haproxy_port=8081
namespaces=()
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do ip netns delete "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # what command…: retries for 60 s
  local what=$1; shift
  for _ in $(seq 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for $what" >&2; exit 1
}
add_ns() { ip netns add "$1"; namespaces+=("$1"); ip -n "$1" link set lo up; }
add_pod() { # namespace ip host-side-veth
  add_ns "$1"
  ip -n "$node_ns" link add "$3" type veth peer name eth0 netns "$1"
  ip -n "$node_ns" link set "$3" master br0 up
  ip -n "$1" addr add "$2/24" dev eth0
  ip -n "$1" link set eth0 up
  ip -n "$1" route add default via "$gateway"
}

bash scripts/publish.sh "$work/switchboard" >/dev/null
# Run directly, not through a shell function: a function started with & is a subshell, and killing its PID would
# leave the dotnet process behind.
switchboard=("$work/switchboard/switchboard")

# The node: a bridge with 3 backend pods running nginx and a client pod.
add_ns "$node_ns"
ip -n "$node_ns" link add br0 type bridge
ip -n "$node_ns" addr add "$gateway/24" dev br0
ip -n "$node_ns" link set br0 up
backends=()
for i in 0 1 2; do
  ip=$subnet.$((10 + i))
  add_pod "$tag-ep$i" "$ip" "v$i"
  backends+=("$ip")
  mkdir -p "$work/nginx$i"
  cat >"$work/nginx$i/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx$i/nginx.pid;
error_log stderr;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx$i;
  server { listen 80; keepalive_requests 1000000; location / { return 200 "ep$i\n"; } }
}
CONF
  ip netns exec "$tag-ep$i" nginx -c "$work/nginx$i/nginx.conf" -e stderr 2>"$work/nginx$i.log" &
  pids+=($!)
done
add_pod "$client_ns" "$subnet.100" vc

# The control plane, and the Service with its EndpointSlice.
api_port=$(free_port) dns_port=$(free_port) dns_metrics=$(free_port) proxy_metrics=$(free_port)
"${switchboard[@]}" up --data-dir "$work/data" --api-port "$api_port" --dns-port "$dns_port" --dns-metrics "127.0.0.1:$dns_metrics" \
  --nodes 0 >"$work/up.log" 2>&1 &
pids+=($!)
wait_for "switchboard up" curl -ksf "https://127.0.0.1:$api_port/readyz"
export KUBECONFIG=$work/data/kubeconfig
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  clusterIP: $vip
  ports: [{ name: http, port: 80, protocol: TCP, targetPort: 80 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-bench
  namespace: default
  labels: { kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: bench }
addressType: IPv4
ports: [{ name: http, port: 80, protocol: TCP }]
endpoints:
  - { addresses: ["${backends[0]}"], conditions: { ready: true } }
  - { addresses: ["${backends[1]}"], conditions: { ready: true } }
  - { addresses: ["${backends[2]}"], conditions: { ready: true } }
YAML

"${switchboard[@]}" proxy --kubeconfig "$KUBECONFIG" --data-dir "$work/data" --node "$node" --cluster-name "$cluster" \
  --mode userspace --metrics-address "127.0.0.1:$proxy_metrics" >"$work/proxy.log" 2>&1 &
pids+=($!)
wait_for "the userspace proxy on $vip:80" ip netns exec "$client_ns" curl -sf --max-time 1 "http://$vip/"

cat >"$work/haproxy.cfg" <<CONF
global
  maxconn 4096
  nbthread $(nproc)
defaults
  mode tcp
  timeout connect 2s
  timeout client 60s
  timeout server 60s
frontend userspace_peer
  bind $gateway:$haproxy_port
  default_backend nginx
backend nginx
  balance roundrobin
  server ep0 ${backends[0]}:80
  server ep1 ${backends[1]}:80
  server ep2 ${backends[2]}:80
CONF
ip netns exec "$node_ns" haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
pids+=($!)
wait_for "haproxy on $gateway:$haproxy_port" ip netns exec "$client_ns" curl -sf --max-time 1 "http://$gateway:$haproxy_port/"

rps() { # url seconds → requests/s
  ip netns exec "$client_ns" wrk -t 2 -c "$connections" -d "${2}s" "$1" | awk '/^Requests\/sec:/ { print $2 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Warm both (JIT tiers, connection pools) before measuring.
rps "http://$vip/" 3 >/dev/null
rps "http://$gateway:$haproxy_port/" 3 >/dev/null
: >"$work/userspace.rps"
: >"$work/haproxy.rps"
for round in $(seq "$rounds"); do
  if ((round % 2)); then
    u=$(rps "http://$vip/" "$seconds")
    h=$(rps "http://$gateway:$haproxy_port/" "$seconds")
  else
    h=$(rps "http://$gateway:$haproxy_port/" "$seconds")
    u=$(rps "http://$vip/" "$seconds")
  fi
  echo "$u" >>"$work/userspace.rps"
  echo "$h" >>"$work/haproxy.rps"
  echo "round $round: userspace $u rps, haproxy $h rps"
done
u=$(median <"$work/userspace.rps")
h=$(median <"$work/haproxy.rps")
echo "userspace proxy median: $u rps"
echo "haproxy (mode tcp) median: $h rps"
awk -v u="$u" -v h="$h" 'BEGIN { printf "userspace/haproxy rps ratio: %.2f\n", u / h }'
