#!/usr/bin/env python3
"""Hit-rate tables for docs/offloading.md: runs `moe-cli cache-sim --json` on a trace (or a
synthetic spec) at 25/50/75 % of the expert slots and prints one Markdown row per policy.

  tools/cache_sim_figures.py build/app/moe-cli --trace t.jsonl
  tools/cache_sim_figures.py build/app/moe-cli --synthetic layers=16,experts=8,k=2,...
Extra arguments after the source are passed to cache-sim (e.g. --allocation adaptive).
"""
import json
import subprocess
import sys


def run(cli, source, budget, extra):
    out = subprocess.run([cli, "cache-sim", *source, "--ram-budget", budget, "--json", *extra],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    cli, source, extra = sys.argv[1], sys.argv[2:4], sys.argv[4:]
    runs = {b: run(cli, source, b, extra) for b in ("25%", "50%", "75%")}
    first = runs["25%"]
    print(f"{first['trace']}: {first['n_layer']} layers x {first['n_expert']} experts, "
          f"top-{first['top_k']}, {first['tokens']} tokens (profile {first['profile_tokens']}, "
          f"replay {first['replay_tokens']}); routing entropy {first['routing_entropy_bits']:.3f} "
          f"bits of {first['max_entropy_bits']:.3f}\n")
    print("| policy | 25 % | 50 % | 75 % |")
    print("|---|---|---|---|")
    labels = [p["policy"] for p in first["policies"]]
    for i, label in enumerate(labels):
        cells = [f"{runs[b]['policies'][i]['hit_rate']:.3f}" for b in runs]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("| **belady (oracle)** | " +
          " | ".join(f"{runs[b]['belady']['hit_rate']:.3f}" for b in runs) + " |")
    print("| planner's choice | " +
          " | ".join(f"{runs[b]['planner']['choice']} ({runs[b]['planner']['replay_hit_rate']:.3f})"
                     for b in runs) + " |")
    print("| planner per layer | " +
          " | ".join(f"{runs[b]['planner']['per_layer_replay_hit_rate']:.3f}" for b in runs) + " |")


if __name__ == "__main__":
    main()
