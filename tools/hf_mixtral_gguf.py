"""One place for the tensors of a transformers MixtralForCausalLM in a GGUF file (arch `llama`,
merged experts, llama.cpp tensor names, attn_q/attn_k rows permuted as llama.cpp's
convert_hf_to_gguf.py LlamaModel.permute does). Used by make_golden_mixtral.py (test fixtures)
and demo_export.py (the shipped demo model)."""


def permute(w, n_head, n_head_kv):
    """convert_hf_to_gguf.py LlamaModel.permute: HF rotate-half -> interleaved RoPE rows."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def put_mixtral_tensors(put, sd, cfg, put_router=None):
    """Calls put(gguf_name, array) for every tensor of state dict `sd` of config `cfg`, in
    file order; the router (ffn_gate_inp) goes through put_router when given (callers keep it
    F32, as llama.cpp's quantizer does)."""
    put_router = put_router or put
    nh, nkv, ff = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.intermediate_size
    put("token_embd.weight", sd["model.embed_tokens.weight"])
    for i in range(cfg.num_hidden_layers):
        p = "model.layers.%d." % i
        put("blk.%d.attn_norm.weight" % i, sd[p + "input_layernorm.weight"])
        put("blk.%d.attn_q.weight" % i, permute(sd[p + "self_attn.q_proj.weight"], nh, nh))
        put("blk.%d.attn_k.weight" % i, permute(sd[p + "self_attn.k_proj.weight"], nh, nkv))
        put("blk.%d.attn_v.weight" % i, sd[p + "self_attn.v_proj.weight"])
        put("blk.%d.attn_output.weight" % i, sd[p + "self_attn.o_proj.weight"])
        put("blk.%d.ffn_norm.weight" % i, sd[p + "post_attention_layernorm.weight"])
        put_router("blk.%d.ffn_gate_inp.weight" % i, sd[p + "mlp.gate.weight"])
        gate_up = sd[p + "mlp.experts.gate_up_proj"]  # [E, 2*ff, n_embd]: gate rows, up rows
        put("blk.%d.ffn_gate_exps.weight" % i, gate_up[:, :ff, :])  # GGUF {n_embd, ff, E}
        put("blk.%d.ffn_up_exps.weight" % i, gate_up[:, ff:, :])
        put("blk.%d.ffn_down_exps.weight" % i, sd[p + "mlp.experts.down_proj"])  # {ff, n_embd, E}
    put("output_norm.weight", sd["model.norm.weight"])
    put("output.weight", sd["lm_head.weight"])
