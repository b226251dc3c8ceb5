#!/usr/bin/env bash
# Service proxy benchmark, iptables mode: Switchboard's proxier against the stock iptables-restore, on the same
# COUNT services × 3 endpoints, each in a throwaway network namespace (never the host's), in the same run.
# Peers (stock iptables-restore --noflush, documents rendered by bench/Switchboard.ProxyBench):
#   raw full load               - the whole document into an empty namespace
#   kube-proxy partial restore  - KEP-3453: every shared chain whole plus the changed service's chains
#   minimal one-service restore - the changed service's chains alone
# Switchboard (its IptablesProxier driving iptables-restore in another empty namespace):
#   full sync (reads the kernel back first), one-service update (median of 7), restart on the programmed node.
# Then bench/proxy-nftables.sh and bench/proxy-userspace.sh when present, and, last, every summary line:
#   iptables full sync / raw restore ratio: X.XX            (target <= 1.1)
#   iptables one-service update at 10k services: N ms       (target <= 200)
#   nftables one-service update at 10k services: N ms       (from proxy-nftables.sh)
#   restart on a programmed node: N s                       (target <= 5, no blind re-sync)
#   nftables VIP connect p50 / direct connect p50 at 10k services: X.XX   (from proxy-nftables.sh)
#   userspace/haproxy rps ratio: X.XX                       (from proxy-userspace.sh)
# Usage: bench/proxy.sh [COUNT=10000]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
work=$(mktemp -d /tmp/switchboard-bench-proxy.XXXXXX)
prefix="sbbench$$"
namespaces=()

cleanup() {
  for ns in "${namespaces[@]}"; do ip netns delete "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fresh_ns() { # name: a new empty namespace, deleted on exit
  ip netns add "$1"
  namespaces+=("$1")
}
ms_of() { # command…: runs it, prints its wall time in ms
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
restore() { ip netns exec "$1" iptables-restore --noflush <"$2"; }

dotnet build bench/Switchboard.ProxyBench -c Release --nologo -v quiet -o "$work/bin" >/dev/null
bench() { dotnet "$work/bin/Switchboard.ProxyBench.dll" "$@"; }

echo "rendering the peers' documents for $count services…" >&2
bench documents --count "$count" --out "$work"

fresh_ns "$prefix-raw"
raw_full=$(ms_of restore "$prefix-raw" "$work/full.rules")
raw_partial=$(ms_of restore "$prefix-raw" "$work/kube-proxy-partial.rules")
raw_minimal=$(ms_of restore "$prefix-raw" "$work/minimal.rules")
ip netns delete "$prefix-raw"
echo "iptables-restore full load: $raw_full ms"
echo "iptables-restore kube-proxy partial restore: $raw_partial ms"
echo "iptables-restore minimal one-service restore: $raw_minimal ms"

fresh_ns "$prefix-sb"
bench sync --count "$count" --netns "$prefix-sb" | tee "$work/ours.txt"
ip netns delete "$prefix-sb"
ours_full=$(sed -n 's/^full sync ms: \([0-9]*\).*/\1/p' "$work/ours.txt")
ours_update=$(sed -n 's/^one-service update ms: \([0-9]*\).*/\1/p' "$work/ours.txt")
ours_restart=$(sed -n 's/^restart s: \([0-9.]*\).*/\1/p' "$work/ours.txt")

summary=()
summary+=("$(python3 -c "print('iptables full sync / raw restore ratio: %.2f' % ($ours_full / $raw_full))")")
summary+=("iptables one-service update at $((count / 1000))k services: $ours_update ms")
others=()
for peer in bench/proxy-nftables.sh bench/proxy-userspace.sh; do
  if [[ -x $peer ]]; then
    echo "running $peer…" >&2
    "$peer" | tee "$work/$(basename "$peer").txt"
    others+=("$work/$(basename "$peer").txt")
  fi
done
pick() { # pattern: the last line matching it among the other scripts' outputs
  [[ ${#others[@]} -gt 0 ]] && grep -h "$1" "${others[@]}" | tail -n 1 || true
}
nft_update=$(pick '^nftables one-service update at 10k services:')
[[ -n $nft_update ]] && summary+=("$nft_update")
summary+=("restart on a programmed node: $ours_restart s")
nft_connect=$(pick '^nftables VIP connect p50 / direct connect p50')
[[ -n $nft_connect ]] && summary+=("$nft_connect")
userspace=$(pick '^userspace/haproxy rps ratio:')
[[ -n $userspace ]] && summary+=("$userspace")

echo
printf '%s\n' "${summary[@]}"
