#!/usr/bin/env python3
"""The focused fine-tune set of the demo model's run 3 (docs/demo-model.md): the words a
clinician tries first in the demo chat, asked as chat questions, one sense per word.

A 9 M-parameter model trained for two hours on one core cannot learn all 117k WordNet senses
(run 2 answered in the shape of a definition, about the wrong word); it can learn a few thousand
well. This picks, from WordNet 3.0 (the same parse as tools/demo_corpus.py):
  medical  noun senses below medical hypernyms (pathological state, symptom, attack, injury,
           body part, body substance, drug, medicine, vaccine, medical procedure and care,
           health professional), kept when the word is in SemCor's sense counts (cntlist.rev:
           a word people use) or lies within three levels of its root, and the verbs of the
           body (breathe, bleed) in SemCor; at most --medical of them, most frequent first;
           the words of FIRST_WORDS (below) come first;
  common   the --common most frequent nouns and --verbs most frequent verbs (SemCor counts).
Each word keeps one sense: the medical one for medical words, else its most frequent; so the
same question never has two answers. The held-out senses of tools/demo_corpus.py (SHA-1 of the
offset = 0 mod 100) are left out. Each sense is asked in two or three phrasings
("What is a fever?", "What is fever?", "What does fever mean?"), one in three of them behind
the app chat's default system prompt (demo_common.APP_SYSTEM_PROMPT), answered by the sentence
tools/demo_corpus.py builds ("A fever is a rise in the temperature of the body; ...") and the
more general word ("It is a kind of symptom.").

Writes <corpus>/focus.jsonl ({"q", "a", "group"[, "system"]}; deterministic, no clock) and prints counts.
Usage: python3 tools/demo_focus.py [--out DIR]
"""
import argparse
import collections
import hashlib
import json
import os
import random

import demo_common as cm
import demo_corpus as dc

# (offset, first lemma) of each medical root, checked when loading so a different WordNet
# version fails loudly instead of silently picking other senses.
MEDICAL_ROOTS = [("14051917", "pathological_state"), ("14299637", "symptom"),
                 ("14081375", "attack"), ("14285662", "injury"), ("14322699", "pain"),
                 ("14174549", "infection"), ("05220461", "body_part"),
                 ("05267345", "tissue"), ("05263850", "body_substance"),
                 ("03247620", "drug"), ("03740161", "medicine"),
                 ("01024392", "medical_procedure"), ("00657604", "medical_care"),
                 ("10165109", "health_professional"),
                 ("04517535", "vaccine")]
# Words a clinician tries first in a demo chat: asked about before any other (their medical
# sense when they have one, else their most frequent), whatever their SemCor counts say.
FIRST_WORDS = """fever anemia asthma diabetes stroke infection pneumonia influenza flu cold cough
headache migraine pain nausea vomiting diarrhea constipation rash allergy arthritis cancer tumor
malaria tuberculosis measles hepatitis sepsis hypertension obesity dementia depression anxiety
insomnia fatigue inflammation injury wound fracture burn bruise ulcer seizure epilepsy
bronchitis jaundice dehydration shock coma heart lung liver kidney brain stomach intestine
bladder pancreas spleen skin bone muscle blood artery vein nerve gland thyroid spine skull
throat eye ear nose mouth tooth tongue hand foot knee hip chest abdomen breast uterus
aspirin insulin penicillin antibiotic vaccine morphine antihistamine ibuprofen acetaminophen
steroid vitamin drug medicine pill tablet injection dose surgery operation biopsy transfusion
vaccination immunization diagnosis therapy treatment x-ray anesthesia doctor physician
nurse surgeon pharmacist dentist pediatrician psychiatrist patient hospital clinic ambulance
virus bacteria bacterium germ pulse temperature breath sleep health disease illness
symptom""".split()
POS_CODE = {"n": "1", "v": "2"}


def sense_counts():
    """({(pos, offset): SemCor tag count summed over the synset's words} from index.* and
    cntlist.rev (sense number n of a lemma is the n-th offset in its index line),
    {(pos, lemma): its offsets, most frequent sense first})."""
    index = {}
    for pos, name in (("n", "index.noun"), ("v", "index.verb")):
        with open(os.path.join(dc.WORDNET, name), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                p = line.split()
                n_syn, n_ptr = int(p[2]), int(p[3])
                index[(pos, p[0])] = p[6 + n_ptr:6 + n_ptr + n_syn]
    counts = collections.Counter()
    with open(os.path.join(dc.WORDNET, "cntlist.rev"), encoding="latin-1") as f:
        for line in f:
            key, num, cnt = line.split()
            lemma, _, rest = key.partition("%")
            pos = {"1": "n", "2": "v"}.get(rest[:1])
            offsets = index.get((pos, lemma))
            if offsets and int(num) <= len(offsets):
                counts[(pos, offsets[int(num) - 1])] += int(cnt)
    return counts, index


def held_out(offset):
    return int(hashlib.sha1(offset.encode()).hexdigest(), 16) % 100 == 0


def load():
    syn, children = {}, collections.defaultdict(list)
    for fname in dc.POS_FILES.values():
        for rec in dc.parse_data_file(os.path.join(dc.WORDNET, fname)):
            pos = "a" if rec[2] == "s" else rec[2]
            syn[(rec[0], pos)] = rec
            for off, hpos in rec[4]:
                children[(off, "a" if hpos == "s" else hpos)].append((rec[0], pos))
    return syn, children


def medical_senses(syn, children):
    """{key: depth below its nearest root} for every noun sense under a medical root."""
    depth = {}
    for off, lemma in MEDICAL_ROOTS:
        rec = syn[(off, "n")]
        if rec[3][0].lower() != lemma:
            raise SystemExit("WordNet %s is %s, not %s: another WordNet version?" %
                             (off, rec[3][0], lemma))
        todo = [((off, rec[2]), 0)]
        while todo:
            key, d = todo.pop()
            if depth.get(key, 99) <= d:
                continue
            depth[key] = d
            todo += [(k, d + 1) for k in children[key]]
    return depth


def hyper_name(syn, rec):
    for off, hpos in rec[4]:
        h = syn.get((off, "a" if hpos == "s" else hpos))
        if h:
            return dc.clean_word(h[3][0])
    return ""


def pairs_for(syn, key, group, word):
    _, _, pos, words, _, definition, examples = syn[key]
    hyper = hyper_name(syn, syn[key])
    main, question, _ = dc.describe(pos, word, definition, hyper)
    answer = main
    if pos == "n" and hyper:
        answer += " It is a kind of %s." % hyper
    elif examples:
        answer += " For example: " + dc.sentence(examples[0])
    if pos == "n":
        questions = [question, "What does %s mean?" % word]
        if not word[:1].isupper() and question != "What is %s?" % word:
            questions.append("What is %s?" % word)
    else:
        questions = [question, "What does %s mean?" % word]
    return [{"q": q, "a": answer, "group": group} for q in questions]


def build(out_dir, n_medical, n_common, n_verbs):
    syn, children = load()
    counts, index = sense_counts()
    depth = medical_senses(syn, children)

    def usable(key):
        rec = syn[key]
        word = rec[3][0]
        return rec[5] and not held_out(key[0]) and len(word) >= 3 and word.count("_") <= 1

    def rank(k):  # the sense's place among its first word's senses (0: the most frequent)
        offsets = index.get((k[1], syn[k][3][0].lower()), [])
        return offsets.index(k[0]) if k[0] in offsets else 99

    # Of a word's medical senses the most frequent ("anemia": too few red blood cells, not a
    # lack of vitality), then the words people use most.
    medical = [k for k in depth if usable(k) and (counts[(k[1], k[0])] > 0 or depth[k] <= 3)]
    # Verbs of the body (WordNet's lexicographer file verb.body: breathe, bleed, swallow).
    depth.update({k: 0 for k, r in syn.items() if k[1] == "v" and r[1] == 29})
    medical += [k for k, r in syn.items() if k[1] == "v" and r[1] == 29 and usable(k)
                and counts[(k[1], k[0])] > 0]
    medical.sort(key=lambda k: (rank(k), -counts[(k[1], k[0])], depth[k], k))
    medical = list({dc.clean_word(syn[k][3][0]).lower(): k for k in reversed(medical)}.values())
    medical.sort(key=lambda k: (-counts[(k[1], k[0])], depth[k], k))
    chosen, words = [], set()

    def first_word(k):
        return dc.clean_word(syn[k][3][0])

    def take(items, limit, group):
        """Adds (sense, word) items whose word is not taken yet, up to `limit`."""
        n = 0
        for k, w in items:
            if n >= limit or (k[1], w.lower()) in words:
                continue
            words.add((k[1], w.lower()))
            chosen.append((k, group, w))
            n += 1
        return n

    first = []
    for w in FIRST_WORDS:  # its medical sense if it has one, else its most frequent
        keys = [(o, "n") for o in index.get(("n", w), [])]
        keys = [k for k in keys if k in depth] + keys
        keys = [k for k in keys if syn[k][5] and not held_out(k[0])]
        if keys:  # the word as WordNet spells it ("X-ray")
            first.append((keys[0], next(dc.clean_word(x) for x in syn[keys[0]][3]
                                        if dc.clean_word(x).lower() == w)))
    got_first = take(first, len(first), "medical")
    got_med = got_first + take([(k, first_word(k)) for k in medical], n_medical - got_first,
                               "medical")
    by_count = sorted((k for k in syn if k[1] in "nv" and usable(k) and counts[(k[1], k[0])] > 0),
                      key=lambda k: (-counts[(k[1], k[0])], k))
    got_nouns = take([(k, first_word(k)) for k in by_count if k[1] == "n"], n_common, "common")
    got_verbs = take([(k, first_word(k)) for k in by_count if k[1] == "v"], n_verbs, "common")
    pairs = []
    for k, g, word in chosen:
        pairs += pairs_for(syn, k, g, word)
        # A medical sense is also asked by its other first two words ("flu" of influenza),
        # answered with that word as the subject.
        for w in [dc.clean_word(x) for x in syn[k][3][:2]] if g == "medical" else []:
            if (k[1], w.lower()) not in words and len(w) >= 3 and w.count(" ") <= 1:
                words.add((k[1], w.lower()))
                pairs += pairs_for(syn, k, g, w)
    rng = random.Random(dc.SEED)
    for p in pairs:  # one question in three behind the app chat's default system prompt
        if rng.random() < 1 / 3:
            p["system"] = cm.APP_SYSTEM_PROMPT
    rng.shuffle(pairs)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "focus.jsonl"), "w", encoding="utf-8") as f:
        for p in pairs:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    print("%d medical senses (of %d under the roots), %d common nouns, %d verbs: %d pairs" %
          (got_med, len(depth), got_nouns, got_verbs, len(pairs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/work/demo-train/corpus")
    ap.add_argument("--medical", type=int, default=900)
    ap.add_argument("--common", type=int, default=300)
    ap.add_argument("--verbs", type=int, default=100)
    a = ap.parse_args()
    build(a.out, a.medical, a.common, a.verbs)


if __name__ == "__main__":
    main()
