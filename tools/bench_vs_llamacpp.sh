#!/usr/bin/env bash
# Side-by-side CPU benchmark: moe-cli bench vs llama.cpp's llama-bench on the same GGUF files,
# runs alternated in one script so that both see the same machine load. Nothing of llama.cpp is
# part of this repository: pass the directory of its built binaries.
#
# usage: tools/bench_vs_llamacpp.sh MOE_CLI LLAMA_BIN_DIR OUT_DIR MODEL.gguf [MODEL.gguf ...]
#   env: THREADS (2), PROMPT (128), GEN (64), REPS (3), ROUNDS (3),
#        MOE_ARGS (--kv-f16: an F16 KV cache, as llama-bench's default, for like-for-like reads),
#        CONTEND (0; 1 = a busy loop pinned to the last CPU for the whole run: "the other core
#        busy", the contended figure)
# Writes OUT_DIR/<model>.<tool>.<round>.json (+ llama-bench's peak RSS via /usr/bin/time) and
# OUT_DIR/machine.txt (CPU name, family/model/stepping, ISA flags, bandwidth probe, load), and
# prints a markdown table of medians over every run (tools/bench_vs_llamacpp_summary.py).
# Both engines decode random token ids (moe-cli bench does as llama-bench does).
set -euo pipefail
if [[ $# -lt 4 ]]; then
  sed -n 5,9p "$0" >&2
  exit 2
fi
MOE_CLI=$1
LLAMA_DIR=$2
OUT=$3
shift 3
THREADS=${THREADS:-2}
PROMPT=${PROMPT:-128}
GEN=${GEN:-64}
REPS=${REPS:-3}
ROUNDS=${ROUNDS:-3}
MOE_ARGS=${MOE_ARGS---kv-f16}
CONTEND=${CONTEND:-0}
mkdir -p "$OUT"
{
  date -u
  uname -a
  lscpu | grep -E 'Vendor ID|Model name|CPU family|^Model:|Stepping|^CPU\(s\)|L2|L3|MHz'
  # The ISA extensions that decide the kernels (AVX-512 and VNNI; AMX is never used).
  echo "isa: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
    grep -E '^(avx2|fma|f16c|avx512f|avx512bw|avx512vl|avx512_vnni|avx_vnni|avx512_bf16|amx_tile)$' |
    tr '\n' ' ')"
  echo "contended: $CONTEND"
  cat /proc/loadavg
} >"$OUT/machine.txt"

spinner=""
if [[ $CONTEND == 1 ]]; then
  last=$(($(nproc) - 1))
  taskset -c "$last" sh -c 'while :; do :; done' &
  spinner=$!
  trap 'kill "$spinner" 2>/dev/null || true' EXIT
  echo "busy loop pinned to CPU $last (pid $spinner)" >>"$OUT/machine.txt"
fi

for round in $(seq 1 "$ROUNDS"); do
  for model in "$@"; do
    name=$(basename "$model" .gguf)
    echo "round $round: $name (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    # shellcheck disable=SC2086 # MOE_ARGS is a list of options
    "$MOE_CLI" bench $MOE_ARGS -m "$model" -t "$THREADS" -p "$PROMPT" -n "$GEN" -r "$REPS" --json \
      >"$OUT/$name.moe.$round.json" 2>/dev/null
    "$LLAMA_DIR/llama-bench" -m "$model" -t "$THREADS" -p "$PROMPT" -n "$GEN" -r "$REPS" \
      -o json >"$OUT/$name.llama.$round.json" 2>/dev/null
    # llama-bench reports no RSS: GNU time's maximum resident set size of one more run.
    if [[ $round == 1 && -x /usr/bin/time ]]; then
      /usr/bin/time -f '%M' -o "$OUT/$name.llama.rss_kib" "$LLAMA_DIR/llama-bench" -m "$model" \
        -t "$THREADS" -p "$PROMPT" -n "$GEN" -r 1 -o json >/dev/null 2>&1 || true
    fi
  done
done
cat /proc/loadavg >>"$OUT/machine.txt"
if [[ -n $spinner ]]; then kill "$spinner" 2>/dev/null || true; fi

python3 "$(dirname "$0")/bench_vs_llamacpp_summary.py" "$OUT" "$@"
