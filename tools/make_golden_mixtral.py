#!/usr/bin/env python3
"""Golden reference for the CPU forward pass: a tiny transformers MixtralForCausalLM.

Builds a small Mixtral with a fixed seed, writes it as GGUF (arch `llama`, merged experts,
standard llama.cpp tensor names, attn_q/attn_k rows permuted exactly like llama.cpp's
convert_hf_to_gguf.py LlamaModel.permute) in F32 and Q8_0, and records with transformers:

  * logits of every position of a fixed token sequence,
  * the experts chosen per token and layer (from output_router_logits; Mixtral semantics:
    softmax over all experts, top-k, renormalised = our TopKSelector),
  * a greedy continuation of N tokens (argmax, full recompute each step),
  * the smallest routing and greedy margins, so a test failure can be judged.

Usage: python3 tools/make_golden_mixtral.py [--out tests/fixtures/golden]
       python3 tools/make_golden_mixtral.py --big --out /tmp/bigmodel   (bench model, no refs)
The fixture is small (< 1 MB): 2 layers, hidden 64, 4 heads / 2 kv heads, 4 experts, top-2,
expert hidden 64, a 300-token SentencePiece-style vocabulary.
"""
import argparse
import json
import os

import numpy as np
import torch
import gguf
from transformers import MixtralConfig, MixtralForCausalLM

from hf_mixtral_gguf import put_mixtral_tensors

SEED = 1234
PROMPT = [1, 290, 17, 45, 201, 88, 299, 3, 120, 64, 250, 9, 33, 180, 77, 140]
N_GREEDY = 8


def make_vocab(n_vocab):
    """SentencePiece-style vocabulary: specials, 256 byte tokens, then pieces."""
    tokens, scores, types = [], [], []

    def add(text, score, ttype):
        tokens.append(text)
        scores.append(score)
        types.append(ttype)

    add("<unk>", 0.0, 2)
    add("<s>", 0.0, 3)
    add("</s>", 0.0, 3)
    add("[INST]", 0.0, 4)
    add("[/INST]", 0.0, 4)
    for b in range(256):
        add("<0x%02X>" % b, 0.0, 6)
    pieces = ["\u2581"] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces += ["\u2581" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces += ["\u2581the", "\u2581is", "\u2581of", "\u2581and", "er", "in", "th", "an",
               "on", "re", "\u2581pat", "\u2581patient", "\u2581dose", "\u2581mg", "\u2581fever"]
    for i, p in enumerate(pieces):
        if len(tokens) >= n_vocab:
            break
        add(p, -float(i + 1), 1)
    while len(tokens) < n_vocab:  # pad with unused placeholders
        add("<unused%d>" % len(tokens), -1000.0, 5)
    return tokens, scores, types


def build_model(args):
    torch.manual_seed(SEED)
    cfg = MixtralConfig(
        vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.ff,
        num_hidden_layers=args.layers, num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads, num_local_experts=args.experts,
        num_experts_per_tok=args.top_k, max_position_embeddings=args.ctx,
        rms_norm_eps=1e-5, rope_theta=10000.0, initializer_range=args.init_std,
        tie_word_embeddings=False, sliding_window=None, bos_token_id=1, eos_token_id=2,
        output_router_logits=True, router_aux_loss_coef=0.0)
    model = MixtralForCausalLM(cfg).eval().float()
    # Norm weights are ones at init; perturb them so the test checks that they are applied.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
    return cfg, model


def write_gguf(path, cfg, model, qtype, tokens, scores, types, name):
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    w = gguf.GGUFWriter(path, "llama")
    w.add_name(name)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_expert_count(cfg.num_local_experts)
    w.add_expert_used_count(cfg.num_experts_per_tok)
    w.add_file_type(0 if qtype == gguf.GGMLQuantizationType.F32 else 7)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template("{{ bos_token }}{% for message in messages %}{% if message['role'] == "
                        "'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}"
                        "{{ message['content'] + eos_token }}{% endif %}{% endfor %}")

    def put(gname, arr, quantize=True):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if quantize and qtype != gguf.GGMLQuantizationType.F32 and arr.ndim >= 2:
            q = gguf.quants.quantize(arr, qtype)
            w.add_tensor(gname, q, raw_dtype=qtype)  # shape from the byte shape
        else:
            w.add_tensor(gname, arr)

    # Router stays F32 as llama.cpp's quantizer keeps ffn_gate_inp.
    put_mixtral_tensors(put, sd, cfg, put_router=lambda n, a: put(n, a, quantize=False))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@torch.no_grad()
def reference(cfg, model):
    ids = torch.tensor([PROMPT])
    out = model(ids, output_router_logits=True, use_cache=False)
    logits = out.logits[0].double().numpy()  # [T, V]
    experts, route_margin = [], float("inf")
    for layer_logits in out.router_logits:  # per layer [T, E]
        probs = torch.softmax(layer_logits.float(), dim=-1)
        top = torch.topk(probs, cfg.num_experts_per_tok + 1, dim=-1)
        k = cfg.num_experts_per_tok
        route_margin = min(route_margin,
                           float((layer_logits.gather(1, top.indices[:, k - 1:k]) -
                                  layer_logits.gather(1, top.indices[:, k:k + 1])).min()))
        experts.append(top.indices[:, :k].tolist())  # [T][k], descending weight
    seq = list(PROMPT)
    greedy, greedy_margin = [], float("inf")
    for _ in range(N_GREEDY):
        lg = model(torch.tensor([seq]), use_cache=False).logits[0, -1]
        top2 = torch.topk(lg, 2)
        greedy_margin = min(greedy_margin, float(top2.values[0] - top2.values[1]))
        nxt = int(top2.indices[0])
        greedy.append(nxt)
        seq.append(nxt)
    return logits, experts, route_margin, greedy, greedy_margin


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/fixtures/golden")
    ap.add_argument("--big", action="store_true", help="bench-size model, no reference data")
    args = ap.parse_args()
    if args.big:
        args.vocab, args.hidden, args.ff, args.layers = 32000, 1024, 2816, 8
        args.heads, args.kv_heads, args.experts, args.top_k, args.ctx = 16, 4, 8, 2, 2048
        args.init_std = 0.02
    else:
        args.vocab, args.hidden, args.ff, args.layers = 300, 64, 64, 2
        args.heads, args.kv_heads, args.experts, args.top_k, args.ctx = 4, 2, 4, 2, 128
        args.init_std = 0.1
    os.makedirs(args.out, exist_ok=True)
    cfg, model = build_model(args)
    tokens, scores, types = make_vocab(args.vocab)
    F32, Q8 = gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.Q8_0
    if args.big:
        write_gguf(os.path.join(args.out, "mixtral_bench_q8_0.gguf"), cfg, model, Q8, tokens,
                   scores, types, "mixtral-bench")
        return
    write_gguf(os.path.join(args.out, "mixtral_tiny_f32.gguf"), cfg, model, F32, tokens, scores,
               types, "mixtral-tiny-golden")
    write_gguf(os.path.join(args.out, "mixtral_tiny_q8_0.gguf"), cfg, model, Q8, tokens, scores,
               types, "mixtral-tiny-golden")
    logits, experts, route_margin, greedy, greedy_margin = reference(cfg, model)
    # Second reference: the same model with its weights round-tripped through Q8_0 (as the
    # Q8_0 file stores them; router and norms stay F32). Our Q8_0 run differs from it only by
    # the Q8_0 quantization of the activations.
    with torch.no_grad():
        for pname, prm in model.named_parameters():
            if prm.ndim >= 2 and "mlp.gate." not in pname:
                arr = prm.detach().numpy()
                rt = gguf.quants.dequantize(gguf.quants.quantize(arr, Q8), Q8).reshape(arr.shape)
                prm.copy_(torch.from_numpy(rt))
    logits_q8, experts_q8, _, _, _ = reference(cfg, model)
    ref = {
        "generator": "tools/make_golden_mixtral.py",
        "transformers": __import__("transformers").__version__,
        "torch": torch.__version__,
        "seed": SEED,
        "config": {"n_layer": args.layers, "n_embd": args.hidden, "n_head": args.heads,
                   "n_head_kv": args.kv_heads, "n_expert": args.experts,
                   "n_expert_used": args.top_k, "n_ff": args.ff, "n_vocab": args.vocab,
                   "n_ctx": args.ctx},
        "tokens": PROMPT,
        "logits": [[round(float(v), 7) for v in row] for row in logits],
        "experts": experts,  # [layer][token][k], descending gate weight
        "min_routing_logit_margin": route_margin,
        "logits_q8_0_weights": [[round(float(v), 7) for v in row] for row in logits_q8],
        "experts_q8_0_weights": experts_q8,
        "greedy": greedy,
        "min_greedy_logit_margin": greedy_margin,
    }
    with open(os.path.join(args.out, "mixtral_tiny_golden.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
    print("routing margin %.4g, greedy margin %.4g, greedy %s" %
          (route_margin, greedy_margin, greedy))
    print("max |logit| %.4g" % float(np.abs(logits).max()))


if __name__ == "__main__":
    main()
