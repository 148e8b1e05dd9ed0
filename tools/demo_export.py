#!/usr/bin/env python3
"""Exports the trained demo model (tools/demo_train.py) to GGUF with the `gguf` package.

Layout as llama.cpp's convert_hf_to_gguf.py writes Mixtral: arch `llama`, merged experts
(blk.N.ffn_{gate,up,down}_exps.weight), attn_q/attn_k rows permuted from Hugging Face's
rotate-half RoPE to llama.cpp's interleaved pairs, the router (ffn_gate_inp) and the norms in
F32. Quantizations, as llama-quantize's Q4_K_M mix does for small models:
  f16     every matrix F16
  q8_0    every matrix Q8_0
  q4_k_m  Q4_K, with Q6_K for attn_v, ffn_down_exps and output.weight. gguf.quants has no
          K-quant quantizers, so these come from ggml's own quantize_row_q{4,6}_K_ref through
          ctypes (--ggml-lib, a libggml-base.so built from llama.cpp; as
          tools/make_quant_fixtures.py does). Without it q4_k_m is skipped.
The tokenizer (SentencePiece, tools/demo_tokenizer.py) and the chat template go into the
tokenizer.* keys (tools/demo_common.add_tokenizer).

Usage: python3 tools/demo_export.py [--ckpt /work/demo-train/final.pt] [--out DIR]
           [--types f16,q8_0,q4_k_m] [--ggml-lib /path/to/libggml-base.so]
       python3 tools/demo_export.py --vocab-only FILE.gguf   (tokenizer only, for checks)
"""
import argparse
import ctypes
import os

import numpy as np
import gguf

import demo_common as dc
from hf_mixtral_gguf import put_mixtral_tensors

NAME = "moe-studio-demo"
T = gguf.GGMLQuantizationType


class GgmlKQuants:
    """ggml's C reference K-quantizers (quantize_row_q4_K_ref, ..._q6_K_ref) via ctypes."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)

    def quantize(self, arr, qtype):
        fn = getattr(self.lib, "quantize_row_%s_ref" % {T.Q4_K: "q4_K", T.Q6_K: "q6_K"}[qtype])
        fn.restype = None
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        x = np.ascontiguousarray(arr, dtype=np.float32)
        assert x.shape[-1] % block == 0
        out = np.zeros(x.shape[:-1] + (x.shape[-1] // block * size,), dtype=np.uint8)
        fn(x.ctypes.data, out.ctypes.data, x.size)
        return out


KQ = None  # GgmlKQuants when --ggml-lib is given


def tensor_type(gname, ftype):
    if gname.endswith("norm.weight") or "ffn_gate_inp" in gname:
        return T.F32
    if ftype == "f16":
        return T.F16
    if ftype == "q8_0":
        return T.Q8_0
    want = T.Q6_K if ("attn_v" in gname or "ffn_down_exps" in gname or gname == "output.weight") \
        else T.Q4_K
    return want


def write_header(w, cfg, ftype):
    w.add_name(NAME)
    w.add_description("MoE Studio demo: a tiny Mixtral-architecture model trained on WordNet 3.0 "
                      "glosses (tools/demo_train.py). Not medical advice.")
    w.add_license("WordNet 3.0 licence (training data); model: same terms as MoE Studio")
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(cfg.rope_theta if hasattr(cfg, "rope_theta") else 10000.0)
    w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_expert_count(cfg.num_local_experts)
    w.add_expert_used_count(cfg.num_experts_per_tok)
    w.add_vocab_size(cfg.vocab_size)
    w.add_file_type({"f16": 1, "q8_0": 7, "q4_k_m": 15}[ftype])


def write_model(path, sd, cfg, ftype, sp):
    w = gguf.GGUFWriter(path, "llama")
    write_header(w, cfg, ftype)
    dc.add_tokenizer(w, sp)

    def put(gname, arr):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        qt = tensor_type(gname, ftype)
        if qt == T.F32:
            w.add_tensor(gname, arr)
        elif qt == T.F16:
            w.add_tensor(gname, arr.astype(np.float16))
        elif qt in (T.Q4_K, T.Q6_K):
            w.add_tensor(gname, KQ.quantize(arr, qt), raw_dtype=qt)
        else:
            w.add_tensor(gname, gguf.quants.quantize(arr, qt), raw_dtype=qt)

    put_mixtral_tensors(put, sd, cfg)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("%s: %.2f MB" % (path, os.path.getsize(path) / 1e6))


def write_vocab_only(path, sp):
    w = gguf.GGUFWriter(path, "llama")
    w.add_name(NAME + "-vocab")
    dc.add_tokenizer(w, sp)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", default=os.path.join(dc.WORK, "final.pt"))
    ap.add_argument("--tokenizer", default=os.path.join(dc.WORK, "tokenizer.model"))
    ap.add_argument("--out", default=dc.WORK)
    ap.add_argument("--types", default="q8_0,q4_k_m")
    ap.add_argument("--vocab-only")
    ap.add_argument("--ggml-lib", help="libggml-base.so for the K-quants (q4_k_m)")
    args = ap.parse_args()
    global KQ
    if args.ggml_lib:
        KQ = GgmlKQuants(args.ggml_lib)
    sp = dc.load_sp(args.tokenizer)
    if args.vocab_only:
        write_vocab_only(args.vocab_only, sp)
        return
    import torch
    state = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    state = state.get("model", state)
    sd = {k: v.detach().float().numpy() for k, v in state.items()}
    cfg = dc.mixtral_config()
    os.makedirs(args.out, exist_ok=True)
    for ftype in args.types.split(","):
        if ftype == "q4_k_m" and KQ is None:
            print("q4_k_m skipped: it needs --ggml-lib (gguf.quants has no K-quant quantizers)")
            continue
        write_model(os.path.join(args.out, "%s-%s.gguf" % (NAME, ftype)), sd, cfg, ftype, sp)


if __name__ == "__main__":
    main()
