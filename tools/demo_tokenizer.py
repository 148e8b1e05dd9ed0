#!/usr/bin/env python3
"""Trains the demo model's tokenizer: SentencePiece BPE with byte fallback, Llama-style.

4096 pieces: <unk>=0, <s>=1, </s>=2, the chat markers [INST]=3 and [/INST]=4 as user-defined
symbols (so the Mixtral chat template's markers are single tokens), 256 byte tokens <0x00>..
<0xFF>, then the BPE pieces. Digits are split, text is not normalised (identity), and a space
is prepended (add_dummy_prefix) — the llama.cpp "llama" tokenizer conventions our
core/tokenizer SPM path implements. tools/demo_export.py writes the pieces, scores and types
into the GGUF (tokenizer.ggml.*).

Usage: python3 tools/demo_tokenizer.py [--corpus /work/demo-train/corpus] [--vocab 4096]
Writes <corpus>/../tokenizer.model (outside the repository).
"""
import argparse
import os

import sentencepiece as spm


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="/work/demo-train/corpus")
    ap.add_argument("--vocab", type=int, default=4096)
    args = ap.parse_args()
    prefix = os.path.join(os.path.dirname(os.path.abspath(args.corpus)), "tokenizer")
    spm.SentencePieceTrainer.train(
        input=os.path.join(args.corpus, "pretrain.txt"),
        model_prefix=prefix, model_type="bpe", vocab_size=args.vocab,
        character_coverage=1.0, byte_fallback=True, split_digits=True,
        normalization_rule_name="identity", add_dummy_prefix=True,
        remove_extra_whitespaces=False, allow_whitespace_only_pieces=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        user_defined_symbols=["[INST]", "[/INST]"],
        input_sentence_size=400000, shuffle_input_sentence=True, seed_sentencepiece_size=400000,
        num_threads=2, max_sentence_length=8192, minloglevel=1)
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    print("vocab %d; 'A fever is a rise in body temperature.' ->" % sp.get_piece_size(),
          sp.encode("A fever is a rise in body temperature.", out_type=str))


if __name__ == "__main__":
    main()
