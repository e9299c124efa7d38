"""Cross-fitted ("strict") macro-recall of the English model on all of en_tweeteval_val.

en_umsab_train holds 1,430 of the 2,000 en_tweeteval_val tweets, and once they are all removed
only its 409 negative tweets are left: a model trained on that alone says nothing. So this
splits en_tweeteval_val into K stratified folds and, for each fold, trains the model of
train.py (same features, pseudo-posts and the C / dense scale / unigram choice recorded in
model.json) on en_umsab_train minus en_umsab_val minus that fold's texts, then predicts the
fold. Every one of the 2,000 rows is scored by a model that never saw it: the best proxy here
for TweetEval's test split. Development-time only (needs scikit-learn).

    .venv/bin/python tools/sentiment/strict_eval.py --data ../shared/eval/sentiment/data
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
from sklearn.metrics import f1_score, recall_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from train import LABELS, design, featurise, fit, load, pseudo_rows

from streams.dev.eval.sentiment import text_hash
from streams.text._sentiment_data import DATA_DIR, tables


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=os.path.join("..", "shared", "eval", "sentiment", "data"))
    ap.add_argument("--folds", type=int, default=5)
    a = ap.parse_args()
    with open(os.path.join(DATA_DIR, "model.json"), encoding="utf-8") as f:
        src = json.load(f)["sources"]["en"]
    c, scale, unigrams = float(src["C"]), float(src["dense_scale"]), bool(src["unigrams"])
    held = {text_hash(r["text"]) for r in load(os.path.join(a.data, "en_umsab_val.jsonl"))}
    train = [r for r in load(os.path.join(a.data, "en_umsab_train.jsonl"))
             if text_hash(r["text"]) not in held]
    val = load(os.path.join(a.data, "en_tweeteval_val.jsonl"))
    dense, keys = featurise(train, "en")
    y = np.array([LABELS.index(r["label"]) for r in train])
    vd, vk = featurise(val, "en")
    vy = np.array([LABELS.index(r["label"]) for r in val])
    pseudo = pseudo_rows("en")
    pd, pk = featurise(pseudo, "en")
    extra = (pd, pk, np.array([LABELS.index(r["label"]) for r in pseudo]))
    rules = tables("en").rules
    th = [text_hash(r["text"]) for r in train]
    vh = [text_hash(r["text"]) for r in val]
    pred = np.empty_like(vy)
    folds = StratifiedKFold(a.folds, shuffle=True, random_state=11)
    for _, te in folds.split(vd, vy):
        drop = {vh[i] for i in te}
        keep = [i for i, h in enumerate(th) if h not in drop]
        clf, vocab = fit(dense[keep], [keys[i] for i in keep], y[keep], c, scale, 2, unigrams,
                         rules, extra)
        pred[te] = clf.predict(design(vd[te], [vk[i] for i in te], vocab, scale))
    print(f"en_tweeteval_val strict ({a.folds}-fold cross-fit, C={c} scale={scale} "
          f"unigrams={unigrams}): n={len(vy)} "
          f"macroR={100 * recall_score(vy, pred, average='macro'):.1f} "
          f"macroF1={100 * f1_score(vy, pred, average='macro'):.1f} "
          f"acc={100 * float(np.mean(pred == vy)):.1f}")


if __name__ == "__main__":
    main()
