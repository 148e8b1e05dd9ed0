#!/usr/bin/env python3
"""PyTorch reference figures for the shipped demo model (tests/fixtures/demo/reference.json).

Loads the trained weights (tools/demo_train.py) into transformers' MixtralForCausalLM, twice:
as trained (F32) and with every matrix round-tripped through Q8_0 as the shipped
moe-studio-demo-q8_0.gguf stores it (router and norms stay F32), and records for each:

  * perplexity on tests/fixtures/demo/heldout.txt (WordNet senses that training never saw),
    by llama.cpp's chunk method (as tools/make_perplexity_golden.py: tokens = [BOS] + text,
    chunks of N_CTX with BOS first, the second half of each chunk scored, float64 NLL);
  * greedy continuations (argmax, N_GREEDY tokens, EOS not special) of three chat prompts, and
    of the first again behind the app chat's default system prompt (demo_common.
    APP_SYSTEM_PROMPT), encoded as our engine's Mistral template renders them, with the top-1/top-2 logit margin
    of every step, so that a test can tell a real mismatch from a near-tie flipped by our Q8_0
    activation rounding;
  * the loss on the first N_PARAS held-out paragraphs encoded as training saw text (<s> para
    </s> each, no newlines): heldout.txt joins paragraphs with blank lines, whose byte tokens
    the model never saw in training, so its perplexity understates what the model learnt;
  * per layer: how often each expert is chosen (top-2 of softmax(router logits)) over the
    held-out text, and the entropy of that distribution in bits (uniform: log2(8) = 3).

Usage: python3 tools/demo_reference.py [--ckpt /work/demo-train/final.pt]
       (from the repository root; writes tests/fixtures/demo/{heldout.txt,reference.json})
"""
import argparse
import json
import math
import os

import numpy as np
import torch
import gguf
from transformers import MixtralForCausalLM

import demo_common as dc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "demo")
N_CTX = 128
N_CHUNKS = 8
N_GREEDY = 32
N_PARAS = 400
PROMPTS = [("What is a fever?", None), ("What is an aspirin?", None),
           ("What does it mean to breathe?", None), ("What is a fever?", dc.APP_SYSTEM_PROMPT)]


def heldout_text(sp, work):
    """The first held-out paragraphs that give N_CHUNKS full chunks (plus a short tail)."""
    paras = open(os.path.join(work, "corpus", "heldout.txt"), encoding="utf-8").read().split("\n\n")
    text = ""
    for p in paras:
        text = (text + "\n\n" + p.strip()) if text else p.strip()
        if len(sp.encode(text)) + 1 >= N_CTX * N_CHUNKS + 20:
            return text + "\n"
    raise SystemExit("held-out text too short")


@torch.no_grad()
def perplexity(model, tokens):
    nll, running = [], []
    for c in range(len(tokens) // N_CTX):
        chunk = list(tokens[c * N_CTX:(c + 1) * N_CTX])
        chunk[0] = 1
        logits = model(torch.tensor([chunk]), use_cache=False).logits[0].double()
        lp = torch.log_softmax(logits, dim=-1)
        for pos in range(N_CTX // 2, N_CTX - 1):
            nll.append(-float(lp[pos, chunk[pos + 1]]))
        a = np.array(nll)
        ppl = math.exp(a.mean())
        running.append({"ppl": ppl, "ppl_error": ppl * math.sqrt(a.var() / (len(a) - 1)),
                        "scored": len(a)})
    return running


@torch.no_grad()
def paragraph_loss(model, sp, work):
    paras = open(os.path.join(work, "corpus", "heldout.txt"), encoding="utf-8").read().split("\n\n")
    paras = [p.strip() for p in paras if p.strip()][:N_PARAS]
    nll, n = 0.0, 0
    for p in paras:
        ids = ([1] + sp.encode(p) + [2])[:N_CTX]
        lp = torch.log_softmax(model(torch.tensor([ids]), use_cache=False).logits[0].double(), -1)
        nll -= float(lp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum())
        n += len(ids) - 1
    return {"paragraphs": len(paras), "scored": n, "nll": nll / n, "ppl": math.exp(nll / n)}


@torch.no_grad()
def greedy(model, ids):
    seq, out, margins = list(ids), [], []
    for _ in range(N_GREEDY):
        lg = model(torch.tensor([seq]), use_cache=False).logits[0, -1]
        top2 = torch.topk(lg, 2)
        margins.append(float(top2.values[0] - top2.values[1]))
        out.append(int(top2.indices[0]))
        seq.append(out[-1])
    return out, margins


@torch.no_grad()
def routing(model, tokens, cfg):
    counts = np.zeros((cfg.num_hidden_layers, cfg.num_local_experts), dtype=np.int64)
    for c in range(len(tokens) // N_CTX):
        chunk = list(tokens[c * N_CTX:(c + 1) * N_CTX])
        chunk[0] = 1
        out = model(torch.tensor([chunk]), use_cache=False, output_router_logits=True)
        for layer, lg in enumerate(out.router_logits):  # [T, E]
            top = torch.topk(torch.softmax(lg.float(), -1), cfg.num_experts_per_tok, -1).indices
            counts[layer] += np.bincount(top.flatten().numpy(), minlength=cfg.num_local_experts)
    ent = []
    for row in counts:
        p = row / row.sum()
        ent.append(float(-(p[p > 0] * np.log2(p[p > 0])).sum()))
    return counts.tolist(), ent


def q8_round_trip(model):
    Q8 = gguf.GGMLQuantizationType.Q8_0
    with torch.no_grad():
        for name, prm in model.named_parameters():
            if prm.ndim >= 2 and "mlp.gate." not in name:
                arr = prm.detach().numpy()
                shape = arr.shape
                rt = gguf.quants.dequantize(gguf.quants.quantize(arr.reshape(-1, shape[-1]), Q8),
                                            Q8).reshape(shape)
                prm.copy_(torch.from_numpy(rt))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", default=os.path.join(dc.WORK, "final.pt"))
    ap.add_argument("--work", default=dc.WORK)
    args = ap.parse_args()
    torch.set_num_threads(1)  # on a shared machine one thread is faster (tools/demo_train.py)
    sp = dc.load_sp(os.path.join(args.work, "tokenizer.model"))
    state = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    state = state.get("model", state)
    cfg = dc.mixtral_config()
    model = MixtralForCausalLM(cfg).float().eval()
    model.load_state_dict(state)
    os.makedirs(OUT, exist_ok=True)
    text = heldout_text(sp, args.work)
    with open(os.path.join(OUT, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    tokens = [1] + sp.encode(text)
    ref = {"generator": "tools/demo_reference.py", "torch": torch.__version__,
           "transformers": __import__("transformers").__version__, "n_ctx": N_CTX,
           "tokens": tokens, "prompts": []}
    for variant in ("f32", "q8_0_weights"):
        if variant == "q8_0_weights":
            q8_round_trip(model)
        ref[variant] = {"perplexity": perplexity(model, tokens),
                        "heldout_paragraphs": paragraph_loss(model, sp, args.work)}
        counts, ent = routing(model, tokens, cfg)
        ref[variant]["expert_counts"] = counts
        ref[variant]["routing_entropy_bits"] = ent
        gens = []
        for p, system in PROMPTS:
            ids = dc.encode_chat(sp, ([("system", system)] if system else []) + [("user", p)])
            out, margins = greedy(model, ids)
            gens.append({"prompt": p, "system": system or "", "prompt_ids": ids, "greedy": out,
                         "margins": margins, "min_margin": min(margins), "text": sp.decode(out)})
        ref[variant]["greedy"] = gens
        print(variant, "PPL %.4f" % ref[variant]["perplexity"][-1]["ppl"],
              "paragraphs PPL %.2f" % ref[variant]["heldout_paragraphs"]["ppl"],
              "entropy", ["%.3f" % e for e in ent])
        for g in gens:
            print("  %s%s -> %r (margin %.3f)" % ("(system) " if g["system"] else "", g["prompt"],
                                                g["text"], g["min_margin"]))
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)


if __name__ == "__main__":
    main()
