"""Train the per-language linear model over lexicon features + unigrams; write model.json.

Development-time only (needs scikit-learn). Trains on the {en,fr}_umsab_train sets of the
shared evaluation data, minus any text also in the same benchmark's *_val set, and picks C by
cross-validation. Beware: en_umsab_train holds 1,430 of the 2,000 tweets of TweetEval's
validation split, so that split is not held out for the English model; train_keys.txt lists
hashes of every training text so that the eval command can score unseen rows apart.

    .venv/bin/python tools/sentiment/train.py --data ../shared/eval/sentiment/data
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

import numpy as np
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, recall_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from streams.dev.eval.sentiment import text_hash
from streams.text._sentiment_core import analyse
from streams.text._sentiment_data import DATA_DIR, DENSE_NAMES, EMO, tables

LABELS = ("negative", "neutral", "positive")
PSEUDO_WEIGHT = 0.5


def _key(text: str) -> str:
    return text_hash(text)


def load(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def featurise(rows: list[dict[str, str]], lang: str) -> tuple[np.ndarray, list[list[str]]]:
    t = tables(lang)
    dense, keys = [], []
    for r in rows:
        k: list[str] = []
        feats, _ = analyse(r["text"], t, k)
        dense.append(feats)
        keys.append(sorted(set(k)))
    return np.array(dense), keys


def design(dense: np.ndarray, keys: list[list[str]], vocab: dict[str, int],
           scale: float) -> csr_matrix:
    rows, cols = [], []
    for i, ks in enumerate(keys):
        for k in ks:
            j = vocab.get(k)
            if j is not None:
                rows.append(i)
                cols.append(j)
    sparse = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(keys), len(vocab)))
    return hstack([csr_matrix(dense * scale), sparse]).tocsr()


def pseudo_rows(lang: str, n_max: int = 400) -> list[dict[str, str]]:
    """Strong lexicon words as one-word posts: the lexicon's prior for out-of-domain text."""
    with open(os.path.join(DATA_DIR, "lexicon.json"), encoding="utf-8") as f:
        part = json.load(f)[lang]
    lex = part["lexicon"]
    strong = sorted((w for w, v in lex.items() if abs(v) >= 2.5 and w.isalpha()),
                    key=lambda w: -abs(lex[w]))[:n_max]
    rows = [{"text": w, "label": "positive" if lex[w] > 0 else "negative"} for w in strong]
    # and function words as neutral one-word posts, so that shortness alone means nothing
    return rows + [{"text": w, "label": "neutral"} for w in part["stopwords"] if w not in lex]


def fit(dense, keys, y, c: float, scale: float, min_df: int, unigrams: bool, rules=None,
        extra=None):
    rules = rules or {}
    # emoji/emoticons act through the lexicon only (too rare here to learn a weight)
    df = Counter(k for ks in keys for k in ks if not rules.get(k, (0,))[0] & EMO)
    vocab = {k: i for i, k in enumerate(sorted(w for w, n in df.items() if n >= min_df))}
    if not unigrams:
        vocab = {}
    x = design(dense, keys, vocab, scale)
    weight = np.ones(len(y))
    if extra is not None:  # pseudo-posts, down-weighted, never in the validation folds
        xd, xk, xy = extra
        x = vstack([x, design(xd, xk, vocab, scale)]).tocsr()
        y = np.concatenate([y, xy])
        weight = np.concatenate([weight, np.full(len(xy), PSEUDO_WEIGHT)])
    clf = LogisticRegression(C=c, max_iter=3000)
    clf.fit(x, y, sample_weight=weight)
    return clf, vocab


def cv_score(dense, keys, y, c, scale, min_df, unigrams, metric, rules, extra) -> float:
    preds = np.empty_like(y)
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=7).split(dense, y):
        clf, vocab = fit(dense[tr], [keys[i] for i in tr], y[tr], c, scale, min_df, unigrams,
                         rules, extra)
        preds[te] = clf.predict(design(dense[te], [keys[i] for i in te], vocab, scale))
    if metric == "recall":
        return float(recall_score(y, preds, average="macro"))
    return float(f1_score(y, preds, average="macro"))


def export(clf, vocab: dict[str, int], scale: float) -> dict[str, object]:
    classes = list(clf.classes_)
    w, b = clf.coef_, clf.intercept_
    i_neg, i_neu, i_pos = (classes.index(c) for c in range(3))
    wn, wp = w[i_neg] - w[i_neu], w[i_pos] - w[i_neu]
    nd = len(DENSE_NAMES)
    uni = {k: [round(float(wn[nd + j]), 4), round(float(wp[nd + j]), 4)]
           for k, j in vocab.items() if abs(wn[nd + j]) + abs(wp[nd + j]) > 1e-3}
    return {
        "bias": [round(float(b[i_neg] - b[i_neu]), 4), round(float(b[i_pos] - b[i_neu]), 4)],
        "dense": [[round(float(v) * scale, 4) for v in wn[:nd]],
                  [round(float(v) * scale, 4) for v in wp[:nd]]],
        "unigrams": uni,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=os.path.join("..", "shared", "eval", "sentiment", "data"))
    ap.add_argument("--out", default=os.path.join(DATA_DIR, "model.json"))
    a = ap.parse_args()
    trained_keys: set[str] = set()
    model: dict[str, object] = {"dense_names": list(DENSE_NAMES), "sources": {}}
    for lang, metric in (("en", "recall"), ("fr", "f1")):
        rows = load(os.path.join(a.data, f"{lang}_umsab_train.jsonl"))
        held_out = {_key(r["text"]) for r in load(os.path.join(a.data, f"{lang}_umsab_val.jsonl"))}
        clean = [r for r in rows if _key(r["text"]) not in held_out]
        print(f"{lang}: {len(clean)} of {len(rows)} training rows not in {lang}_umsab_val")
        trained_keys.update(text_hash(r["text"]) for r in clean)
        dense, keys = featurise(clean, lang)
        y = np.array([LABELS.index(r["label"]) for r in clean])
        rules = tables(lang).rules
        pseudo = pseudo_rows(lang)
        pd, pk = featurise(pseudo, lang)
        extra = (pd, pk, np.array([LABELS.index(r["label"]) for r in pseudo]))
        best = None
        for unigrams in (False, True):
            for c in (0.03, 0.1, 0.3, 1.0):
                for scale in (3.0, 6.0):  # lexicon features kept strong: rules must show
                    s = cv_score(dense, keys, y, c, scale, 2, unigrams, metric, rules, extra)
                    print(f"  unigrams={unigrams} C={c} scale={scale} cv-{metric}={s:.4f}")
                    if best is None or s > best[0]:
                        best = (s, unigrams, c, scale)
        assert best is not None
        s, unigrams, c, scale = best
        print(f"  chosen unigrams={unigrams} C={c} scale={scale} (cv {s:.4f})")
        clf, vocab = fit(dense, keys, y, c, scale, 2, unigrams, rules, extra)
        model[lang] = export(clf, vocab, scale)
        model["sources"][lang] = {  # type: ignore[index]
            "train": f"{lang}_umsab_train minus {lang}_umsab_val overlap", "rows": len(clean),
            "C": c, "dense_scale": scale, "unigrams": unigrams, "cv": round(s, 4),
        }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(model, f, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    with open(os.path.join(os.path.dirname(a.out), "train_keys.txt"), "w") as f:
        f.write("\n".join(sorted(trained_keys)) + "\n")
    print("wrote", a.out)


if __name__ == "__main__":
    main()
