"""Held-out figures of the frozen model and of the same model with each main hyper-parameter
moved -30 % and +30 % (retrained on the same training rows). Reporting only: nothing here is
chosen; the shipped settings are train.py's DEFAULTS, frozen by cross-validation before.

Predictions are the argmax of the fitted logits, as the scorer's label() gives (the shipped
weights are rounded to 3 decimals; `vigie eval sentiment` gives the shipped model's figures).

    .venv/bin/python tools/sentiment/sensitivity.py --shared ../shared/eval/sentiment --reuse
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
import teacher
import train
from corpus import REPORT_SETS, SHARED, load_set

from streams.dev.eval.sentiment import metrics

LABELS = ("negative", "neutral", "positive")
MOVED = ("c", "scale", "min_df", "pseudo", "distil", "min_weight")


def moves(p: train.Params) -> list[tuple[str, train.Params]]:
    out = [("frozen", p)]
    for name in MOVED:
        v = getattr(p, name)
        if not v:
            continue
        for f in (0.7, 1.3):
            nv = max(1, round(v * f)) if isinstance(v, int) else v * f
            if nv != v:
                out.append((f"{name} {v}->{nv:g}", replace(p, **{name: nv})))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default=SHARED)
    ap.add_argument("--cache", default=os.path.join("out", "sentiment"))
    ap.add_argument("--teacher", default=os.path.join("out", "sentiment", "emb"))
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--langs", default="en,fr")
    ap.add_argument("--json", default=None)
    ap.add_argument("--cv", action="store_true", help="cross-validate every setting too (slow)")
    a = ap.parse_args()
    result: dict[str, dict[str, dict[str, float]]] = {}
    for lang in a.langs.split(","):
        c = train.train_rows(a.shared, lang, a.cache, a.reuse)
        d = train.data(c.rows, lang)
        extra = train.data(train.pseudo_rows(lang), lang)
        emb_path = os.path.join(a.teacher, f"train_{lang}.npy")
        if os.path.isfile(emb_path):
            d.emb = np.load(emb_path)
        held = {name.split("/")[-1]: load_set(a.shared, name) for name in REPORT_SETS[lang]}
        feats = {n: train.data(rows, lang) for n, rows in held.items()}
        metric = "macro_" + train.METRIC[lang]
        print(f"{lang}: {'setting':<22} " + " ".join(f"{n:>17}" for n in held)
              + f" {'cv ' + metric:>16}")
        soft = None  # the teacher's cross-fitted probabilities do not depend on the student
        if d.emb is not None:
            soft = teacher.crossfit(d.emb, d.y, teacher.folds(d.y, train.FOLDS, train.SEED))
        for tag, p in moves(train.DEFAULTS[lang]):
            clf, vocab = train.fit(d, np.arange(len(d.y)), p, lang, extra, soft)
            train.prune(clf, p.min_weight)
            cvs = train.cv(d, p, lang, extra) if a.cv else {}
            row: dict[str, float] = {"cv": cvs.get(metric, float("nan"))}
            cells = []
            for n, f in feats.items():
                pred = clf.predict(train.design(f, range(len(f.y)), vocab, p.scale))
                m = metrics([LABELS[i] for i in f.y], [LABELS[i] for i in pred])
                row[n + " R"], row[n + " F1"] = m["macro_recall"], m["macro_f1"]
                cells.append(f"R {100 * m['macro_recall']:4.1f} F1 {100 * m['macro_f1']:4.1f}")
            result.setdefault(lang, {})[tag] = row
            print(f"    {tag:<22} " + " ".join(f"{x:>17}" for x in cells)
                  + f" {100 * row['cv']:>16.1f}", flush=True)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
