#!/usr/bin/env bash
# Installs the Debian packages swift-autograd needs, when they are missing.
#   scripts/setup.sh              libraries for building and testing (Open MPI for Distributed and the examples)
#   scripts/setup.sh --with-data  also the examples' data: Fashion-MNIST and the fortunes text corpus
set -euo pipefail

packages=(libopenblas-dev liblapacke-dev zlib1g-dev pkg-config libopenmpi-dev openmpi-bin)
if [[ "${1:-}" == "--with-data" ]]; then packages+=(dataset-fashion-mnist fortunes); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi

echo "Installing: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
