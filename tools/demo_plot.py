#!/usr/bin/env python3
"""Plots the demo model's training loss (tools/demo_train.py's train_log.jsonl) into
docs/demo-model-loss.png and prints the totals used in docs/demo-model.md.

A resumed run appends to the log: for each step the last record wins, and the wall time is the
sum over the runs (each run's clock starts at 0). A run started from another's weights
(demo_train.py --init) has its own log and step count: give the logs in order, each earlier one
as LOG:STEP (the step whose checkpoint the next run started from); the later curve continues
after that many tokens.

A log named in --focused as well is a fine-tune on tools/demo_focus.py's set (run 3): its
answer-token losses get a curve of their own.

Usage: python3 tools/demo_plot.py [--log [EARLIER.jsonl:STEP ...] /work/demo-train/train_log.jsonl]
           [--focused LOG ...]
"""
import argparse
import json
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ema(xs, a=0.9):
    out, m = [], None
    for x in xs:
        m = x if m is None else a * m + (1 - a) * x
        out.append(m)
    return out


def read_log(path, upto, runs):
    """{step: record} of one log, steps after `upto` dropped; appends each run's wall time."""
    recs, last_t = {}, None
    for line in open(path):
        r = json.loads(line)
        if upto is not None and r["step"] > upto:
            continue
        if last_t is not None and r["time"] < last_t:
            runs.append(last_t)
        last_t = r["time"]
        recs[r["step"]] = r
    runs.append(last_t)
    return recs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", nargs="+", default=["/work/demo-train/train_log.jsonl"])
    ap.add_argument("--focused", nargs="*", default=[],
                    help="logs (as in --log, without :STEP) of a focused fine-tune")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "demo-model-loss.png"))
    args = ap.parse_args()
    # One step numbering over all logs; a later log's tokens start where the earlier one stopped.
    recs, runs, base_step, base_tokens = {}, [], 0, 0
    for spec in args.log:
        path, _, upto = spec.partition(":")
        part = read_log(path, int(upto) if upto else None, runs)
        for k in sorted(part):
            r = dict(part[k], step=base_step + k, tokens=base_tokens + part[k]["tokens"])
            if path in args.focused and r["phase"] == "sft":
                r["phase"] = "focus"
            recs[r["step"]] = r
        base_step, base_tokens = recs[max(recs)]["step"], recs[max(recs)]["tokens"]
    steps = sorted(recs)
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for phase, colour, label in (("pretrain", "tab:blue", "pretraining text"),
                                 ("sft", "tab:orange", "instruction fine-tune (answer tokens)"),
                                 ("focus", "tab:green", "focused fine-tune (answer tokens)")):
        s = [k for k in steps if recs[k]["phase"] == phase]
        # One curve per stretch of the phase (run 1's fine-tune and run 2's are apart).
        stretches = [[]]
        for k in s:
            if stretches[-1] and k - stretches[-1][-1] > 10:
                stretches.append([])
            stretches[-1].append(k)
        for n, part in enumerate(p for p in stretches if p):
            x = [recs[k]["tokens"] / 1e6 for k in part]
            y = [recs[k]["loss"] for k in part]
            ax.plot(x, y, color=colour, alpha=0.25, linewidth=0.8)
            ax.plot(x, ema(y), color=colour, linewidth=1.8, label=None if n else label)
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("MoE Studio demo model: 4 layers x 8 experts (top-2), 9.2 M parameters, "
                 "2 CPU cores", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out)
    last = recs[steps[-1]]
    pre = [recs[k] for k in steps if recs[k]["phase"] == "pretrain"]
    sft = [recs[k] for k in steps if recs[k]["phase"] in ("sft", "focus")]
    tail = lambda rs: sum(r["loss"] for r in rs[-20:]) / max(1, len(rs[-20:]))  # noqa: E731
    print("steps %d, tokens %d, wall %.1f min over %d run(s)" %
          (last["step"], last["tokens"], sum(runs) / 60, len(runs)))
    print("pretrain loss (mean of last 20 steps) %.3f (ppl %.1f); sft answer loss %.3f; aux %.3f" %
          (tail(pre), math.exp(tail(pre)), tail(sft) if sft else float("nan"), last["aux"]))


if __name__ == "__main__":
    main()
