#!/usr/bin/env bash
# Checks that CKernels' portable code compiles for a CPU other than this one: every source, as aarch64
# (the generic level is the only one there), with warnings as errors. Needs clang (the Swift toolchain's)
# and aarch64 C headers (Debian's libc6-dev-arm64-cross, installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -d /usr/aarch64-linux-gnu/include ]]; then
  echo "Installing: libc6-dev-arm64-cross (aarch64 C headers)"
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libc6-dev-arm64-cross >/dev/null
fi

status=0
for source in Sources/CKernels/*.c; do
  if ! clang --target=aarch64-linux-gnu -isystem /usr/aarch64-linux-gnu/include -ISources/CKernels/include \
       -fsyntax-only -Wall -Wextra -Werror "$source"; then
    echo "error: $source does not compile for aarch64" >&2
    status=1
  fi
done
if ((status == 0)); then echo "CKernels: every source compiles for aarch64"; fi
exit $status
