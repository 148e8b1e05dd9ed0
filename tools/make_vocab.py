#!/usr/bin/env python3
"""Trains the two bundled vocabularies and writes them as C++ data.

Corpus (all redistributable): the licence texts in /usr/share/common-licenses of a Debian system
(their own terms allow verbatim copying) plus resources/vocab/corpus_extra.txt (written for this
project: clinical English, numbers, code, punctuation, a few sentences in other scripts).
Only the learned vocabularies are shipped, not the licence texts.

Outputs (all committed):
  resources/vocab/llama_tokenizer.json  reference `tokenizers` tokenizer for the SPM-style vocab
  resources/vocab/gpt2_tokenizer.json   reference `tokenizers` tokenizer for the byte-level BPE vocab
  core/tokenizer/bundled_vocab_data.inc token strings, scores, types, merges as C++ arrays
  core/tokenizer/unicode_tables.inc     \\p{L}, \\p{N} codepoint ranges for the pre-tokenizers

"llama" vocab: BPE trained with a Metaspace ("▁") pre-tokenizer and byte fallback, laid out as
SentencePiece/llama.cpp expects: <unk>=0, <s>=1, </s>=2, <0x00>..<0xFF> = 3..258, then pieces.
Score of a learned piece = -(rank of the merge that created it), so llama.cpp's score-ordered
bigram merging visits merges in training order. The reference tokenizer is rebuilt the way
transformers converts a SentencePiece model: merges = every (a, b) whose concatenation is a
piece, ordered by that piece's score -- which is exactly the llama.cpp SPM algorithm.

"gpt2" vocab: byte-level BPE (GPT-2 byte<->unicode map), pre-tokenized with the Llama-3
("llama-bpe") regex, ChatML specials <|endoftext|>, <|im_start|>, <|im_end|>.

Usage: python3 tools/make_vocab.py   (from the repository root; deterministic)
"""
import json
import os
import sys
import unicodedata

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB_DIR = os.path.join(ROOT, "resources", "vocab")
TOK_DIR = os.path.join(ROOT, "core", "tokenizer")
LICENSE_DIR = "/usr/share/common-licenses"
VOCAB_SIZE = 8000

GPT2_PATTERN = (r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
LLAMA3_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"""
                  r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
SPIECE = "\u2581"


def corpus_lines():
    lines = []
    for name in sorted(os.listdir(LICENSE_DIR)):
        path = os.path.join(LICENSE_DIR, name)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                lines += [l.rstrip("\n") for l in f]
    with open(os.path.join(VOCAB_DIR, "corpus_extra.txt"), encoding="utf-8") as f:
        extra = [l.rstrip("\n") for l in f]
    # The extra text is short; repeat it so clinical words win merges against licence legalese.
    lines += extra * 20
    return [l for l in lines if l.strip()]


def llama_reference(vocab, scores, specials):
    """tokenizers equivalent of llama.cpp's SPM: merges from scores, byte fallback."""
    pieces = {t: i for i, t in enumerate(vocab) if i >= 3 + 256}
    merges = []
    for piece, pid in pieces.items():
        for k in range(1, len(piece)):
            a, b = piece[:k], piece[k:]
            if a in pieces and b in pieces:
                merges.append((scores[pid], pieces[a], pieces[b], a, b))
    merges.sort(key=lambda m: (-m[0], m[1], m[2]))
    model = models.BPE(vocab={t: i for i, t in enumerate(vocab)},
                       merges=[(m[3], m[4]) for m in merges], unk_token="<unk>",
                       fuse_unk=True, byte_fallback=True)
    tok = Tokenizer(model)
    tok.normalizer = normalizers.Sequence(
        [normalizers.Prepend(SPIECE), normalizers.Replace(" ", SPIECE)])
    tok.decoder = decoders.Sequence([
        decoders.Replace(SPIECE, " "), decoders.ByteFallback(), decoders.Fuse(),
        decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens(specials)
    return tok


def train_llama(lines):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPIECE, prepend_scheme="first",
                                                 split=True)
    specials = ["<unk>", "<s>", "</s>"]
    n_learned = VOCAB_SIZE - len(specials) - 256
    trainer = trainers.BpeTrainer(vocab_size=n_learned, special_tokens=[], limit_alphabet=400,
                                  show_progress=False)
    tok.train_from_iterator(lines, trainer)
    state = json.loads(tok.to_str())["model"]
    learned_vocab = state["vocab"]  # token -> id: alphabet first, then merge results in order
    merges = state["merges"]
    merge_rank = {}
    for r, m in enumerate(merges):
        a, b = m if isinstance(m, list) else m.split(" ")
        merge_rank.setdefault(a + b, r)
    vocab = specials + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    scores = [0.0] * len(vocab)
    alphabet = [t for t in sorted(learned_vocab, key=learned_vocab.get) if t not in merge_rank]
    learned = [t for t in sorted(learned_vocab, key=learned_vocab.get) if t in merge_rank]
    for i, t in enumerate(alphabet):  # single characters: never the result of a merge
        vocab.append(t)
        types.append(1)
        scores.append(-float(len(merges) + i))
    for t in learned:
        vocab.append(t)
        types.append(1)
        scores.append(-float(merge_rank[t]))
    ref = llama_reference(vocab, scores, specials)
    return {"model": "llama", "pre": "default", "tokens": vocab, "scores": scores,
            "types": types, "merges": [], "bos": 1, "eos": 2, "unk": 0, "pad": -1, "eot": -1,
            "add_bos": True, "add_eos": False, "add_space_prefix": True}, ref


def gpt2_reference(vocab, merges, specials, pattern):
    model = models.BPE(vocab=vocab, merges=merges)
    tok = Tokenizer(model)
    if pattern == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(specials)
    return tok


def train_gpt2(lines):
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    # Lines are joined back with "\n" in chunks so newline pieces are learned too.
    chunks = ["\n".join(lines[i:i + 20]) + "\n" for i in range(0, len(lines), 20)]
    tok.train_from_iterator(chunks, trainer)
    state = json.loads(tok.to_str())["model"]
    vocab = state["vocab"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in state["merges"]]
    tokens = [t for t in sorted(vocab, key=vocab.get)]
    assert [vocab[t] for t in tokens] == list(range(len(tokens)))
    types = [3 if t in specials else 1 for t in tokens]
    ref = gpt2_reference(vocab, merges, specials, "llama-bpe")
    return {"model": "gpt2", "pre": "llama-bpe", "tokens": tokens, "scores": [],
            "types": types, "merges": [a + " " + b for a, b in merges],
            "bos": vocab["<|endoftext|>"], "eos": vocab["<|im_end|>"], "unk": -1,
            "pad": vocab["<|endoftext|>"], "eot": vocab["<|im_end|>"], "add_bos": False,
            "add_eos": False, "add_space_prefix": False}, ref


def c_string(s):
    """A C++ string literal for the UTF-8 bytes of s (hex escapes split from following hex)."""
    out, prev_hex = ['"'], False
    for b in s.encode("utf-8"):
        c = chr(b)
        if 0x20 <= b < 0x7F and c not in '"\\?':
            if prev_hex and c in "0123456789abcdefABCDEF":
                out.append('""')
            out.append(c)
            prev_hex = False
        else:
            out.append("\\x%02x" % b)
            prev_hex = True
    out.append('"')
    return "".join(out)


def emit_vocab(name, v):
    lines = [f"// ---- {name}: {len(v['tokens'])} tokens, {len(v['merges'])} merges ----"]
    lines.append(f"const char* const k_{name}_tokens[] = {{")
    lines += ["    " + c_string(t) + "," for t in v["tokens"]]
    lines.append("};")
    lines.append(f"const int32_t k_{name}_scores[] = {{")  # integer scores (-merge rank)
    sc = [str(int(s)) for s in v["scores"]] or ["0"]
    lines += ["    " + ", ".join(sc[i:i + 16]) + "," for i in range(0, len(sc), 16)]
    lines.append("};")
    lines.append(f"const uint8_t k_{name}_types[] = {{")
    ty = [str(t) for t in v["types"]]
    lines += ["    " + ", ".join(ty[i:i + 32]) + "," for i in range(0, len(ty), 32)]
    lines.append("};")
    lines.append(f"const char* const k_{name}_merges[] = {{")
    lines += ["    " + c_string(m) + "," for m in v["merges"]] or ['    "",']
    lines.append("};")
    meta = (f'constexpr BundledVocab k_{name} = {{"{v["model"]}", "{v["pre"]}", k_{name}_tokens, '
            f'{len(v["tokens"])}, k_{name}_scores, {len(v["scores"])}, k_{name}_types, '
            f'k_{name}_merges, {len(v["merges"])}, {v["bos"]}, {v["eos"]}, {v["unk"]}, '
            f'{v["pad"]}, {v["eot"]}, {str(v["add_bos"]).lower()}, '
            f'{str(v["add_eos"]).lower()}, {str(v["add_space_prefix"]).lower()}}};')
    lines.append(meta)
    return lines


def unicode_ranges(pred):
    ranges, start = [], None
    for cp in range(0x110000 + 1):
        ok = cp < 0x110000 and pred(cp)
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return ranges


def emit_unicode_tables():
    cat = unicodedata.category
    letters = unicode_ranges(lambda c: cat(chr(c)).startswith("L"))
    numbers = unicode_ranges(lambda c: cat(chr(c)).startswith("N"))
    out = ["// Generated by tools/make_vocab.py from Python's unicodedata (Unicode %s)."
           % unicodedata.unidata_version, "// Do not edit. Sorted, inclusive [first, last] ranges."]
    for name, rs in (("kLetterRanges", letters), ("kNumberRanges", numbers)):
        out.append(f"constexpr CodepointRange {name}[] = {{")
        items = ["{0x%X, 0x%X}" % r for r in rs]
        out += ["    " + ", ".join(items[i:i + 6]) + "," for i in range(0, len(items), 6)]
        out.append("};")
    with open(os.path.join(TOK_DIR, "unicode_tables.inc"), "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    lines = corpus_lines()
    print(f"corpus: {len(lines)} lines, {sum(len(l) for l in lines)} chars", file=sys.stderr)
    llama, llama_ref = train_llama(lines)
    gpt2, gpt2_ref = train_gpt2(lines)
    llama_ref.save(os.path.join(VOCAB_DIR, "llama_tokenizer.json"))
    gpt2_ref.save(os.path.join(VOCAB_DIR, "gpt2_tokenizer.json"))
    out = ["// Generated by tools/make_vocab.py -- do not edit. Corpus: /usr/share/common-licenses",
           "// (Debian) + resources/vocab/corpus_extra.txt. See docs/engine.md.", ""]
    out += emit_vocab("llama", llama) + [""] + emit_vocab("gpt2", gpt2)
    with open(os.path.join(TOK_DIR, "bundled_vocab_data.inc"), "w") as f:
        f.write("\n".join(out) + "\n")
    emit_unicode_tables()
    print(f"llama: {len(llama['tokens'])} tokens; gpt2: {len(gpt2['tokens'])} tokens, "
          f"{len(gpt2['merges'])} merges", file=sys.stderr)


if __name__ == "__main__":
    main()
