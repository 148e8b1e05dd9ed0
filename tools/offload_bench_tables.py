#!/usr/bin/env python3
"""Expert-cache benchmark tables for docs/benchmarks.md (issue 14): `moe-cli bench --json`
decoding random ids at RAM budgets of 25/50/75/100 % x policies none / lru (no prefetch) /
lru + prefetch / hybrid / auto, the page cache dropped before every run (needs root), the load
average recorded beside each run. Repetitions are alternated (every cell once, then again).

  tools/offload_bench_tables.py build/app/moe-cli MODEL --profile P.json [--reps 2]
      [--out runs.jsonl] [--bench-args "-p 16 -n 48 -t 2"]
  tools/offload_bench_tables.py --table runs.jsonl      # the Markdown tables again

`--profile` (a profile saved by `moe-cli profile`, with its trace) is what hybrid ranks experts
by and what auto's planner replays; record it on another run than the measured one (another
seed), or auto is scored on the very routing it was chosen on. `none` does not depend on the
budget: it runs once per repetition.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BUDGETS = ("25%", "50%", "75%", "100%")
POLICIES = {  # name -> extra bench arguments
    "none": ["--policy", "none"],
    "lru": ["--policy", "lru", "--no-prefetch"],
    "lru + prefetch": ["--policy", "lru"],
    "hybrid": ["--policy", "hybrid", "--no-prefetch"],
    "auto": ["--policy", "auto", "--no-prefetch"],
}
KEYS = ("decode_tok_per_s", "cache_hit_rate", "oracle_hit_rate", "prefetch_accuracy",
        "disk_bytes_per_token", "routing_entropy_bits", "cache_policy", "cache_policy_reason",
        "peak_rss_bytes", "model_page_cache_bytes", "ram_budget_bytes")


def drop_page_cache():
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def run_cell(cli, model, budget, policy, profile, bench_args):
    cmd = [cli, "bench", "-m", model, "--ram-budget", budget, "--no-membw", "--json",
           *bench_args.split(), *POLICIES[policy]]
    if profile and policy in ("hybrid", "auto"):
        cmd += ["--profile", profile]
    drop_page_cache()
    load0 = os.getloadavg()[0]
    t0 = time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    row = {k: j.get(k) for k in KEYS}
    row.update(model=os.path.basename(model), budget=budget, policy=policy,
               load_before=load0, load_after=os.getloadavg()[0], wall_s=time.time() - t0,
               utc=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0)), cmd=" ".join(cmd))
    return row


def table(rows):
    by = {}
    for r in rows:
        by.setdefault((r["model"], r["policy"], r["budget"]), []).append(r)
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        loads = [r["load_before"] for r in mine] + [r["load_after"] for r in mine]
        print(f"\n**{model}** ({len(mine)} runs, {mine[0]['utc']} - {mine[-1]['utc']} UTC, "
              f"load average {min(loads):.1f}-{max(loads):.1f})\n")
        print("| RAM budget | policy | decode tok/s (runs) | vs none | hit rate | oracle | "
              "prefetch acc. | disk MiB/token | entropy bits | policy run (auto) |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
        none = [r["decode_tok_per_s"] for r in mine if r["policy"] == "none"]
        base = statistics.median(none) if none else float("nan")
        for budget in BUDGETS:
            for policy in POLICIES:
                cell = by.get((model, policy, budget)) or (
                    by.get((model, policy, "100%")) if policy == "none" else None)
                if not cell:
                    continue
                tps = [r["decode_tok_per_s"] for r in cell]
                med = statistics.median(tps)

                def rng(key, fmt):
                    v = [r[key] for r in cell if r[key] is not None]
                    if not v:
                        return "-"
                    lo, hi = fmt.format(min(v)), fmt.format(max(v))
                    return lo if lo == hi else f"{lo}-{hi}"
                disk = [r["disk_bytes_per_token"] / 1048576 for r in cell]
                chosen = cell[0]["cache_policy"] if policy == "auto" else ""
                print(f"| {budget} | {policy} | {med:.1f} ({', '.join(f'{t:.1f}' for t in tps)}) | "
                      f"{med / base:.2f}x | {rng('cache_hit_rate', '{:.3f}')} | "
                      f"{rng('oracle_hit_rate', '{:.3f}')} | "
                      f"{rng('prefetch_accuracy', '{:.2f}') if policy == 'lru + prefetch' else '-'} | "
                      f"{min(disk):.1f}-{max(disk):.1f} | {rng('routing_entropy_bits', '{:.2f}')} | "
                      f"{chosen} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("cli", nargs="?")
    ap.add_argument("model", nargs="?")
    ap.add_argument("--profile", default="")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--out", default="offload_runs.jsonl")
    ap.add_argument("--bench-args", default="-p 16 -n 48 -t 2")
    ap.add_argument("--policies", default=",".join(POLICIES),
                    help="comma-separated subset of: " + ", ".join(POLICIES))
    ap.add_argument("--table", help="print the tables of a runs file and exit")
    a = ap.parse_args()
    if a.table:
        table([json.loads(l) for l in open(a.table)])
        return
    if not a.cli or not a.model:
        sys.exit(__doc__)
    rows = []
    with open(a.out, "a") as out:
        for rep in range(a.reps):
            chosen = a.policies.split(",")
            cells = [("100%", "none")] if "none" in chosen else []
            cells += [(b, p) for b in BUDGETS for p in chosen if p != "none"]
            for budget, policy in cells:
                row = run_cell(a.cli, a.model, budget, policy, a.profile, a.bench_args)
                row["rep"] = rep + 1
                rows.append(row)
                out.write(json.dumps(row) + "\n")
                out.flush()
                print(f"rep {rep + 1} {budget:>4} {policy:<15} {row['decode_tok_per_s']:7.2f} tok/s "
                      f"hit {row['cache_hit_rate']:.3f} load {row['load_before']:.1f} "
                      f"{row['cache_policy']}", file=sys.stderr, flush=True)
    table(rows)


if __name__ == "__main__":
    main()
