#!/usr/bin/env python3
"""Assembles the demo model's training corpus from WordNet 3.0 (Debian package `wordnet-base`).

WordNet's licence (docs/demo-model.md) allows using, modifying and distributing the database
and derived works with its copyright notice, so a model trained on it can be shipped.

Writes into --out (default /work/demo-train/corpus, never into the repository):
  pretrain.txt   one short English paragraph per word sense, blank-line separated, shuffled
                 with a fixed seed: "A laser printer is an electrostatic printer that ...",
                 its example sentences, its synonyms and the more general word ("is a kind of").
  sft.jsonl      question -> answer pairs for the instruction fine-tune:
                 {"q": "What is a laser printer?", "a": "A laser printer is ..."}
  heldout.txt    the paragraphs of the held-out senses (every 100th synset by offset hash),
                 which neither pretrain.txt nor sft.jsonl contains.

Reproducible: the same package version gives byte-identical files (no clock, fixed seed).
Installs the package with apt-get when /usr/share/wordnet is missing.

Usage: python3 tools/demo_corpus.py [--out DIR]
"""
import argparse
import hashlib
import json
import os
import random
import re
import subprocess

WORDNET = "/usr/share/wordnet"
SEED = 16
POS_FILES = {"n": "data.noun", "v": "data.verb", "a": "data.adj", "r": "data.adv"}


def ensure_wordnet():
    if os.path.exists(os.path.join(WORDNET, "data.noun")):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "wordnet-base"], check=True, env=env)


def parse_data_file(path):
    """Yields (offset, lex_filenum, pos, words, hypernym_offsets, definition, examples)."""
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):  # licence header
                continue
            head, _, gloss = line.partition(" | ")
            f_ = head.split()
            offset, lex, pos = f_[0], int(f_[1]), f_[2]
            n_words = int(f_[3], 16)
            words = [f_[4 + 2 * i] for i in range(n_words)]
            i = 4 + 2 * n_words
            n_ptr = int(f_[i])
            hyper = []
            for p in range(n_ptr):
                sym, off, ppos = f_[i + 1 + 4 * p], f_[i + 2 + 4 * p], f_[i + 3 + 4 * p]
                if sym in ("@", "@i"):
                    hyper.append((off, ppos))
            gloss = gloss.strip()
            examples = [e.strip() for e in re.findall(r'"([^"]+)"', gloss)]
            definition = gloss.split('; "')[0].split(';"')[0].strip().rstrip(";").strip()
            yield offset, lex, pos, words, hyper, definition, examples


def clean_word(w):
    w = re.sub(r"\([a-z]+\)$", "", w)  # adjective markers: (a), (p), (ip)
    return w.replace("_", " ")


def article(phrase):
    low = phrase.lower()
    if re.match(r"^(a|an|the|any|one|some|each|every|two|three|many|this|that|its|his|her)\b",
                low) or low[:1] in "(0123456789" or re.match(r"^\w+s\b", low) and " of " in low[:20]:
        return phrase
    return ("an " if low[:1] in "aeiou" else "a ") + phrase


def sentence(s):
    s = s.strip()
    if not s:
        return s
    s = s[0].upper() + s[1:]
    return s if s[-1] in ".!?" else s + "."


def describe(pos, word, definition, hyper_name):
    """The definition as an English sentence, and the question a user would ask about it."""
    if pos == "n":
        subject = word if word[:1].isupper() else article(word)
        main = "%s is %s" % (subject, article(definition))
        question = "What is %s?" % (word if word[:1].isupper() else article(word))
        extra = ("%s is a kind of %s." % (sentence(subject)[:-1], hyper_name)) if hyper_name else ""
    elif pos == "v":
        main = "To %s means to %s" % (word, re.sub(r"^to ", "", definition))
        question = "What does it mean to %s?" % word
        extra = ""
    else:
        main = "%s means %s" % (word, definition)
        question = "What does %s mean?" % word
        extra = ""
    return sentence(main), question, extra


def build(out_dir):
    ensure_wordnet()
    synsets = {}
    for pos_key, fname in POS_FILES.items():
        for rec in parse_data_file(os.path.join(WORDNET, fname)):
            synsets[(rec[0], "a" if rec[2] == "s" else rec[2])] = rec
    rng = random.Random(SEED)
    keys = sorted(synsets)
    pretrain, heldout, sft = [], [], []
    for key in keys:
        offset, lex, pos, words, hyper, definition, examples = synsets[key]
        pos = "a" if pos == "s" else pos
        if not definition:
            continue
        names = [clean_word(w) for w in words]
        word = names[0]
        hyper_name = ""
        for off, hpos in hyper:
            h = synsets.get((off, "a" if hpos == "s" else hpos))
            if h:
                hyper_name = clean_word(h[3][0])
                break
        main, question, extra = describe(pos, word, definition, hyper_name)
        parts = [main]
        if extra:
            parts.append(extra)
        if len(names) > 1:
            others = names[1:4]
            parts.append("Other words for %s are %s." % (word, " and ".join(others))
                         if len(others) > 1 else "Another word for %s is %s." % (word, others[0]))
        parts += [sentence(e) for e in examples[:2]]
        para = " ".join(parts)
        held = int(hashlib.sha1(offset.encode()).hexdigest(), 16) % 100 == 0
        (heldout if held else pretrain).append(para)
        if not held:
            answer = main
            if examples:
                answer += " For example: " + sentence(examples[0])
            sft.append({"q": question, "a": answer})
    rng.shuffle(pretrain)
    rng.shuffle(sft)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "pretrain.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n".join(pretrain) + "\n")
    with open(os.path.join(out_dir, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n".join(heldout) + "\n")
    with open(os.path.join(out_dir, "sft.jsonl"), "w", encoding="utf-8") as f:
        for pair in sft:
            f.write(json.dumps(pair, ensure_ascii=False) + "\n")
    print("%d paragraphs (%d bytes), %d held out, %d question/answer pairs" %
          (len(pretrain), sum(len(p) + 2 for p in pretrain), len(heldout), len(sft)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/work/demo-train/corpus")
    build(ap.parse_args().out)


if __name__ == "__main__":
    main()
