#!/usr/bin/env bash
# Installs Switchboard on this Debian machine: the system packages it and the README's commands need, then the
# `switchboard` executable built from this checkout into /usr/local/lib/switchboard. kubectl, which the README
# drives the cluster with, is not installed here: without it this script says how to get it.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (it installs packages)" >&2; exit 1; }
command -v dotnet >/dev/null || { echo "install.sh: the .NET 10 SDK is needed (dotnet on PATH)" >&2; exit 1; }
source scripts/packages.sh
bash scripts/apt-install.sh "${RUNTIME_PACKAGES[@]}" "${BUILD_PACKAGES[@]}"
bash scripts/publish.sh /usr/local/lib/switchboard
ln -sf /usr/local/lib/switchboard/switchboard /usr/local/bin/switchboard
echo "installed: $(command -v switchboard)"

if ! command -v kubectl >/dev/null; then
  cat >&2 <<'HINT'
install.sh: kubectl is not installed, and the README's commands use it (the tests run kubectl 1.32).
Get it from the Kubernetes project's apt repository (https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/):
  apt-get install -y ca-certificates curl gpg
  mkdir -p -m 755 /etc/apt/keyrings
  curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.32/deb/Release.key | gpg --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
  echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.32/deb/ /' > /etc/apt/sources.list.d/kubernetes.list
  apt-get update && apt-get install -y kubectl
or as a single binary:
  curl -fLo /usr/local/bin/kubectl "https://dl.k8s.io/release/v1.32.4/bin/linux/$(dpkg --print-architecture)/kubectl" && chmod +x /usr/local/bin/kubectl
HINT
fi
