#!/usr/bin/env bash
# Where a cross-node ClusterIP connect spends its time, hop by hop: bench/nodes.sh's topology rebuilt bare in
# namespaces of its own (no Switchboard running), so each hop can be switched on and off and A/B'd in one run.
#   node 1: bridge sb0 (10.244.0.1/24) with a client pod and a local server pod, kube-proxy-like nat rules (S dummy
#           services walked before the two real ones), forwarding and bridge netfilter on, as the node sets them;
#   underlay: a bridge joining node 1's ul0 (10.243.0.1) and node 2's (10.243.0.2), host-gw routes between them;
#   node 2: the same as node 1, with the remote server pod.
# The client connects (TCP handshake only: the server's kernel answers the SYN) to each target in turn, interleaved,
# N rounds, and prints the p50 and minimum of each in microseconds. A connect's whole path runs in the client's
# softirq, so the minimum is close to its CPU cost and barely moves with the machine's load; the p50 does.
# Usage: bench/nodes-hops.sh [ROUNDS=2000] [SERVICES=200]
set -euo pipefail
rounds=${1:-2000}
services=${2:-200}
p=sbhop$$
n1=$p-n1 n2=$p-n2 u=$p-ul c=$p-c s1=$p-s1 s2=$p-s2
all=("$n1" "$n2" "$u" "$c" "$s1" "$s2")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ns in "${all[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT

for ns in "${all[@]}"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$u" link add sbu0 type bridge && ip -n "$u" link set sbu0 up
node() { # node ns, its index, its pod CIDR's third octet
  local ns=$1 k=$2
  ip -n "$ns" link add sb0 type bridge
  ip -n "$ns" addr add "10.244.$((k - 1)).1/24" dev sb0
  ip -n "$ns" link set sb0 up
  ip -n "$ns" link add ul0 type veth peer name "ul$k" netns "$u"
  ip -n "$u" link set "ul$k" master sbu0 && ip -n "$u" link set "ul$k" up
  ip -n "$ns" addr add "10.243.0.$k/24" dev ul0 && ip -n "$ns" link set ul0 up
  ip netns exec "$ns" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables; echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects'
}
pod() { # pod ns, node ns, address, gateway
  ip -n "$2" link add "v$1" type veth peer name eth0 netns "$1"
  ip -n "$2" link set "v$1" master sb0 && ip -n "$2" link set "v$1" up
  ip -n "$1" addr add "$3/24" dev eth0 && ip -n "$1" link set eth0 up && ip -n "$1" route add default via "$4"
}
node "$n1" 1 && node "$n2" 2
ip -n "$n1" route add 10.244.1.0/24 via 10.243.0.2
ip -n "$n2" route add 10.244.0.0/24 via 10.243.0.1
pod "$c" "$n1" 10.244.0.2 10.244.0.1
pod "$s1" "$n1" 10.244.0.3 10.244.0.1
pod "$s2" "$n2" 10.244.1.2 10.244.1.1
# kube-proxy's shape in both nodes: PREROUTING and OUTPUT jump to KUBE-SERVICES, S services walked before the real two.
for ns in "$n1" "$n2"; do
  {
    echo '*nat'
    echo ':KUBE-SERVICES - [0:0]'
    echo '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
    echo '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
    for i in $(seq "$services"); do echo "-A KUBE-SERVICES -d 10.96.$((i / 250 + 10)).$((i % 250 + 1))/32 -p tcp -m tcp --dport 80 -j RETURN"; done
    echo '-A KUBE-SERVICES -d 10.96.0.100/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.0.3:8080'
    echo '-A KUBE-SERVICES -d 10.96.0.101/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.1.2:8080'
    echo 'COMMIT'
  } | ip netns exec "$ns" iptables-restore
  ip -n "$ns" route add 10.96.0.0/16 dev sb0
done
ip -n "$c" route add 10.96.0.0/16 via 10.244.0.1

listen='import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 8080)); s.listen(4096)
while True: s.accept()[0].close()'
for ns in "$s1" "$s2"; do ip netns exec "$ns" python3 -c "$listen" & pids+=($!); done
sleep 1

# One variant: TARGETS as name=address:port, interleaved.
measure() {
  ip netns exec "$c" python3 - "$rounds" "$@" <<'PY'
import socket, sys, time
rounds, targets = int(sys.argv[1]), [t.split("=") for t in sys.argv[2:]]
times = {name: [] for name, _ in targets}
for r in range(rounds + 50):
    for name, target in targets:
        host, port = target.split(":")
        s = socket.socket()
        t = time.perf_counter_ns()
        s.connect((host, int(port)))
        d = time.perf_counter_ns() - t
        s.close()
        if r >= 50:
            times[name].append(d / 1000)
for name, _ in targets:
    v = sorted(times[name])
    print(f"  {name:<28} p50 {v[len(v) // 2]:7.1f} us   min {v[0]:7.1f} us")
PY
}
targets=(same-node-vip=10.96.0.100:80 cross-node-vip=10.96.0.101:80 same-node-pod-ip=10.244.0.3:8080 cross-node-pod-ip=10.244.1.2:8080)
# Each node's proxy follows conntrack's NEW and DESTROY events for `switchboard trace`, with accounting and timestamps on.
listeners=()
for ns in "$n1" "$n2"; do
  ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_timestamp=1
  ip netns exec "$ns" conntrack -E -e NEW,DESTROY >/dev/null 2>&1 & listeners+=($!)
done
pids+=("${listeners[@]}")
sleep 0.5
echo "rounds=$rounds services=$services"
echo "as the cluster has it (bridge netfilter on in every namespace, each node's proxy following conntrack events):"
measure "${targets[@]}"
kill "${listeners[@]}"
echo "without conntrack event listeners:"
measure "${targets[@]}"
ip netns exec "$u" sh -c 'echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables'
echo "bridge netfilter off on the underlay bridge:"
measure "${targets[@]}"
for ns in "$n1" "$n2"; do ip netns exec "$ns" iptables -t nat -I PREROUTING -i ul0 -j RETURN; done
echo "and no nat walk for packets from the underlay (their DNAT was done on the client's node):"
measure "${targets[@]}"
ip netns exec "$n2" iptables -t raw -A PREROUTING -i ul0 -j NOTRACK
ip netns exec "$n2" iptables -t raw -A OUTPUT -j NOTRACK
ip netns exec "$n2" iptables -t raw -A PREROUTING -i sb0 -d 10.244.0.0/24 -j NOTRACK
echo "and node 2 without conntrack for the cross flow (not deployable: it breaks replies to node 2's own VIP connects):"
measure "${targets[@]}"
echo "load: $(uptime | sed 's/.*load average/load average/')"
