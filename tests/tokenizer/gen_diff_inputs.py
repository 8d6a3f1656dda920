#!/usr/bin/env python3
"""tests/tokenizer/gen_diff_inputs.py - deterministic random texts for the
tokenizer differential test, one JSON string per line.

usage: gen_diff_inputs.py N SEED VOCAB_TXT > OUT.jsonl

Each text mixes pieces chosen to hit every stage of the BERT pipeline: vocabulary
words in random case, punctuation (ASCII and Unicode), precomposed accents and
loose combining marks (including marks that canonical ordering moves), CJK
ideographs and the edges of the CJK ranges, Hangul, emoji, control and format
characters, every whitespace variant, special tokens and near-misses, long
words around the 100-character limit, random code points from all planes, and
a few texts far past 512 tokens.
"""
import json
import random
import sys

PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + [
    "\u00a1", "\u00bf", "\u00ab", "\u00bb", "\u2018", "\u2019", "\u201c", "\u201d", "\u2013",
    "\u2014", "\u2026", "\u3001", "\u3002", "\u300c", "\u300d", "\uff01", "\uff0c", "\u00b7",
    "\u2e43", "\u166d", "\U000111c9", "\u2260", "\u226e", "\u00a7", "\u00b6", "\u061f",
]
ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŁłŒœŠšŽžĞğİıŞşǅǄǆΆΈΉΊΌΎΏάέήίόύώΪΫϊϋ"
MARKS = ["\u0300", "\u0301", "\u0302", "\u0303", "\u0308", "\u030a", "\u0327", "\u0328",
         "\u0316", "\u0345", "\u05b0", "\u064b", "\u0670", "\u093c", "\u0e31", "\u0e48",
         "\u1734", "\u1885", "\ua9bd", "\u0903", "\u0f39", "\u20dd",
         "\U0001d165", "\U0001d166", "\U0001d16d", "\U0001d16e", "\U0001d167"]
SPACES = [" ", "  ", "\t", "\n", "\r", "\u00a0", "\u1680", "\u2000", "\u2003", "\u2009",
          "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\u000b", "\u000c",
          "\u0085", "\u001c", "\u001f"]
CONTROL = ["\u0000", "\u0001", "\u0007", "\u001b", "\u007f", "\u0080", "\u009f", "\u00ad",
           "\u200b", "\u200c", "\u200d", "\u200e", "\u2060", "\ufeff", "\ufffd", "\ue000",
           "\uf8ff", "\U000f0000", "\u0600", "\u0890", "\U00013430", "\u180e", "\u0378",
           "\ufffe", "\U000e0001", "\U000e0041"]
SPECIAL = ["[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]", "[cls]", "[CLS", "CLS]", "[[SEP]]",
           "[MASK]]", "[SEP][CLS]", "x[UNK]y", "[ CLS ]", "[MA\u200bSK]", "##", "##ing", "#"]
EMOJI = ["\U0001f600", "\U0001f44d\U0001f3fd", "\U0001f1eb\U0001f1f7", "\u2764\ufe0f",
         "\U0001f97a", "\U0001fae0", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u263a"]
SCRIPTS = ["한국어", "텍스트", "日本語のテキスト", "中文字符测试", "Ｆｕｌｌｗｉｄｔｈ", "ﬁnancial", "ﬂow",
           "Ωμέγα", "ΣΊΣΥΦΟΣ", "Straße", "ẞ", "Москва", "עברית", "العربية", "हिन्दी", "ไทย",
           "ǅungla", "ŉ", "Ⅻ", "①②", "½", "x²", "℃", "™", "Å", "K", "ﬃ", "ᾳ", "ᾼ"]


def cjk_char(rng):
    ranges = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2B91F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF),
              (0x2F800, 0x2FA1F), (0x2CEB0, 0x2EBE0), (0x30000, 0x3134A)]
    lo, hi = rng.choice(ranges)
    edge = rng.random() < 0.3
    return chr(rng.choice([lo, hi, lo - 1, hi + 1]) if edge else rng.randint(lo, hi))


def random_cp(rng):
    while True:
        r = rng.random()
        if r < 0.5:
            cp = rng.randint(0x80, 0xFFFF)
        elif r < 0.8:
            cp = rng.randint(0x10000, 0x2FFFF)
        else:
            cp = rng.randint(0x30000, 0x10FFFF)
        if not 0xD800 <= cp <= 0xDFFF:
            return chr(cp)


def recase(rng, w):
    r = rng.random()
    if r < 0.6:
        return w
    if r < 0.75:
        return w.upper()
    if r < 0.9:
        return w.capitalize()
    return "".join(c.upper() if rng.random() < 0.5 else c for c in w)


def piece(rng, words):
    r = rng.random()
    if r < 0.40:
        return recase(rng, rng.choice(words))
    if r < 0.50:
        return rng.choice(PUNCT)
    if r < 0.56:
        w = rng.choice(words)
        return "".join(c + (rng.choice(MARKS) if rng.random() < 0.3 else "") for c in w)
    if r < 0.61:
        return "".join(rng.choice(ACCENTED) for _ in range(rng.randint(1, 6)))
    if r < 0.66:
        return "".join(cjk_char(rng) for _ in range(rng.randint(1, 4)))
    if r < 0.70:
        return rng.choice(SCRIPTS)
    if r < 0.73:
        return rng.choice(EMOJI)
    if r < 0.77:
        return rng.choice(CONTROL)
    if r < 0.80:
        return rng.choice(SPECIAL)
    if r < 0.85:
        return "".join(random_cp(rng) for _ in range(rng.randint(1, 3)))
    if r < 0.87:  # long words around the 100-character limit
        n = rng.choice([98, 99, 100, 101, 102, 150, rng.randint(50, 300)])
        base = rng.choice(["a", "ab", "é", "ä", "x\u0301", "中", "\u00ad", "la"])
        return (base * n)[: n if base not in ("x\u0301",) else 2 * n]
    if r < 0.89:  # glued words and pieces with no spaces
        return "".join(rng.choice(words) for _ in range(rng.randint(2, 6)))
    if r < 0.91:
        return str(rng.randint(0, 10 ** rng.randint(1, 12)))
    return rng.choice(MARKS) * rng.randint(1, 3)


def text(rng, words):
    r = rng.random()
    if r < 0.02:
        n = rng.randint(400, 1500)  # far past 512 tokens
    elif r < 0.05:
        n = rng.randint(0, 1)
    else:
        n = rng.randint(1, 25)
    out = []
    for _ in range(n):
        out.append(piece(rng, words))
        out.append(rng.choice(SPACES) if rng.random() < 0.8 else "")
    return "".join(out)


def main():
    n, seed, vocab = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(vocab, encoding="utf-8") as f:
        words = [w.rstrip("\n") for w in f]
    words = [w for w in words if w.isalpha() and not w.startswith("[")] or ["word"]
    rng = random.Random(seed)
    out = sys.stdout
    for _ in range(n):
        out.write(json.dumps(text(rng, words)) + "\n")


if __name__ == "__main__":
    main()
