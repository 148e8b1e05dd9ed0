#!/usr/bin/env python3
"""Summary table of tools/bench_vs_llamacpp.sh's output directory (markdown on stdout).

usage: bench_vs_llamacpp_summary.py OUT_DIR MODEL.gguf [MODEL.gguf ...]

Every figure is the median over every individual run of every round: moe-cli's
per-repetition figures (prompt_tok_per_s_runs, decode_tok_per_s_runs) and llama-bench's
samples_ts. Decode bandwidth = active weight bytes per token (from moe-cli) x tok/s; each run
is divided by the triad bandwidth that moe-cli measured in the same round, seconds later.
On a shared host that probe can land in a busier moment than the decode runs (ratios above
100 %), so the last column divides the median decode GB/s by the best triad of the whole
script instead (over both models): the conservative figure.
"""
import glob
import json
import os
import statistics
import sys

med = statistics.median


def main(out, models):
    try:
        print("```\n" + open(f"{out}/machine.txt").read().strip() + "\n```\n")
    except OSError:
        pass
    ratios = []
    print("| model | engine | prompt tok/s | decode tok/s | TTFT ms | peak RSS MiB "
          "| decode GB/s | % of triad (same round) | % of best triad |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    best_bw = max(json.load(open(f))["membw_triad_gb_per_s"]
                  for m in models
                  for f in glob.glob(f"{out}/{os.path.basename(m)[:-len('.gguf')]}.moe.*.json"))
    for m in models:
        name = os.path.basename(m)[: -len(".gguf")]
        rounds = sorted({f.split(".")[-2] for f in glob.glob(f"{out}/{name}.moe.*.json")})
        if not rounds:
            continue
        moe = {r: json.load(open(f"{out}/{name}.moe.{r}.json")) for r in rounds}
        lla = {}
        for r in rounds:
            path = f"{out}/{name}.llama.{r}.json"
            if os.path.exists(path) and os.path.getsize(path) > 0:
                lla[r] = json.load(open(path))
        act = next(iter(moe.values()))["active_bytes_per_token"]
        speeds = {}
        bw = {r: j["membw_triad_gb_per_s"] for r, j in moe.items()}

        def row(engine, pp, tg, ttft, rss):
            speeds[engine] = (med(pp), med(t for t, _ in tg))
            gbs = [act * t / 1e9 for t, _ in tg]
            frac = [100 * g / bw[r] for g, (_, r) in zip(gbs, tg) if bw[r] > 0]
            print(f"| {name} | {engine} | {med(pp):.0f} | {med(t for t, _ in tg):.0f} "
                  f"| {ttft:.0f} | {rss} | {med(gbs):.1f} "
                  f"| {med(frac):.0f}% of {med(bw.values()):.1f} "
                  f"| {100 * med(gbs) / best_bw:.0f}% of {best_bw:.1f} |")

        row("moe-cli",
            [x for j in moe.values() for x in j["prompt_tok_per_s_runs"]],
            [(x, r) for r, j in moe.items() for x in j["decode_tok_per_s_runs"]],
            med(j["time_to_first_token_ms"] for j in moe.values()),
            f"{max(j['peak_rss_bytes'] for j in moe.values()) / 2**20:.0f}")
        if lla:
            pp = [x for run in lla.values() for t in run if t["n_prompt"] > 0
                  for x in t["samples_ts"]]
            tg = [(x, r) for r, run in lla.items() for t in run if t["n_gen"] > 0
                  for x in t["samples_ts"]]
            n_prompt = next(t["n_prompt"] for run in lla.values() for t in run
                            if t["n_prompt"] > 0)
            try:
                rss = f"{int(open(f'{out}/{name}.llama.rss_kib').read()) / 1024:.0f}"
            except (OSError, ValueError):
                rss = "?"
            # llama-bench reports no first-token time: prompt time + one decode step.
            ttft = 1000 * n_prompt / med(pp) + 1000 / med(t for t, _ in tg)
            row("llama.cpp", pp, tg, ttft, rss)
            first = next(iter(moe.values()))
            ratios.append((name, speeds["moe-cli"][0] / speeds["llama.cpp"][0],
                           speeds["moe-cli"][1] / speeds["llama.cpp"][1],
                           first.get("routing_entropy_bits"), first.get("backend", "")))
    if ratios:
        print("\n| model | prompt ratio (moe-cli / llama.cpp) | decode ratio | routing entropy (bits) |")
        print("|---|---:|---:|---:|")
        for name, pr, dr, h in ((r[0], r[1], r[2], r[3]) for r in ratios):
            hs = f"{h:.2f}" if h is not None else "?"
            print(f"| {name} | {pr:.2f}x | {dr:.2f}x | {hs} |")
        print(f"\nmoe-cli backend: {ratios[0][4]}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
