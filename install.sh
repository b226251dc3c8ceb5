#!/usr/bin/env bash
# Installs Switchboard on this Debian machine: the system packages it needs, then the
# `switchboard` executable built from this checkout into /usr/local/lib/switchboard.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (it installs packages)" >&2; exit 1; }
command -v dotnet >/dev/null || { echo "install.sh: the .NET 10 SDK is needed (dotnet on PATH)" >&2; exit 1; }
source scripts/packages.sh
bash scripts/apt-install.sh "${RUNTIME_PACKAGES[@]}"
bash scripts/publish.sh /usr/local/lib/switchboard
ln -sf /usr/local/lib/switchboard/switchboard /usr/local/bin/switchboard
echo "installed: $(command -v switchboard)"
