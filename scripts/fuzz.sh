#!/usr/bin/env bash
# Builds the fuzz targets (Fuzz/, libFuzzer + AddressSanitizer) and runs one for a bounded time.
#
#   scripts/fuzz.sh <target> <seconds> [libFuzzer option …]
#   scripts/fuzz.sh all <seconds>             each target in turn, <seconds> each
#
# Targets: safetensors, idx, cifar, image (PNG and PGM), gzip. The run starts from the committed
# seeds in Fuzz/Corpus/<target>/ and keeps what it finds in Fuzz/.build/fuzz-corpus/<target>/; a crash,
# leak, timeout (10 s) or out-of-memory input (2 GiB) is written to Fuzz/.build/fuzz-artifacts/<target>/
# and the script exits non-zero. Reproduce one with: Fuzz/.build/debug/fuzz-<target> <file>.
# JOBS (default 2) sets the build's parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(safetensors idx cifar image gzip)

usage() { echo "usage: $0 <${targets[*]// /|}|all> <seconds> [libFuzzer option …]" >&2; exit 2; }
[[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage
target=$1 seconds=$2
shift 2
if [[ "$target" == all ]]; then
  for t in "${targets[@]}"; do "$0" "$t" "$seconds" "$@"; done
  exit 0
fi
[[ " ${targets[*]} " == *" $target "* ]] || usage

# -enable-testing lets the targets reach the readers' internal in-memory entry points (@testable import).
swift build -c debug --package-path Fuzz -j "${JOBS:-2}" --product "fuzz-$target" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing

corpus=Fuzz/.build/fuzz-corpus/$target artifacts=Fuzz/.build/fuzz-artifacts/$target
mkdir -p "$corpus" "$artifacts"
options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
         -artifact_prefix="$artifacts/")
[[ -f "Fuzz/$target.dict" ]] && options+=(-dict="Fuzz/$target.dict")
echo "fuzz-$target: ${seconds} s, corpus $corpus, seeds Fuzz/Corpus/$target" >&2
"Fuzz/.build/debug/fuzz-$target" "${options[@]}" "$@" "$corpus" "Fuzz/Corpus/$target"
