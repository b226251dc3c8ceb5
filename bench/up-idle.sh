#!/usr/bin/env bash
# Idle memory of `switchboard up` over time: started (published, as installed), given SERVICES services without
# selectors (kubectl create -f, one list), then left alone for MINUTES while the store compacts every COMPACTION
# (--etcd-compaction-interval, e.g. 2m; without it up's own 5m, as a build older than the flag needs). Bookmarks carry
# the store's progress at most about 90 s late (a 1 m bookmark interval, progress asked every 30 s), so with compaction
# more often than that informers that watch again still meet 410 Gone, as they would against kube-apiserver. Nothing writes but the components' own
# heartbeats, so most kinds are quiet: an informer whose watch resumes from a revision compaction has passed meets
# 410 Gone and lists its kind again, which is what this watches for. Every 30 s it prints VmRSS; at the end:
#   up idle RSS: first N MB, last N MB, max N MB; peak (VmHWM) N MB; relists (410 Gone) N
# SWITCHBOARD=DIR measures an already published switchboard (scripts/publish.sh DIR), e.g. another commit's.
# Usage: bench/up-idle.sh [MINUTES=15] [COMPACTION=''] [SERVICES=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
minutes=${1:-15}
compaction=${2:-}
services=${3:-1000}
published_up idle

start_up "$bin" "$work" ${compaction:+--etcd-compaction-interval "$compaction"}

export KUBECONFIG="$work/data/kubeconfig"
kubectl create namespace idle >/dev/null
python3 - "$services" >"$work/services.json" <<'PY'
import json, sys
items = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"idle-{i:05d}", "namespace": "idle"},
          "spec": {"ports": [{"port": 80}]}} for i in range(int(sys.argv[1]))]
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout)
PY
kubectl create -f "$work/services.json" >/dev/null
echo "created $services services; idle for $minutes min, compaction every ${compaction:-5m}" >&2

first=$(proc_status_mb "$up_pid" VmRSS) max=$first last=$first
for ((t = 30; t <= minutes * 60; t += 30)); do
  sleep 30
  kill -0 "$up_pid" 2>/dev/null || { tail -20 "$work/up.log" >&2; echo "switchboard up exited" >&2; exit 1; }
  last=$(proc_status_mb "$up_pid" VmRSS)
  ((last > max)) && max=$last
  echo "t=${t}s VmRSS=${last} MB relists=$(grep -c '410 Gone' "$work/up.log" || true)" >&2
done
echo "up idle RSS: first $first MB, last $last MB, max $max MB; peak (VmHWM) $(proc_status_mb "$up_pid" VmHWM) MB; relists (410 Gone) $(grep -c '410 Gone' "$work/up.log" || true)"
