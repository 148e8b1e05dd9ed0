#!/usr/bin/env python3
"""Independent check of a GGUF file written by MoE Studio (e.g. `moe-cli make-model`) with the
reference reader, the `gguf` Python package (gguf.GGUFReader + gguf.quants.dequantize):

  * the file parses; metadata keys llama.cpp needs for a Mixtral are present and consistent;
  * every tensor has the shape implied by the hyperparameters;
  * every tensor dequantizes to finite values (all rows for small files, --max-rows per tensor
    otherwise), and weight statistics are what the generator intends (norms ~1, matrices with
    std ~ 1/sqrt(fan_in)).

Usage: tools/check_gguf_with_python.py FILE.gguf [--max-rows N]
Exit status 0 when every check passes. Not part of ctest (tests must not need Python).
"""
import argparse
import math
import sys

import numpy as np
import gguf


def field_value(reader, key):
    f = reader.fields.get(key)
    if f is None:
        return None
    if f.types and f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    if f.types and f.types[0] == gguf.GGUFValueType.ARRAY:
        return len(f.data)
    return f.parts[f.data[0]][0].item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--max-rows", type=int, default=4096,
                    help="rows dequantized per tensor (0 = all)")
    args = ap.parse_args()

    r = gguf.GGUFReader(args.file)
    failures = []

    def check(cond, msg):
        if not cond:
            failures.append(msg)

    arch = field_value(r, "general.architecture")
    check(arch == "llama", f"general.architecture = {arch!r}")
    hp = {k: field_value(r, f"llama.{k}") for k in (
        "context_length", "embedding_length", "block_count", "feed_forward_length",
        "attention.head_count", "attention.head_count_kv", "rope.freq_base",
        "attention.layer_norm_rms_epsilon", "expert_count", "expert_used_count", "vocab_size",
        "rope.dimension_count")}
    for k, v in hp.items():
        check(v is not None, f"missing llama.{k}")
    n_vocab_tokens = field_value(r, "tokenizer.ggml.tokens")
    check(n_vocab_tokens == hp["vocab_size"],
          f"token list {n_vocab_tokens} != llama.vocab_size {hp['vocab_size']}")
    check(field_value(r, "moe.random_weights") is True or field_value(r, "moe.random_weights") == 1,
          "moe.random_weights not set")
    check(field_value(r, "tokenizer.chat_template") is not None, "no chat template")

    E, L, F = hp["embedding_length"], hp["block_count"], hp["feed_forward_length"]
    X, V = hp["expert_count"], hp["vocab_size"]
    kv = E // hp["attention.head_count"] * hp["attention.head_count_kv"]
    want = {"token_embd.weight": [E, V], "output_norm.weight": [E], "output.weight": [E, V]}
    for i in range(L):
        b = f"blk.{i}."
        want.update({b + "attn_norm.weight": [E], b + "attn_q.weight": [E, E],
                     b + "attn_k.weight": [E, kv], b + "attn_v.weight": [E, kv],
                     b + "attn_output.weight": [E, E], b + "ffn_norm.weight": [E],
                     b + "ffn_gate_inp.weight": [E, X], b + "ffn_gate_exps.weight": [E, F, X],
                     b + "ffn_up_exps.weight": [E, F, X], b + "ffn_down_exps.weight": [F, E, X]})
    have = {t.name: t for t in r.tensors}
    check(set(have) == set(want), f"tensor set differs: missing {set(want) - set(have)}, "
                                  f"extra {set(have) - set(want)}")

    types = {}
    for name, t in have.items():
        shape = [int(x) for x in t.shape]
        check(shape == want.get(name), f"{name}: shape {shape} != {want.get(name)}")
        types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
        data = t.data
        if args.max_rows and data.shape[0] * (data.shape[1] if data.ndim == 3 else 1) > args.max_rows:
            flat = data.reshape(-1, data.shape[-1])
            data = flat[: args.max_rows]
        w = gguf.quants.dequantize(data, t.tensor_type).astype(np.float64)
        if not np.all(np.isfinite(w)):
            failures.append(f"{name}: non-finite values")
            continue
        if name.endswith("norm.weight"):
            check(abs(w.mean() - 1.0) < 0.02, f"{name}: mean {w.mean():.4f}, want ~1")
        else:
            want_sd = 1.0 / math.sqrt(shape[0])
            sd = w.std()
            check(abs(sd - want_sd) < 0.2 * want_sd, f"{name}: std {sd:.5f}, want ~{want_sd:.5f}")
            check(abs(w.mean()) < 0.05 * want_sd + 3 * want_sd / math.sqrt(w.size),
                  f"{name}: mean {w.mean():.6f}")

    print(f"{args.file}: {len(have)} tensors, types {dict(sorted(types.items()))}, "
          f"hparams {hp}")
    if failures:
        for f in failures[:50]:
            print("FAIL:", f)
        print(f"{len(failures)} check(s) failed")
        return 1
    print("OK: loads with gguf.GGUFReader, shapes match, all dequantized values finite")
    return 0


if __name__ == "__main__":
    sys.exit(main())
