#!/usr/bin/env bash
# A/B speed check of two moe-cli builds on the same GGUF files, runs alternated (A, B, A, B...)
# so that both see the same machine load; prints median prompt and decode tok/s per model and
# binary, and B/A. Used to check that a refactor keeps the speed (docs/benchmarks.md).
#
# usage: tools/ab_bench.sh MOE_CLI_A MOE_CLI_B MODEL.gguf [MODEL.gguf ...]
#   env: THREADS (2), PROMPT (128), GEN (64), ROUNDS (7), ARGS (--kv-f16)
set -euo pipefail
if [[ $# -lt 3 ]]; then
  sed -n 6,7p "$0" >&2
  exit 2
fi
A=$1
B=$2
shift 2
THREADS=${THREADS:-2}
PROMPT=${PROMPT:-128}
GEN=${GEN:-64}
ROUNDS=${ROUNDS:-7}
ARGS=${ARGS---kv-f16}
out=$(mktemp -d)
echo "$(lscpu | grep 'Model name' | sed 's/ \+/ /g'); family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | tr -d ' '); load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  for model in "$@"; do
    for side in A B; do
      bin=$A
      [[ $side == B ]] && bin=$B
      # shellcheck disable=SC2086 # ARGS is a list of options
      "$bin" bench $ARGS -m "$model" -t "$THREADS" -p "$PROMPT" -n "$GEN" -r 1 --no-membw --json \
        >"$out/$(basename "$model").$side.$round.json"
    done
  done
done
python3 - "$out" "$@" <<'PY'
import json, statistics, sys, glob, os
out, models = sys.argv[1], sys.argv[2:]
print("| model | A prompt | B prompt | B/A | A decode | B decode | B/A |")
print("|---|---:|---:|---:|---:|---:|---:|")
for m in models:
    name = os.path.basename(m)
    med = {}
    for side in "AB":
        runs = [json.load(open(f)) for f in sorted(glob.glob(f"{out}/{name}.{side}.*.json"))]
        med[side] = (statistics.median(r["prompt_tok_per_s"] for r in runs),
                     statistics.median(r["decode_tok_per_s"] for r in runs))
    (ap, ad), (bp, bd) = med["A"], med["B"]
    print(f"| {name} | {ap:.1f} | {bp:.1f} | {bp/ap:.3f} | {ad:.2f} | {bd:.2f} | {bd/ad:.3f} |")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); runs in $out"
