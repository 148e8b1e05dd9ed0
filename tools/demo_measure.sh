#!/usr/bin/env bash
# The figures of docs/demo-model.md and docs/benchmarks.md for the shipped demo model, with
# our engine (moe-cli) only; PyTorch's side is tools/demo_reference.py.
#   tools/demo_measure.sh [MOE_CLI] [DIR_WITH_GGUFS]   (from the repository root)
# Writes the routing trace tests/fixtures/demo/routing_trace.jsonl (kept for the cache work).
set -euo pipefail
cli="${1:-build/app/moe-cli}"
dir="${2:-resources/demo}"
q8="$dir/moe-studio-demo-q8_0.gguf"
text=tests/fixtures/demo/heldout.txt
t=1  # one thread: the figures are for comparison, not speed

echo "== perplexity on $text (-c 128, llama.cpp's chunk method), each file in $dir"
for f in "$dir"/moe-studio-demo-*.gguf; do
  printf '%s: ' "$(basename "$f")"
  "$cli" perplexity -m "$f" -f "$text" -c 128 -t $t 2>&1 | grep 'Final estimate'
done

echo "== WDMoE θ on the simulated 8-device channel (first 256 tokens of $text)"
"$cli" wdmoe-sim -m "$q8" -f "$text" -n 256 -t $t --theta 0,0.1,0.2,0.3 2>&1 | tail -6

echo "== tier-aware θ (tiered store, RAM for 50 % of the experts, LRU): perplexity"
for th in 0 0.1 0.2 0.3; do
  printf 'tier-theta %s: ' "$th"
  "$cli" perplexity -m "$q8" -f "$text" -c 128 -t $t --ram-budget 50% --tier-theta "$th" 2>&1 |
    grep 'Final estimate'
done

echo "== routing trace: a held-out paragraph as a raw prompt, then 64 greedy tokens"
trace=tests/fixtures/demo/routing_trace.jsonl
prompt="$(head -c 600 "$text")"
"$cli" run -m "$q8" --raw -p "$prompt" -n 64 --greedy --ignore-eos -t $t --trace "$trace" \
  >/dev/null 2>&1
echo "$(wc -l <"$trace") events, $(du -h "$trace" | cut -f1)"
"$cli" cache-sim --trace "$trace" -m "$q8" --slots 4 2>&1 | tail -14

echo "== bench (random prompt ids, as llama-bench): speed and routing entropy"
"$cli" bench -m "$q8" -t $t -c 512 --json 2>/dev/null |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in d if any(s in k for s in ("tok_per_s", "entropy", "rss"))})'
