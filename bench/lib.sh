# Lines every bench script shares; each sources this after `cd` to the repository root.

# A TCP port free on loopback now (the kernel picks it), for a server the script starts next.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Stops a `switchboard up` the script started: `down` on its data dir, else SIGTERM to its pid; then waits for it.
# Usage: stop_up PUBLISHED_DIR DATA_DIR PID (PID empty: nothing was started).
stop_up() {
  [ -n "$3" ] || return 0
  "$1/switchboard" down --data-dir "$2" >/dev/null 2>&1 || kill "$3" 2>/dev/null
  wait "$3" 2>/dev/null || true
}

# Stops a server the script started (SIGTERM, then waits for it). Usage: stop_pid PID (empty: nothing was started).
stop_pid() {
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Publishes the load generator (bench/Switchboard.LoadGenerator) into DIR precompiled (ReadyToRun) and without
# tiering, as switchboard is compiled ahead of time. Built plainly, it compiled itself while the figures were being
# taken: on 2 cores, bench/node.sh's first round met 0.8 CPU-seconds of its JIT, and the later rounds its tier-1
# recompiles.
publish_load_generator() { # DIR
  dotnet publish bench/Switchboard.LoadGenerator -c Release --use-current-runtime --self-contained false \
    -p:PublishReadyToRun=true -p:TieredCompilation=false --nologo -v quiet -o "$1" >/dev/null
}

# A new work dir for a bench of durable writes, under BENCH_DIR (default artifacts/, the repository's own disk); prints it.
durable_work_dir() { # NAME
  mkdir -p "${BENCH_DIR:-artifacts}"
  mktemp -d "$(realpath "${BENCH_DIR:-artifacts}")/bench-$1.XXXXXX"
}

# Sets fs to DIR's filesystem type and refuses tmpfs and ramfs, on which durable-write figures mean nothing.
require_real_disk() { # DIR
  fs=$(df --output=fstype "$1" | tail -1)
  echo "data on $1 ($fs)" >&2
  if [ "$fs" = tmpfs ] || [ "$fs" = ramfs ]; then
    echo "refusing to measure durable writes on $fs: set BENCH_DIR to a directory on a real disk" >&2
    exit 1
  fi
}

# Starts BIN's published `switchboard up` on WORK/data with free ports (extra flags after WORK), its log in WORK/up.log;
# sets up_pid and api_port and returns once it answers /readyz (exits the script if up dies first).
start_up() { # BIN WORK [FLAGS…]
  local bin=$1 work=$2
  shift 2
  api_port=$(free_port)
  "$bin/switchboard" up --data-dir "$work/data" --api-port "$api_port" --dns-port "$(free_port)" \
    --dns-metrics "127.0.0.1:$(free_port)" --kubelet-port "$(free_port)" --etcd-listen "127.0.0.1:$(free_port)" \
    "$@" >"$work/up.log" 2>&1 &
  up_pid=$!
  for _ in $(seq 600); do
    curl -sk --max-time 1 "https://127.0.0.1:$api_port/readyz" 2>/dev/null | grep -qx ok && return 0
    kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; echo "switchboard up exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "switchboard up not ready within 60 s" >&2
  exit 1
}

# A /proc/PID/status field (VmRSS, VmHWM…) in MB.
proc_status_mb() { awk -v f="$2:" '$1 == f { print int($2 / 1024) }' "/proc/$1/status"; } # PID FIELD

# For a bench of one published `up`: a work dir /tmp/switchboard-bench-NAME.XXXXXX (work), the published switchboard
# (bin; SWITCHBOARD=DIR measures that one instead) and an EXIT trap that stops up_pid's up and removes the work dir.
published_up() { # NAME
  work=$(mktemp -d "/tmp/switchboard-bench-$1.XXXXXX")
  up_pid=
  bin=${SWITCHBOARD:-$work/switchboard}
  trap 'stop_up "$bin" "$work/data" "$up_pid"; rm -rf "$work"' EXIT
  [ -n "${SWITCHBOARD:-}" ] || bash scripts/publish.sh "$bin" >/dev/null
}
