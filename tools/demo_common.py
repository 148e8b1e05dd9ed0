"""Shared by tools/demo_train.py, demo_export.py and demo_reference.py: the demo model's
configuration, its tokenizer as GGUF metadata, and the chat encoding that our engine's
ChatEncoder (core/tokenizer/chat_encode.cpp, Mistral template) produces."""
import os

import sentencepiece as spm

WORK = os.environ.get("MOE_DEMO_WORK", "/work/demo-train")
SEED = 16

# The Mixtral-8x7B-Instruct chat template (Jinja, as in its tokenizer_config.json, without the
# role-alternation checks): our detect_chat_template() recognises it by "[INST]".
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ ' [INST] ' + message['content'] + ' [/INST]' }}"
    "{% else %}{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}")

# 4 layers, hidden 256, 8 experts of hidden 256, top-2, 4 query heads sharing 2 KV heads
# (head dim 64). Rows of 256: every weight row is one whole Q4_K super-block. Sized for
# ~2M training tokens on 2 shared CPU cores (docs/demo-model.md).
MODEL = dict(vocab_size=4096, hidden_size=256, intermediate_size=256, num_hidden_layers=4,
             num_attention_heads=4, num_key_value_heads=2, num_local_experts=8,
             num_experts_per_tok=2, max_position_embeddings=256, rms_norm_eps=1e-5,
             rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
             sliding_window=None, initializer_range=0.02)

USER_SYMBOLS = ("[INST]", "[/INST]")

# The system prompt the app's chat window gives a new conversation (kDefaultSystemPrompt in
# ui/chat_window.cpp). Run 3's fine-tune asks part of its questions behind it, so the demo chat
# answers as `moe-cli run` (no system prompt) does.
APP_SYSTEM_PROMPT = (
    "You are a careful clinical decision-support assistant. Answer concisely, state "
    "uncertainty, and recommend confirming with current guidelines.")


def mixtral_config(**over):
    from transformers import MixtralConfig
    cfg = dict(MODEL)
    cfg.update(over)
    return MixtralConfig(**cfg)


def load_sp(path=None):
    return spm.SentencePieceProcessor(model_file=path or os.path.join(WORK, "tokenizer.model"))


def gguf_vocab(sp):
    """(tokens, scores, types) in llama.cpp's form (convert_hf_to_gguf.py _create_vocab_sentencepiece):
    type 1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte."""
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if sp.is_unknown(i):
            t = 2
        elif sp.is_control(i):
            t = 3
        elif sp.is_byte(i):
            t = 6
        elif piece in USER_SYMBOLS:
            t = 4
        elif sp.is_unused(i):
            t = 5
        else:
            t = 1
        tokens.append(piece)
        scores.append(float(sp.get_score(i)))
        types.append(t)
    return tokens, scores, types


def add_tokenizer(w, sp):
    """The tokenizer.* keys of a GGUF writer `w` (gguf.GGUFWriter)."""
    tokens, scores, types = gguf_vocab(sp)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(True)
    w.add_chat_template(CHAT_TEMPLATE)


def encode_text(sp, text):
    """A text run as llama.cpp's SPM tokenizer encodes it after BOS or a special token: the
    space prefix added, no normalisation (the SentencePiece model is trained with identity
    normalisation and add_dummy_prefix, so sp.encode is the same)."""
    return sp.encode(text)


def encode_chat(sp, turns, add_generation_prompt=True):
    """Token ids of a conversation [(role, text), ...] as ChatEncoder renders the Mistral
    template: <s> then for a user turn ' ' [INST] ' text ' [/INST], for an assistant turn
    ' text' </s>; a leading system turn goes before the first user text, then a blank line.
    Each text run between markers is encoded on its own."""
    ids = [1]
    run = ""
    system = None
    for role, text in turns:
        if role == "system":
            system = text
            continue
        if role == "user":
            if system is not None:
                text, system = system + "\n\n" + text, None
            ids += encode_text(sp, run + " ")
            ids.append(3)
            ids += encode_text(sp, " " + text + " ")
            ids.append(4)
            run = ""
        else:
            ids += encode_text(sp, " " + text)
            ids.append(2)
    return ids
