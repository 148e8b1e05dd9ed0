#!/usr/bin/env python3
"""Greedy chat answers of a demo-model checkpoint (PyTorch), to watch a fine-tune as it runs.

Prints the answer to each prompt (encoded as our engine's Mistral chat template renders it,
greedy, until </s> or --tokens), and with --focus N how many of N questions of the fine-tune
set (tools/demo_focus.py, a fixed sample) get their definition back word for word, and how many
at least name the word asked about (the answer starts with "A fever is" for "What is a fever?").

Usage: python3 tools/demo_sample.py --ckpt /work/demo-train/run3/ckpt/step_000400.pt \
           [--focus 50] ["What is a fever?" ...]
"""
import argparse
import json
import os
import random

import torch
from transformers import MixtralForCausalLM

import demo_common as dc

PROMPTS = ["What is a fever?", "What is anemia?", "What is a heart?", "What is an aspirin?",
           "What does it mean to breathe?"]


@torch.no_grad()
def answer(model, sp, question, n_tokens):
    seq = dc.encode_chat(sp, [("user", question)])
    out = []
    for _ in range(n_tokens):
        nxt = int(model(torch.tensor([seq]), use_cache=False).logits[0, -1].argmax())
        if nxt == 2:
            break
        out.append(nxt)
        seq.append(nxt)
    return sp.decode(out).strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", default=dc.WORK, help="tokenizer.model and corpus/")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--focus", type=int, default=0)
    ap.add_argument("prompts", nargs="*")
    args = ap.parse_args()
    torch.set_num_threads(1)
    sp = dc.load_sp(os.path.join(args.data, "tokenizer.model"))
    state = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    model = MixtralForCausalLM(dc.mixtral_config()).float().eval()
    model.load_state_dict(state.get("model", state))
    for q in args.prompts or PROMPTS:
        print("%s => %s" % (q, answer(model, sp, q, args.tokens)), flush=True)
    if args.focus:
        with open(os.path.join(args.data, "corpus", "focus.jsonl"), encoding="utf-8") as f:
            pairs = [json.loads(line) for line in f]
        exact = named = 0
        for p in random.Random(dc.SEED).sample(pairs, args.focus):
            got = answer(model, sp, p["q"], args.tokens)
            exact += got == p["a"]
            named += got.split(" is ")[0] == p["a"].split(" is ")[0] or \
                got.split(" means ")[0] == p["a"].split(" means ")[0]
        print("focus sample: %d/%d answers exact, %d/%d name the word asked about" %
              (exact, args.focus, named, args.focus))


if __name__ == "__main__":
    main()
