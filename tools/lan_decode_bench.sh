#!/usr/bin/env bash
# Decode (and prompt) tok/s with experts on 1, 2 and 4 local moe-node processes against
# all-local runs, alternated setup by setup and round by round so that all setups see the same
# machine load (docs/benchmarks.md, "Expert devices on the LAN"). Nodes run over loopback with
# mutual TLS 1.3 and f32 rows; the host runs -t HOST_THREADS (2) with devices (its attention),
# all-local runs -t 1 and -t 2.
# NODES=machine (default): every node serves every expert with its default threads (all CPUs)
# and says which machine it runs on, as moe-node does by default: the host gives each node
# whole layers. NODES=split: each node -t 1, an equal share of every layer's experts and
# --machine none (as if each were a one-core machine of its own: every layer spread over them).
# Prints the CPU, the load average before each round, a row per run and a table of medians,
# with decode as a fraction of all-local 2-thread.
#
# usage: tools/lan_decode_bench.sh MODEL.gguf
#   env: MOE_CLI, MOE_NODE (default build/app/moe-cli, build/app/moe-node), ROUNDS (3),
#        PROMPT (16), GEN (64), SETUPS ("local2 local1 nodes1 nodes2 nodes4"),
#        NODES (machine | split, above), HOST_THREADS (2),
#        INSECURE (unset; 1: plaintext, --insecure on both ends),
#        TRACE (unset; 1: also write each run's engine trace and print, per setup, the median
#        decode step split into attention / experts / rest, and the devices' median round trip
#        against their compute per decode RPC: where the host waits; costs some speed)
#   e.g. ROUNDS=5 GEN=128 tools/lan_decode_bench.sh /work/bench-models/mm-q4_0.gguf
set -euo pipefail
if [[ $# -ne 1 ]]; then
  sed -n 14,22p "$0" >&2
  exit 2
fi
MODEL=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=${MOE_CLI:-$ROOT/build/app/moe-cli}
NODE=${MOE_NODE:-$ROOT/build/app/moe-node}
ROUNDS=${ROUNDS:-3}
PROMPT=${PROMPT:-16}
GEN=${GEN:-64}
SETUPS=${SETUPS:-local2 local1 nodes1 nodes2 nodes4}
NODES=${NODES:-machine}
HOST_THREADS=${HOST_THREADS:-2}
[[ $NODES == machine || $NODES == split ]] || { echo "NODES must be machine or split" >&2; exit 2; }
SECURITY=()
[[ ${INSECURE:-} == 1 ]] && SECURITY=(--insecure)

work=$(mktemp -d)
node_pids=()
stop_nodes() {
  for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  node_pids=()
}
trap 'stop_nodes; rm -rf "$work"' EXIT

"$CLI" pki --dir "$work/pki" init >/dev/null
for name in host node-1 node-2 node-3 node-4; do "$CLI" pki --dir "$work/pki" issue "$name" >/dev/null; done

# Starts N nodes, each serving its share of the model's experts; sets device_list to the
# --devices list. Not called in a command substitution: that subshell would keep node_pids from
# this shell, and stop_nodes would leave every node running.
device_list=""
start_nodes() {
  local n=$1 n_expert=$2 list="" i lo hi
  for ((i = 0; i < n; i++)); do
    lo=$((i * n_expert / n))
    hi=$(((i + 1) * n_expert / n - 1))
    rm -f "$work/port.$i"
    local share=()
    [[ $NODES == split ]] && share=(-t 1 --experts "$lo-$hi" --machine none)
    "$NODE" -m "$MODEL" --listen 127.0.0.1:0 --pki "$work/pki" --name "node-$((i + 1))" \
      "${share[@]}" --no-announce --port-file "$work/port.$i" "${SECURITY[@]}" \
      >"$work/node.$i.log" 2>&1 &
    node_pids+=($!)
  done
  for ((i = 0; i < n; i++)); do
    for _ in $(seq 1 600); do [[ -s $work/port.$i ]] && break; sleep 0.1; done
    [[ -s $work/port.$i ]] || { echo "node $i did not start:" >&2; cat "$work/node.$i.log" >&2; exit 1; }
    list+="${list:+,}127.0.0.1:$(cat "$work/port.$i")/node-$((i + 1))"
  done
  device_list=$list
}

n_expert=$("$CLI" inspect --json "$MODEL" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hparams"]["expert_count"])')
echo "$(lscpu | grep 'Model name' | sed 's/ \+/ /g'); family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(nproc) CPUs"
echo "model $MODEL, -p $PROMPT -n $GEN, $ROUNDS rounds, nodes: $NODES, host threads with nodes: $HOST_THREADS${INSECURE:+, plaintext (--insecure)}"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for setup in $SETUPS; do
    args=(-t 1)
    case $setup in
      local2) args=(-t 2) ;;
      local1) ;;
      nodes*)
        start_nodes "${setup#nodes}" "$n_expert"
        args=(-t "$HOST_THREADS" --devices "$device_list" --pki "$work/pki" --name host "${SECURITY[@]}")
        ;;
      *) echo "unknown setup $setup" >&2; exit 2 ;;
    esac
    [[ ${TRACE:-} == 1 ]] && args+=(--trace "$work/$setup.$round.jsonl")
    "$CLI" bench -m "$MODEL" -p "$PROMPT" -n "$GEN" -r 1 --no-membw --json "${args[@]}" \
      >"$work/$setup.$round.json" 2>"$work/$setup.$round.log"
    stop_nodes
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("  %-7s prompt %6.1f  decode %6.2f tok/s" % (sys.argv[2], j["prompt_tok_per_s"], j["decode_tok_per_s"]))' \
      "$work/$setup.$round.json" "$setup"
  done
done
python3 - "$work" "$SETUPS" <<'PY'
import json, statistics, sys, glob, os
work, setups = sys.argv[1], sys.argv[2].split()
med = {}
for s in setups:
    runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(work, s + ".*.json")))]
    med[s] = (statistics.median(r["prompt_tok_per_s"] for r in runs),
              statistics.median(r["decode_tok_per_s"] for r in runs),
              [round(r["decode_tok_per_s"], 1) for r in runs])
print("| setup | prompt tok/s | decode tok/s (median; runs) | decode vs local2 |")
print("|---|---:|---:|---:|")
for s in setups:
    p, d, runs = med[s]
    rel = f"{d / med['local2'][1]:.2f}x" if "local2" in med else "-"
    print(f"| {s} | {p:.1f} | {d:.2f} ({', '.join(map(str, runs))}) | {rel} |")
PY
[[ ${TRACE:-} == 1 ]] && python3 - "$work" "$SETUPS" <<'PY'
import json, statistics, sys, glob, os
work, setups = sys.argv[1], sys.argv[2].split()
print("| setup | decode step ms | attention ms | experts ms | rest ms | RPC round trip ms | device compute ms |")
print("|---|---:|---:|---:|---:|---:|---:|")
for s in setups:
    steps, rtt, comp = [], [], []
    for f in glob.glob(os.path.join(work, s + ".*.jsonl")):
        for line in open(f):
            e = json.loads(line)
            if e.get("type") == "timing" and e.get("phase") == "decode":
                steps.append(e)
            elif e.get("type") == "device" and e.get("kind") == "rpc" and e.get("tokens") == 1:
                rtt.append(e["rtt_s"] * 1e3)
                comp.append(e["compute_s"] * 1e3)
    if not steps:
        continue
    med = lambda k: statistics.median(x[k] for x in steps) * 1e3
    rest = statistics.median((x["total_s"] - x["attention_s"] - x["experts_s"]) for x in steps) * 1e3
    r = f"{statistics.median(rtt):.3f} | {statistics.median(comp):.3f}" if rtt else "- | -"
    print(f"| {s} | {med('total_s'):.2f} | {med('attention_s'):.2f} | {med('experts_s'):.2f} | {rest:.2f} | {r} |")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
