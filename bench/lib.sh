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
