#!/usr/bin/env python3
"""Trains the demo MoE (transformers MixtralForCausalLM, config in tools/demo_common.py) on CPU.

Two phases, one step counter:
  pretrain  steps [0, --pretrain-steps): random windows of --seq tokens from pretrain.txt
            (each paragraph is <s> text </s>), next-token loss + router load-balancing loss
            (Switch Transformer eq. 4, transformers' load_balancing_loss_func, coef --aux).
  sft       steps [--pretrain-steps, --pretrain-steps + --sft-steps): question -> answer pairs
            from sft.jsonl, encoded exactly as our engine's Mistral chat template renders them
            (tools/demo_common.encode_chat), packed into --seq windows; the loss counts only
            the answer tokens and their </s>. One batch in four is still pretrain text.
AdamW, linear warm-up then cosine decay over each phase. A phase is sized either in steps
(--pretrain-steps / --sft-steps) or in wall-clock minutes (--pretrain-minutes / --sft-minutes:
the cosine runs over the phase's own elapsed time, so a run on a shared machine ends on time
whatever share of the CPU it gets). Fixed seeds; the data order is a function of the step, so a
run resumed from a checkpoint (--resume, the newest <work>/ckpt/step_*.pt) sees the same
batches; a step-sized run also gets the same learning rates (a time-sized one records its rates
in the log). Losses go to <work>/train_log.jsonl.

Speed (docs/demo-model.md): the experts run as transformers' "grouped_mm" (tokens sorted by
expert, one matmul per expert; its default, and bit-identical to "eager": --bench checks)
rather than "eager" (3x slower here: a one-hot mask and index gathers per expert). On 2 cores
shared with compilers at a better nice level, one thread is faster than two even in wall time:
OpenMP's two threads wait on each other whenever either is preempted (555 -> 2,221 tokens per
CPU-second measured). Windows are 128 tokens: a paragraph is ~40, and the held-out perplexity
is measured on 128-token chunks.

Usage (from the repository root, on a shared 2-core machine):
  nohup nice -n 19 python3 tools/demo_train.py --pretrain-minutes 40 --sft-minutes 27 \
      > /work/demo-train/train.out &
  python3 tools/demo_train.py --bench 30       # tokens/s of the training step, then exit
"""
import argparse
import glob
import json
import math
import os
import random
import time

import numpy as np
import torch
from transformers import MixtralForCausalLM

import demo_common as dc


def load_pretrain(sp, path):
    cache = path + ".ids.npy"
    if os.path.exists(cache):
        return np.load(cache)
    ids = []
    with open(path, encoding="utf-8") as f:
        for para in f.read().split("\n\n"):
            para = para.strip()
            if para:
                ids += [1] + sp.encode(para) + [2]
    arr = np.array(ids, dtype=np.int16)
    np.save(cache, arr)
    return arr


def load_sft(sp, path, limit):
    cache = path + ".ids.npz"
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(path):
        z = np.load(cache)
        return z["ids"], z["mask"]
    ids, mask = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            if n >= limit:
                break
            pair = json.loads(line)
            ask = ([("system", pair["system"])] if pair.get("system") else []) + \
                [("user", pair["q"])]
            prompt = dc.encode_chat(sp, ask)
            full = dc.encode_chat(sp, ask + [("assistant", pair["a"])])
            ids += full
            mask += [0] * len(prompt) + [1] * (len(full) - len(prompt))
    ids, mask = np.array(ids, dtype=np.int16), np.array(mask, dtype=np.int8)
    np.savez(cache, ids=ids, mask=mask)
    return ids, mask


def batch_at(step, data, mask, batch, seq, seed):
    """The batch of `step`: a function of (seed, step) only, so resuming is exact."""
    g = np.random.default_rng([seed, step])
    starts = g.integers(0, len(data) - seq - 1, size=batch)
    x = np.stack([data[s:s + seq + 1] for s in starts]).astype(np.int64)
    inp, tgt = torch.from_numpy(x[:, :-1]), torch.from_numpy(x[:, 1:]).clone()
    if mask is not None:
        m = np.stack([mask[s + 1:s + seq + 1] for s in starts])
        tgt[torch.from_numpy(m) == 0] = -100
    return inp, tgt


class Schedule:
    """Where the run is: the phase, the step within it and the fraction of it done. A phase
    sized in minutes measures its fraction by its own elapsed wall time (kept in checkpoints,
    so a resumed run picks up where it stopped); one sized in steps by its step count."""

    def __init__(self, args, state=None):
        self.args = args
        state = state or {}
        self.sft_start = state.get("sft_start")   # first step of the fine-tune, once reached
        self.elapsed = state.get("elapsed", {"pretrain": 0.0, "sft": 0.0})

    def state(self):
        return {"sft_start": self.sft_start, "elapsed": dict(self.elapsed)}

    def _budget(self, phase):
        a = self.args
        minutes = a.pretrain_minutes if phase == "pretrain" else a.sft_minutes
        steps = a.pretrain_steps if phase == "pretrain" else a.sft_steps
        return (minutes * 60.0, None) if minutes > 0 else (None, steps)

    def _progress(self, phase, s):
        seconds, steps = self._budget(phase)
        if seconds:
            return self.elapsed[phase] / seconds
        return s / steps if steps else 1.0

    def phase(self, step):
        """("pretrain" | "sft" | None when done, step within the phase, fraction done)."""
        if self.sft_start is None:
            p = self._progress("pretrain", step)
            if p < 1:
                return "pretrain", step, p
            self.sft_start = step
        s = step - self.sft_start
        p = self._progress("sft", s)
        return ("sft", s, p) if p < 1 else (None, s, p)

    def lr(self, phase, s, p):
        a = self.args
        peak = a.lr if phase == "pretrain" else a.sft_lr
        if s < a.warmup:
            return peak * (s + 1) / a.warmup
        return a.min_lr_frac * peak + (1 - a.min_lr_frac) * peak * 0.5 * (1 + math.cos(math.pi * p))


def save(model, opt, step, sched, args):
    d = os.path.join(args.work, "ckpt")
    os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d, "tmp.pt")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "schedule": sched.state(), "args": vars(args)}, tmp)
    os.replace(tmp, os.path.join(d, "step_%06d.pt" % step))
    for old in sorted(glob.glob(os.path.join(d, "step_*.pt")))[:-2]:
        os.remove(old)


@torch.no_grad()
def check_experts(model, inp):
    """The experts implementation that trains must compute what transformers' reference loop
    ("eager", the one our export and tests were checked against) computes."""
    ref = MixtralForCausalLM(dc.mixtral_config(experts_implementation="eager")).float().eval()
    ref.load_state_dict(model.state_dict())
    was = model.training
    diff = float((model.eval()(input_ids=inp, use_cache=False).logits -
                  ref(input_ids=inp, use_cache=False).logits).abs().max())
    model.train(was)
    print("max |logits(%s) - logits(eager)| = %.3g" % (model.config._experts_implementation, diff),
          flush=True)
    if diff > 1e-5:
        raise SystemExit("experts implementation differs from the reference")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=dc.WORK, help="checkpoints, log and final.pt")
    ap.add_argument("--data", help="tokenizer.model and corpus/ (default: --work)")
    ap.add_argument("--sft-file", default="sft.jsonl",
                    help="the fine-tune's pairs in corpus/ (run 3: focus.jsonl, tools/demo_focus.py)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--experts", default="grouped_mm", help="transformers experts_implementation")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--pretrain-steps", type=int, default=3000)
    ap.add_argument("--sft-steps", type=int, default=800)
    ap.add_argument("--pretrain-minutes", type=float, default=0,
                    help="size the pretraining by wall time instead of --pretrain-steps")
    ap.add_argument("--sft-minutes", type=float, default=0,
                    help="size the fine-tune by wall time instead of --sft-steps")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--sft-lr", type=float, default=1e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--aux", type=float, default=0.02, help="router_aux_loss_coef")
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", help="start from these weights (a final.pt or a ckpt/step_*.pt) "
                                   "with a new schedule, e.g. to extend an earlier run")
    ap.add_argument("--bench", type=int, default=0, help="time N steps and exit")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(dc.SEED)
    random.seed(dc.SEED)
    data = args.data or args.work
    sp = dc.load_sp(os.path.join(data, "tokenizer.model"))
    corpus = os.path.join(data, "corpus")
    pre = load_pretrain(sp, os.path.join(corpus, "pretrain.txt"))
    sft_ids, sft_mask = load_sft(sp, os.path.join(corpus, args.sft_file), 60000)
    print("pretrain %d tokens, sft %d tokens" % (len(pre), len(sft_ids)), flush=True)

    cfg = dc.mixtral_config(output_router_logits=True, router_aux_loss_coef=args.aux,
                            experts_implementation=args.experts)
    model = MixtralForCausalLM(cfg).float().train()
    n_params = sum(p.numel() for p in model.parameters())
    print("parameters %.2f M, experts %s, %d thread(s)" %
          (n_params / 1e6, model.config._experts_implementation, args.threads), flush=True)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    if args.bench:
        check_experts(model, batch_at(0, pre, None, args.batch, args.seq, dc.SEED)[0])
    step, sched = 0, Schedule(args)
    if args.init:
        state = torch.load(args.init, weights_only=False)
        model.load_state_dict(state.get("model", state))
        print("weights from %s" % args.init, flush=True)
    if args.resume:
        ck = sorted(glob.glob(os.path.join(args.work, "ckpt", "step_*.pt")))
        if ck:
            state = torch.load(ck[-1], weights_only=False)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            step = state["step"]
            sched = Schedule(args, state.get("schedule"))
            print("resumed at step %d from %s" % (step, ck[-1]), flush=True)
    log = open(os.devnull if args.bench else os.path.join(args.work, "train_log.jsonl"), "a")
    t0, tok0, cpu0 = time.time(), 0, time.process_time()
    while True:
        phase, s, progress = sched.phase(step)
        if phase is None:
            break
        sft = phase == "sft" and step % 4 != 3
        if sft:
            inp, tgt = batch_at(step, sft_ids, sft_mask, args.batch, args.seq, dc.SEED + 1)
        else:
            inp, tgt = batch_at(step, pre, None, args.batch, args.seq, dc.SEED)
        lr = sched.lr(phase, s, progress)
        for gr in opt.param_groups:
            gr["lr"] = lr
        t_step = time.time()
        # Our own next-token loss: `tgt` is already shifted (position t predicts t + 1), so it
        # must not go through transformers' `labels`, which shifts once more.
        out = model(input_ids=inp, use_cache=False, output_router_logits=True)
        lm_loss = torch.nn.functional.cross_entropy(
            out.logits.reshape(-1, out.logits.shape[-1]).float(), tgt.reshape(-1),
            ignore_index=-100)
        aux_t = out.aux_loss if out.aux_loss is not None else torch.zeros(())
        opt.zero_grad(set_to_none=True)
        (lm_loss + args.aux * aux_t).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.elapsed[phase] += time.time() - t_step
        step += 1
        tok0 += inp.numel()
        aux = float(aux_t.detach())
        rec = {"step": step, "phase": "sft" if sft else "pretrain",
               "loss": float(lm_loss.detach()), "aux": aux, "lr": lr, "progress": progress,
               "tokens": step * args.batch * args.seq, "time": time.time() - t0}
        log.write(json.dumps(rec) + "\n")
        if step % 10 == 0 or args.bench:
            log.flush()
            wall, cpu = time.time() - t0, time.process_time() - cpu0
            print("step %d %s %.3f loss %.3f aux %.3f  %.0f tok/s, %.0f tok/CPU-s" %
                  (step, rec["phase"], progress, rec["loss"], aux, tok0 / wall, tok0 / cpu),
                  flush=True)
        if args.bench and step >= args.bench:
            return
        if step % args.ckpt_every == 0:
            save(model, opt, step, sched, args)
    save(model, opt, step, sched, args)
    torch.save(model.state_dict(), os.path.join(args.work, "final.pt"))
    print("done: %d steps in %.0f s" % (step, time.time() - t0), flush=True)


if __name__ == "__main__":
    main()
