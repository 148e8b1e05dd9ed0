#!/usr/bin/env bash
# Before/after check of the expert RPC's added latency per MoE layer (bench_expert_rpc): two
# builds of bench/expert_rpc_bench.cpp run case by case, alternated (A, B, A, B ...) so that
# both see the same machine load; prints the CPU, the load average and a table of the median
# over rounds of each build's p50 per round trip and per token (docs/benchmarks.md).
#
# usage: tools/rpc_ab_bench.sh BENCH_A BENCH_B
#   env: ROUNDS (3), MIN_TIME (1: seconds per case and run)
set -euo pipefail
if [[ $# -ne 2 ]]; then
  sed -n 6,7p "$0" >&2
  exit 2
fi
A=$1
B=$2
ROUNDS=${ROUNDS:-3}
MIN_TIME=${MIN_TIME:-1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "$(lscpu | grep 'Model name' | sed 's/ \+/ /g'); family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(nproc) CPUs"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for tls in 1 0; do
    for embd in 1024 4096; do
      for tokens in 1 128; do
        for side in A B; do
          bin=$A
          [[ $side == B ]] && bin=$B
          "$bin" --benchmark_filter="tokens:$tokens/n_embd:$embd/tls:$tls/" \
            --benchmark_min_time="$MIN_TIME" --benchmark_format=json \
            >"$out/$side.$tokens.$embd.$tls.$round.json" 2>/dev/null
        done
      done
    done
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" "$ROUNDS" <<'PY'
import json, statistics, sys, os
out, rounds = sys.argv[1], int(sys.argv[2])
def p50(side, tokens, embd, tls):
    v = []
    for r in range(1, rounds + 1):
        j = json.load(open(os.path.join(out, f"{side}.{tokens}.{embd}.{tls}.{r}.json")))
        v += [b["p50_us"] for b in j["benchmarks"]]
    return statistics.median(v)
print("| request | n_embd | transport | A p50 | B p50 | A per token | B per token | B/A |")
print("|---|---:|---|---:|---:|---:|---:|---:|")
def fmt(us):
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"
for tls in (1, 0):
    for embd in (1024, 4096):
        for tokens in (1, 128):
            a, b = p50("A", tokens, embd, tls), p50("B", tokens, embd, tls)
            req = "1 token" if tokens == 1 else f"{tokens}-token prefill"
            print(f"| {req} | {embd} | {'TLS 1.3' if tls else 'plaintext'} | {fmt(a)} | {fmt(b)} "
                  f"| {a / tokens:.0f} µs | {b / tokens:.0f} µs | {b / a:.2f} |")
PY
