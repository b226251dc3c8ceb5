# Lines every bench script shares; each sources this after `cd` to the repository root.

# A TCP port free on loopback now (the kernel picks it), for a server the script starts next.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Stops a `switchboard up` the script started: `down` on its data dir, else SIGTERM to its pid; then waits for it.
# Usage: stop_up PUBLISHED_DIR DATA_DIR PID (PID empty: nothing was started).
stop_up() {
  [ -n "$3" ] || return 0
  dotnet "$1/switchboard.dll" down --data-dir "$2" >/dev/null 2>&1 || kill "$3" 2>/dev/null
  wait "$3" 2>/dev/null || true
}

# Stops a server the script started (SIGTERM, then waits for it). Usage: stop_pid PID (empty: nothing was started).
stop_pid() {
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
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
