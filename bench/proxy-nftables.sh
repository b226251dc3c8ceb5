#!/usr/bin/env bash
# nftables mode benchmark at 10,000 services × 3 endpoints, inside throwaway network namespaces (a node with a
# bridge, 3 backend pods, a client pod; nothing outside them is touched, all are deleted on exit).
# 1. Switchboard programs the services with one nf_tables netlink transaction (full sync).
# 2. One-service updates (an endpoint replaced), alternating in the same run: Switchboard's netlink transaction and
#    the same element changes as a stock `nft -f` transaction (how kube-proxy applies changes), each on its own
#    services; medians. Before them, what a bare commit costs: one set element, and one DNAT rule (which makes
#    the kernel validate the table).
# 3. TCP connect latency from the client pod: to a service VIP (DNAT through the 10k-service table) against
#    straight to a pod, alternating; p50s.
# Prints, last:
#   nftables one-service update at 10k services: N ms
#   nftables VIP connect p50 / direct connect p50 at 10k services: X.XX
# Usage: bench/proxy-nftables.sh [SERVICES=10000] [UPDATES=31] [CONNECTS=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
services=${1:-10000}
updates=${2:-31}
connects=${3:-2000}
prefix="sbbn$$"
work=$(mktemp -d /tmp/switchboard-bench-nft.XXXXXX)
namespaces=()

cleanup() {
  for ns in "${namespaces[@]}"; do ip netns delete "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

add_ns() { ip netns add "$1"; namespaces+=("$1"); }
node="$prefix-node"
client="$prefix-client"
add_ns "$node"
ip -n "$node" link set lo up
ip -n "$node" link add br0 type bridge
ip -n "$node" addr add 10.250.0.1/24 dev br0
ip -n "$node" link set br0 up
ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 \
  net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.br0.send_redirects=0

add_pod() { # NAME IP HOST_SIDE
  add_ns "$1"
  ip -n "$node" link add "$3" type veth peer name eth0 netns "$1"
  ip -n "$node" link set "$3" master br0 up
  ip -n "$1" addr add "$2/24" dev eth0
  ip -n "$1" link set eth0 up
  ip -n "$1" link set lo up
  ip -n "$1" route add default via 10.250.0.1
}
backends=() backend_ips=()
for i in 0 1 2; do
  add_pod "$prefix-ep$i" "10.250.0.$((10 + i))" "v$i"
  backends+=("$prefix-ep$i") backend_ips+=("10.250.0.$((10 + i))")
done
add_pod "$client" 10.250.0.100 vc

dotnet build bench/Switchboard.ProxyBench -c Release --nologo -v quiet -o "$work/bin" >/dev/null
timeout 900 dotnet "$work/bin/Switchboard.ProxyBench.dll" nftables --node "$node" --client "$client" \
  --backends "$(IFS=,; echo "${backends[*]}")" --backend-ips "$(IFS=,; echo "${backend_ips[*]}")" \
  --services "$services" --updates "$updates" --connects "$connects" | tee "$work/out.txt" >&2
tail -n 2 "$work/out.txt"
