#!/usr/bin/env python3
"""Reference perplexity for `moe-cli perplexity` (llama.cpp's chunk method) on the golden model.

Reads tests/fixtures/golden/mixtral_tiny_f32.gguf with the `gguf` package (weights, hyper-
parameters, vocabulary), rebuilds it as a transformers MixtralForCausalLM (attn_q/attn_k rows
un-permuted back to HF's rotate-half layout), tokenizes a fixed English text with an
independent Python port of llama.cpp's SentencePiece tokenizer (tools/make_tokenizer_golden.py,
here fed the GGUF's pieces and scores) and scores it the way llama.cpp's llama-perplexity does:

  * tokens = [BOS] + encode(text); chunks of n_ctx tokens back to back, the tail unused;
  * each chunk evaluated alone, its first token replaced by BOS;
  * the logits at positions n_ctx/2 .. n_ctx-2 predict the tokens after them (n_ctx/2 - 1 per
    chunk for an even n_ctx), NLL = -log_softmax (float64);
  * after each chunk: PPL = exp(mean NLL) and its +/- = PPL * sqrt(Var(NLL) / (N - 1)).

Writes tests/fixtures/golden/mixtral_tiny_perplexity.json: the text, its token ids, and per
chunk count k the running PPL, its +/- and the NLL sums, so a test can check `--chunks k`.

Usage: python3 tools/make_perplexity_golden.py   (from the repository root; needs gguf,
       numpy, torch, transformers from PyPI)
"""
import json
import math
import os
import sys

import numpy as np
import torch
import gguf
from transformers import MixtralConfig, MixtralForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from make_tokenizer_golden import LlamaCppSpm  # noqa: E402

GOLDEN = os.path.join(ROOT, "tests", "fixtures", "golden")
MODEL = "mixtral_tiny_f32.gguf"
N_CTX = 128  # the fixture's context length: chunks as long as the model allows

SENTENCES = [
    "The patient was admitted with fever, cough and shortness of breath.",
    "A chest radiograph showed a right lower lobe infiltrate and a small effusion.",
    "Blood cultures were drawn before the first dose of antibiotics was given.",
    "She has a history of type two diabetes, treated with metformin twice daily.",
    "On the second day the fever settled and the oxygen requirement fell.",
    "The renal function was checked again because the creatinine had risen.",
    "Her husband reported that she had been confused at night for a week.",
    "The team discussed the case and agreed to continue the current treatment.",
    "A follow up radiograph in six weeks was arranged before discharge.",
    "He denied chest pain, palpitations, nausea or any recent travel abroad.",
    "The rash began on the trunk and spread to the arms over two days.",
    "Examination found a soft abdomen, normal bowel sounds and no guarding.",
    "The dose was halved because the patient is elderly and weighs little.",
    "Results of the urine test and the liver panel were within normal limits.",
    "Physiotherapy helped him walk the length of the ward without a frame.",
    "Please review the medication list and stop anything that is not needed.",
    "The wound was cleaned, closed with four sutures and covered with a dressing.",
    "An interpreter joined the consultation so the family could ask questions.",
    "Sleep was poor on the ward, so a quiet side room was found for her.",
    "The nurse measured the blood pressure again after the patient had rested.",
    "Vaccination records were incomplete, and a booster was offered and accepted.",
    "Pain was controlled with regular paracetamol and an occasional small dose of morphine.",
    "At the clinic visit he said he felt stronger and was eating well again.",
    "Bring this letter and all your tablets to the next appointment, please.",
]


def field(reader, key):
    f = reader.fields[key]
    if len(f.types) == 1 and f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[-1]).decode("utf-8")
    if f.types[0] == gguf.GGUFValueType.ARRAY:
        if f.types[1] == gguf.GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        return [f.parts[i][0].item() for i in f.data]
    return f.parts[-1][0].item()


def unpermute(w, n_head):
    """Inverse of llama.cpp's LlamaModel.permute (interleaved RoPE rows -> HF rotate-half)."""
    return (w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def load_model(path):
    r = gguf.GGUFReader(path)
    arch = field(r, "general.architecture")
    n_layer = field(r, arch + ".block_count")
    n_head = field(r, arch + ".attention.head_count")
    n_head_kv = field(r, arch + ".attention.head_count_kv")
    t = {x.name: np.array(x.data, dtype=np.float32) for x in r.tensors}
    assert all(x.tensor_type == gguf.GGMLQuantizationType.F32 for x in r.tensors)
    n_vocab, n_embd = t["token_embd.weight"].shape
    n_expert, n_ff, _ = t["blk.0.ffn_gate_exps.weight"].shape
    cfg = MixtralConfig(
        vocab_size=n_vocab, hidden_size=n_embd, intermediate_size=n_ff,
        num_hidden_layers=n_layer, num_attention_heads=n_head, num_key_value_heads=n_head_kv,
        num_local_experts=n_expert, num_experts_per_tok=field(r, arch + ".expert_used_count"),
        max_position_embeddings=field(r, arch + ".context_length"),
        rms_norm_eps=field(r, arch + ".attention.layer_norm_rms_epsilon"),
        rope_theta=field(r, arch + ".rope.freq_base"), tie_word_embeddings=False,
        sliding_window=None, bos_token_id=field(r, "tokenizer.ggml.bos_token_id"))
    model = MixtralForCausalLM(cfg).eval().float()
    sd = {"model.embed_tokens.weight": t["token_embd.weight"],
          "model.norm.weight": t["output_norm.weight"], "lm_head.weight": t["output.weight"]}
    keys = model.state_dict().keys()
    for i in range(n_layer):
        b, p = "blk.%d." % i, "model.layers.%d." % i
        sd[p + "input_layernorm.weight"] = t[b + "attn_norm.weight"]
        sd[p + "post_attention_layernorm.weight"] = t[b + "ffn_norm.weight"]
        sd[p + "self_attn.q_proj.weight"] = unpermute(t[b + "attn_q.weight"], n_head)
        sd[p + "self_attn.k_proj.weight"] = unpermute(t[b + "attn_k.weight"], n_head_kv)
        sd[p + "self_attn.v_proj.weight"] = t[b + "attn_v.weight"]
        sd[p + "self_attn.o_proj.weight"] = t[b + "attn_output.weight"]
        gate, up = t[b + "ffn_gate_exps.weight"], t[b + "ffn_up_exps.weight"]  # [E, ff, n_embd]
        down = t[b + "ffn_down_exps.weight"]  # [E, n_embd, ff]
        if p + "mlp.gate.weight" in keys:  # transformers >= 5: merged expert tensors
            sd[p + "mlp.gate.weight"] = t[b + "ffn_gate_inp.weight"]
            sd[p + "mlp.experts.gate_up_proj"] = np.concatenate([gate, up], axis=1)
            sd[p + "mlp.experts.down_proj"] = down
        else:  # transformers 4.x: block_sparse_moe.experts.N.w1 (gate), w2 (down), w3 (up)
            m = p + "block_sparse_moe."
            sd[m + "gate.weight"] = t[b + "ffn_gate_inp.weight"]
            for e in range(n_expert):
                sd[m + "experts.%d.w1.weight" % e] = gate[e]
                sd[m + "experts.%d.w2.weight" % e] = down[e]
                sd[m + "experts.%d.w3.weight" % e] = up[e]
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if "rotary" not in k]
    assert not missing and not unexpected, (missing, unexpected)
    tok = LlamaCppSpm.__new__(LlamaCppSpm)  # the port, fed the GGUF vocabulary
    pieces, scores = field(r, "tokenizer.ggml.tokens"), field(r, "tokenizer.ggml.scores")
    tok.vocab = {}
    for i, s in enumerate(pieces):
        tok.vocab.setdefault(s, i)
    tok.id_to_tok = dict(enumerate(pieces))
    tok.score = {s: scores[i] for s, i in tok.vocab.items()}
    tok.specials = []  # perplexity tokenizes without parsing special tokens
    assert field(r, "tokenizer.ggml.add_bos_token")
    return model, tok, field(r, "tokenizer.ggml.bos_token_id"), field(r, arch + ".context_length")


@torch.no_grad()
def main():
    model, tok, bos, n_ctx_train = load_model(os.path.join(GOLDEN, MODEL))
    assert N_CTX <= n_ctx_train
    text = " ".join(SENTENCES) + "\n"
    tokens = [bos] + tok.encode(text)
    n_chunk = len(tokens) // N_CTX
    assert len(tokens) >= 2 * N_CTX and n_chunk >= 8, len(tokens)
    first = N_CTX // 2
    nll = []
    chunks = []
    for c in range(n_chunk):
        ids = list(tokens[c * N_CTX:(c + 1) * N_CTX])
        ids[0] = bos
        logits = model(torch.tensor([ids]), use_cache=False).logits[0].double()
        logp = torch.log_softmax(logits, dim=-1)
        for j in range(first, N_CTX - 1):
            nll.append(-float(logp[j, ids[j + 1]]))
        v = np.array(nll)
        mean = v.mean()
        var = (v * v).mean() - mean * mean
        ppl = math.exp(mean)
        chunks.append({"chunks": c + 1, "scored": len(nll), "nll_sum": float(v.sum()),
                       "nll_sq_sum": float((v * v).sum()), "ppl": ppl,
                       "ppl_error": ppl * math.sqrt(var / (len(v) - 1))})
    ref = {
        "generator": "tools/make_perplexity_golden.py",
        "transformers": __import__("transformers").__version__,
        "torch": torch.__version__,
        "model": MODEL,
        "method": "llama.cpp chunks: BOS first, second half of each chunk scored",
        "n_ctx": N_CTX,
        "text": text,
        "tokens": tokens,
        "running": chunks,  # after 1, 2, ... chunks
    }
    with open(os.path.join(GOLDEN, "mixtral_tiny_perplexity.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
    print("%d tokens, %d chunks of %d" % (len(tokens), n_chunk, N_CTX))
    for ch in chunks:
        print("[%d] PPL = %.4f +/- %.5f" % (ch["chunks"], ch["ppl"], ch["ppl_error"]))


if __name__ == "__main__":
    main()
