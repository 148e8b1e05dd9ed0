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
AdamW, linear warm-up then cosine decay over each phase. Fixed seeds; the data order is a
function of the step, so a run resumed from a checkpoint (--resume, the newest
<work>/ckpt/step_*.pt) continues exactly. Losses go to <work>/train_log.jsonl.

Usage (from the repository root, on a shared 2-core machine):
  nohup nice -n 19 python3 tools/demo_train.py --threads 2 > /work/demo-train/train.out &
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
    if os.path.exists(cache):
        z = np.load(cache)
        return z["ids"], z["mask"]
    ids, mask = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            if n >= limit:
                break
            pair = json.loads(line)
            prompt = dc.encode_chat(sp, [("user", pair["q"])])
            full = dc.encode_chat(sp, [("user", pair["q"]), ("assistant", pair["a"])])
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


def lr_at(step, args):
    if step < args.pretrain_steps:
        s, n, peak = step, args.pretrain_steps, args.lr
    else:
        s, n, peak = step - args.pretrain_steps, args.sft_steps, args.sft_lr
    warm = max(1, min(args.warmup, n // 10))
    if s < warm:
        return peak * (s + 1) / warm
    return args.min_lr_frac * peak + (1 - args.min_lr_frac) * peak * 0.5 * (
        1 + math.cos(math.pi * (s - warm) / max(1, n - warm)))


def save(model, opt, step, args):
    d = os.path.join(args.work, "ckpt")
    os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d, "tmp.pt")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "args": vars(args)}, tmp)
    os.replace(tmp, os.path.join(d, "step_%06d.pt" % step))
    for old in sorted(glob.glob(os.path.join(d, "step_*.pt")))[:-2]:
        os.remove(old)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=dc.WORK)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=dc.MODEL["max_position_embeddings"])
    ap.add_argument("--pretrain-steps", type=int, default=190)
    ap.add_argument("--sft-steps", type=int, default=40)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--sft-lr", type=float, default=1e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--aux", type=float, default=0.02, help="router_aux_loss_coef")
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--bench", type=int, default=0, help="time N steps and exit")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(dc.SEED)
    random.seed(dc.SEED)
    sp = dc.load_sp(os.path.join(args.work, "tokenizer.model"))
    corpus = os.path.join(args.work, "corpus")
    pre = load_pretrain(sp, os.path.join(corpus, "pretrain.txt"))
    sft_ids, sft_mask = load_sft(sp, os.path.join(corpus, "sft.jsonl"), 60000)
    print("pretrain %d tokens, sft %d tokens" % (len(pre), len(sft_ids)), flush=True)

    cfg = dc.mixtral_config(output_router_logits=True, router_aux_loss_coef=args.aux)
    model = MixtralForCausalLM(cfg).float().train()
    n_params = sum(p.numel() for p in model.parameters())
    print("parameters %.2f M" % (n_params / 1e6), flush=True)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    step = 0
    if args.resume:
        ck = sorted(glob.glob(os.path.join(args.work, "ckpt", "step_*.pt")))
        if ck:
            state = torch.load(ck[-1], weights_only=False)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            step = state["step"]
            print("resumed at step %d from %s" % (step, ck[-1]), flush=True)
    total = args.pretrain_steps + args.sft_steps
    log = open(os.path.join(args.work, "train_log.jsonl"), "a")
    t0, tok0 = time.time(), 0
    while step < total:
        sft = step >= args.pretrain_steps and step % 4 != 3
        if sft:
            inp, tgt = batch_at(step, sft_ids, sft_mask, args.batch, args.seq, dc.SEED + 1)
        else:
            inp, tgt = batch_at(step, pre, None, args.batch, args.seq, dc.SEED)
        for gr in opt.param_groups:
            gr["lr"] = lr_at(step, args)
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
        step += 1
        tok0 += inp.numel()
        aux = float(aux_t.detach())
        rec = {"step": step, "phase": "sft" if sft else "pretrain",
               "loss": float(lm_loss.detach()), "aux": aux, "lr": lr_at(step - 1, args),
               "tokens": step * args.batch * args.seq, "time": time.time() - t0}
        log.write(json.dumps(rec) + "\n")
        if step % 10 == 0 or args.bench:
            log.flush()
            print("step %d %s loss %.3f aux %.3f  %.0f tok/s" %
                  (step, rec["phase"], rec["loss"], aux, tok0 / (time.time() - t0)), flush=True)
        if args.bench and step >= args.bench:
            return
        if step % args.ckpt_every == 0 or step == total:
            save(model, opt, step, args)
    torch.save(model.state_dict(), os.path.join(args.work, "final.pt"))
    print("done: %d steps in %.0f s" % (step, time.time() - t0), flush=True)


if __name__ == "__main__":
    main()
