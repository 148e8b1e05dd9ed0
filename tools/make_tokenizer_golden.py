#!/usr/bin/env python3
"""Golden fixtures for the C++ tokenizers and chat templates (tests/fixtures/tokenizer/).

Token ids come from the Hugging Face `tokenizers` library with the reference tokenizers that
tools/make_vocab.py saved (resources/vocab/*_tokenizer.json):
  golden_llama.json  SentencePiece-style vocab. The ids are also checked here against an
                     independent Python port of llama.cpp's llm_tokenizer_spm (score-ordered
                     bigram merging); the script fails if the two disagree on any string.
  golden_gpt2.json   byte-level BPE vocab, with the "llama-bpe" (Llama-3) pre-tokenizer regex,
                     the "gpt2" regex and the "qwen2" regex (same vocab and merges).
  chat_templates.json  prompts rendered by transformers' apply_chat_template from the real Jinja
                     sources of Mixtral-8x7B-Instruct, ChatML and Llama-3-Instruct.

Usage: python3 tools/make_tokenizer_golden.py   (from the repository root)
"""
import heapq
import json
import os

from tokenizers import Regex, Tokenizer, pre_tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB_DIR = os.path.join(ROOT, "resources", "vocab")
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "tokenizer")

TEXTS = [
    "",
    " ",
    "Hello world",
    "Hello, world! How are you today?",
    "The patient presented with acute chest pain and dyspnea.",
    "Myocardial infarction, pneumothorax, thrombocytopenia, hepatosplenomegaly.",
    "Metformin 500 mg twice daily; HbA1c 7.2% (target < 7.0%).",
    "Troponin I: 0.04 ng/mL -> 12.8 ng/mL after 6h.",
    "Numbers: 0 7 42 123 1234 12345 1234567890 3.14159 -273.15 1e-5 1,000,000",
    "Dates 2026-11-24 and times 12:30:45, phone +49 (0)30 1234-5678.",
    "Punctuation!!! ??? ... --- ;;; ::: \"quoted\" 'single' (paren) [bracket] {brace} <angle>",
    "a  b   c    d     e",
    "   leading spaces",
    "trailing spaces   ",
    "tabs\tand\t\ttabs",
    "line one\nline two\n\nline four\r\nwindows line",
    "\n\n\n",
    " \n \n",
    "It's, they're, we've, I'm, you'll, he'd, DON'T, She'S",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c6r\u00f8sk\u00f8bing Stra\u00dfe \u00fcber",
    "Le patient pr\u00e9sente une fi\u00e8vre \u00e9lev\u00e9e depuis trois jours.",
    "El ni\u00f1o tiene n\u00e1useas. \u00bfD\u00f3nde est\u00e1 el m\u00e9dico?",
    "Za\u017c\u00f3\u0142\u0107 g\u0119\u015bl\u0105 ja\u017a\u0144. P\u0159\u00edli\u0161 \u017elu\u0165ou\u010dk\u00fd k\u016f\u0148.",
    "\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442 \u0438 \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac",
    "\u60a3\u8005\u53d1\u70ed\u3001\u54b3\u55fd\u4e09\u5929\u3002",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u6f22\u5b57",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0648 \u0939\u093f\u0928\u094d\u0926\u0940",
    "Emoji: \U0001f642 \U0001f600\U0001f44d \u2764\ufe0f \U0001f3e5 \U0001f48a",
    "ZWJ: \U0001f468\u200d\u2695\ufe0f \U0001f469\U0001f3fd\u200d\U0001f52c flags \U0001f1e9\U0001f1ea",
    "Symbols \u00b0C \u00b5g \u00b1 \u00d7 \u00f7 \u2264 \u2265 \u2192 \u00b2 \u00b3 \u00bd \u20ac \u00a3 \u00a5 \u2014 \u2026",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
    "def f(x):\n    return x ** 2  # square\n",
    "MixedCASE camelCase snake_case kebab-case SCREAMING_CASE",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "\u2581already has the meta space \u2581\u2581",
    "x" * 40,
    "\u00a0non-breaking\u00a0space and\u2003em space",
]

LLAMA_SPECIAL_TEXTS = [
    "<s>[INST] What is sepsis? [/INST]",
    "<s> [INST] Hi [/INST] Hello!</s> [INST] Dose? [/INST]",
    "text</s>more<unk>end",
    "<s><s></s>",
]

GPT2_SPECIAL_TEXTS = [
    "<|im_start|>system\nYou are a careful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
    "<|im_start|>assistant\n",
    "before<|endoftext|>after<|im_end|>",
    "<|im_start|><|im_end|>",
]

# Qwen2's pre-tokenizer regex (llama.cpp "qwen2"): Llama-3's with single digits.
QWEN2_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"""
                 r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")

# Seeded random strings stress the regex splitters (whitespace / newline runs, digits, mixed
# scripts, contractions in both cases) and the SPM merges far more than hand-written cases.
RANDOM_ATOMS = ["a", "Z", "the", " of", "ing", "7", "42", "2026", " ", "  ", "\t", "\n", "\r\n",
                " \n", "\n ", "'s", "'LL", "'re", "'", "!", "?!", "...", "-", "/", "(", ")",
                "\u00e9", "\u00df", "\u0416", "\u03b1", "\u60a3", "\u3042", "\U0001f642",
                "\u2764\ufe0f", "\u00b2", "\u0663", "\u00a0", "\u3000", "\u200b", "_", "mg/kg"]


def random_texts(n=120, seed=20261124):
    import random
    rng = random.Random(seed)
    return ["".join(rng.choice(RANDOM_ATOMS) for _ in range(rng.randint(1, 14)))
            for _ in range(n)]


MIXTRAL_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {%- set system_message = messages[0]['content'] %}\n"
    "    {%- set loop_messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set loop_messages = messages %}\n"
    "{%- endif %}\n"
    "\n"
    "{{- bos_token }}\n"
    "{%- for message in loop_messages %}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
    "        {{- raise_exception('After the optional system message, conversation roles must "
    "alternate user/assistant/user/assistant/...') }}\n"
    "    {%- endif %}\n"
    "    {%- if message['role'] == 'user' %}\n"
    "        {%- if loop.first and system_message is defined %}\n"
    "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n"
    "        {%- else %}\n"
    "            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n"
    "        {%- endif %}\n"
    "    {%- elif message['role'] == 'assistant' %}\n"
    "        {{- ' ' + message['content'] + eos_token}}\n"
    "    {%- else %}\n"
    "        {{- raise_exception('Only user and assistant roles are supported, with the "
    "exception of an initial optional system message!') }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n")

CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}")

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
    "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = "
    "bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")

CONVERSATIONS = [
    [{"role": "user", "content": "What is the normal range of serum potassium?"}],
    [{"role": "system", "content": "You are a careful clinical assistant."},
     {"role": "user", "content": "List three causes of hyperkalemia."}],
    [{"role": "system", "content": "Answer briefly."},
     {"role": "user", "content": "Dose of amoxicillin?"},
     {"role": "assistant", "content": "500 mg three times daily."},
     {"role": "user", "content": "  And for children?\n"}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
     {"role": "user", "content": "Caf\u00e9 \U0001f642 \u60a3\u8005"}],
]


# ---- independent re-implementation of llama.cpp's SPM tokenizer (llm_tokenizer_spm) ----
class LlamaCppSpm:
    def __init__(self, ref_json):
        model = ref_json["model"]
        self.vocab = model["vocab"]
        self.id_to_tok = {i: t for t, i in self.vocab.items()}
        # Score of a piece: rank of the first merge producing it (merges are ordered by score).
        self.score = {}
        for r, m in enumerate(model["merges"]):
            a, b = m if isinstance(m, list) else m.split(" ")
            self.score.setdefault(a + b, -r)
        self.specials = sorted([t["content"] for t in ref_json["added_tokens"]], key=len,
                               reverse=True)

    def _piece(self, text):
        syms = []  # [start, length]
        i = 0
        for ch in text:
            n = len(ch.encode("utf-8"))
            syms.append([i, n])
            i += n
        data = text.encode("utf-8")
        prev = list(range(-1, len(syms) - 1))
        nxt = list(range(1, len(syms) + 1))
        if syms:
            nxt[-1] = -1
        heap, rev = [], {}

        def add(l, r):
            if l < 0 or r < 0:
                return
            s = data[syms[l][0]:syms[l][0] + syms[l][1] + syms[r][1]].decode("utf-8")
            if s not in self.vocab:
                return
            heapq.heappush(heap, (-self.score.get(s, -1e9), l, r, len(s.encode("utf-8"))))
            rev[s] = (l, r)

        for k in range(1, len(syms)):
            add(k - 1, k)
        while heap:
            _, l, r, size = heapq.heappop(heap)
            if syms[l][1] == 0 or syms[r][1] == 0 or syms[l][1] + syms[r][1] != size:
                continue
            syms[l][1] += syms[r][1]
            syms[r][1] = 0
            nxt[l] = nxt[r]
            if nxt[r] >= 0:
                prev[nxt[r]] = l
            add(prev[l], l)
            add(l, nxt[l])
        out = []

        def reseg(k):
            s = data[syms[k][0]:syms[k][0] + syms[k][1]].decode("utf-8")
            if s in self.vocab:
                out.append(self.vocab[s])
            elif s in rev:
                reseg(rev[s][0])
                reseg(rev[s][1])
            else:
                out.extend(self.vocab["<0x%02X>" % b] for b in s.encode("utf-8"))

        k = 0 if syms else -1
        while k != -1:
            reseg(k)
            k = nxt[k]
        return out

    def encode(self, text):
        out, prev_special, pos, start = [], True, 0, 0
        frags = []
        while pos < len(text):
            hit = next((s for s in self.specials if text.startswith(s, pos)), None)
            if hit is None:
                pos += 1
                continue
            if pos > start:
                frags.append((text[start:pos], None))
            frags.append((hit, self.vocab[hit]))
            pos += len(hit)
            start = pos
        if start < len(text):
            frags.append((text[start:], None))
        for frag, tid in frags:
            if tid is not None:
                out.append(tid)
                prev_special = True
                continue
            s = (" " + frag if prev_special else frag).replace(" ", "\u2581")
            out += self._piece(s)
            prev_special = False
        return out


def llama_golden():
    path = os.path.join(VOCAB_DIR, "llama_tokenizer.json")
    tok = Tokenizer.from_file(path)
    spm = LlamaCppSpm(json.load(open(path, encoding="utf-8")))
    cases = []
    for text in TEXTS + LLAMA_SPECIAL_TEXTS + random_texts():
        ids = tok.encode(text, add_special_tokens=False).ids
        alt = spm.encode(text)
        assert ids == alt, f"tokenizers vs llama.cpp SPM port differ on {text!r}:\n{ids}\n{alt}"
        cases.append({"text": text, "ids": ids, "special": text in LLAMA_SPECIAL_TEXTS})
    return {"vocab": "llama", "source": "tokenizers " + __import__("tokenizers").__version__,
            "cases": cases}


def gpt2_golden():
    path = os.path.join(VOCAB_DIR, "gpt2_tokenizer.json")
    tok = Tokenizer.from_file(path)
    tok_gpt2 = Tokenizer.from_file(path)
    tok_gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok_qwen2 = Tokenizer.from_file(path)
    tok_qwen2.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    cases = []
    for text in TEXTS + GPT2_SPECIAL_TEXTS + random_texts():
        ids = tok.encode(text, add_special_tokens=False).ids
        ids_gpt2 = tok_gpt2.encode(text, add_special_tokens=False).ids
        ids_qwen2 = tok_qwen2.encode(text, add_special_tokens=False).ids
        assert tok.decode(ids, skip_special_tokens=False) == text
        cases.append({"text": text, "ids_llama_bpe": ids, "ids_gpt2": ids_gpt2, "ids_qwen2": ids_qwen2,
                      "special": text in GPT2_SPECIAL_TEXTS})
    return {"vocab": "gpt2", "source": "tokenizers " + __import__("tokenizers").__version__,
            "cases": cases}


def chat_golden():
    from transformers import PreTrainedTokenizerFast
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(VOCAB_DIR, "gpt2_tokenizer.json"))
    templates = {
        "mistral": (MIXTRAL_TEMPLATE, "<s>", "</s>"),
        "chatml": (CHATML_TEMPLATE, "", "<|im_end|>"),
        "llama3": (LLAMA3_TEMPLATE, "<|begin_of_text|>", "<|eot_id|>"),
    }
    cases = []
    for name, (jinja, bos, eos) in templates.items():
        tok.bos_token, tok.eos_token = (bos or None), eos
        for conv in CONVERSATIONS:
            for gen in (False, True):
                text = tok.apply_chat_template(conv, chat_template=jinja, tokenize=False,
                                               add_generation_prompt=gen)
                cases.append({"template": name, "bos": bos, "eos": eos, "messages": conv,
                              "add_generation_prompt": gen, "expected": text})
    return {"source": "transformers apply_chat_template", "jinja": {
        k: v[0] for k, v in templates.items()}, "cases": cases}


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, obj in (("golden_llama.json", llama_golden()), ("golden_gpt2.json", gpt2_golden()),
                      ("chat_templates.json", chat_golden())):
        with open(os.path.join(OUT_DIR, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")
    print("wrote", OUT_DIR)


if __name__ == "__main__":
    main()
