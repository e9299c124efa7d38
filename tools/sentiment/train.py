"""Train the per-language linear model (lexicon features + unigrams + bigrams); write model.json.

Development-time only (needs the `sentiment-train` extra). The training rows come from
corpus.py: the allowed training sets minus every row (or near copy) of a set we report on.
Design choices are frozen by stratified 5-fold cross-validation on those training rows only
(--grid); the shipped settings are the DEFAULTS below, which the grid chose. Nothing here looks
at a reported set.

    .venv/bin/python tools/sentiment/train.py --shared ../shared/eval/sentiment          # ship
    .venv/bin/python tools/sentiment/train.py --shared ../shared/eval/sentiment --grid   # CV
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import asdict, dataclass, replace

import numpy as np
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, recall_score

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
import corpus
import teacher
from corpus import LABELS, SHARED

from streams.text._sentiment_core import analyse, feature_keys
from streams.text._sentiment_data import DATA_DIR, DENSE_NAMES, EMO, tables

METRIC = {"en": "recall", "fr": "f1"}  # TweetEval's and UMSAB's official metrics
FOLDS, SEED = 5, 7
Key = str | tuple[str, str]


@dataclass(frozen=True)
class Params:
    """The main hyper-parameters (each moved +-30 % in the sensitivity table)."""

    c: float  # inverse L2 strength of the logistic regression
    scale: float  # multiplier of the lexicon (dense) features: how much the rules show
    min_df: int  # a unigram / bigram is a feature when in at least this many training rows
    bigrams: bool
    balanced: bool  # class weights n / (3 n_class): macro metrics weigh the rare class
    pseudo: float  # weight of the lexicon pseudo-posts (0: none)
    distil: float = 0.0  # share of the teacher's probabilities in the targets (0: gold only)
    min_weight: float = 0.0  # token weights whose two logits are both smaller are dropped (speed)


DEFAULTS = {
    "en": Params(c=0.1, scale=3.0, min_df=2, bigrams=False, balanced=True, pseudo=0.5,
                 distil=0.5, min_weight=0.15),
    "fr": Params(c=0.1, scale=6.0, min_df=1, bigrams=False, balanced=True, pseudo=0.5,
                 min_weight=0.1),
}


@dataclass
class Data:
    dense: np.ndarray
    keys: list[Counter[Key]]
    y: np.ndarray
    emb: np.ndarray | None = None  # teacher's input (MiniLM embeddings), training rows only


def featurise(texts: list[str], lang: str) -> tuple[np.ndarray, list[Counter[Key]]]:
    """Dense rule features and the counted model keys, exactly as the scorer computes them."""
    t = tables(lang)
    dense, keys = [], []
    for text in texts:
        toks: list[str] = []
        feats, _ = analyse(text, t, toks)
        dense.append(feats)
        keys.append(Counter(feature_keys(toks)))
    return np.array(dense), keys


def data(rows: list[dict[str, str]], lang: str) -> Data:
    dense, keys = featurise([r["text"] for r in rows], lang)
    return Data(dense, keys, np.array([LABELS.index(r["label"]) for r in rows]))


def pseudo_rows(lang: str, n_max: int = 400) -> list[dict[str, str]]:
    """Strong lexicon words as one-word posts, and function words as neutral ones: the
    lexicon's prior for words the tweets lack."""
    with open(os.path.join(DATA_DIR, "lexicon.json"), encoding="utf-8") as f:
        part = json.load(f)[lang]
    lex = part["lexicon"]
    strong = sorted((w for w, v in lex.items() if abs(v) >= 2.5 and w.isalpha()),
                    key=lambda w: (-abs(lex[w]), w))[:n_max]
    rows = [{"text": w, "label": "positive" if lex[w] > 0 else "negative"} for w in strong]
    return rows + [{"text": w, "label": "neutral"} for w in part["stopwords"] if w not in lex]


def vocabulary(d: Data, idx: np.ndarray, p: Params, lang: str) -> dict[Key, int]:
    rules = tables(lang).rules
    df: Counter[Key] = Counter()
    for i in idx:
        df.update(d.keys[i].keys())
    keep = sorted(
        (k for k, n in df.items()
         if n >= p.min_df and (p.bigrams or isinstance(k, str))
         and not (isinstance(k, str) and rules.get(k, (0,))[0] & EMO)),  # emoji: lexicon only
        key=lambda k: k if isinstance(k, tuple) else (k, ""))
    return {k: j for j, k in enumerate(keep)}


def design(d: Data, idx: np.ndarray | range, vocab: dict[Key, int], scale: float) -> csr_matrix:
    r, c, v = [], [], []
    for n, i in enumerate(idx):
        for k, cnt in d.keys[i].items():
            j = vocab.get(k)
            if j is not None:
                r.append(n)
                c.append(j)
                v.append(cnt)
    sparse = csr_matrix((v, (r, c)), shape=(len(idx), len(vocab)))
    return hstack([csr_matrix(d.dense[idx] * scale), sparse]).tocsr()


def fit(d: Data, idx: np.ndarray, p: Params, lang: str, extra: Data | None,
        soft: np.ndarray | None = None) -> tuple[LogisticRegression, dict[Key, int]]:
    """soft: the teacher's probabilities of the rows idx (never from a teacher that saw them)."""
    vocab = vocabulary(d, idx, p, lang)
    x, y = design(d, idx, vocab, p.scale), d.y[idx]
    w = np.ones(len(y))
    if p.balanced:
        counts = np.bincount(y, minlength=3)
        w = (len(y) / (3.0 * counts))[y]
    if soft is not None and p.distil > 0:
        # soft targets (1 - a) * gold + a * teacher, as three weighted copies of each row
        target = (1.0 - p.distil) * np.eye(3)[y] + p.distil * soft
        x = vstack([x, x, x]).tocsr()
        w = np.concatenate([w * target[:, k] for k in range(3)])
        y = np.repeat(np.arange(3), len(idx))
    if extra is not None and p.pseudo > 0:  # pseudo-posts: never in a validation fold
        x = vstack([x, design(extra, range(len(extra.y)), vocab, p.scale)]).tocsr()
        y = np.concatenate([y, extra.y])
        w = np.concatenate([w, np.full(len(extra.y), p.pseudo)])
    clf = LogisticRegression(C=p.c, max_iter=3000)
    clf.fit(x, y, sample_weight=w)
    return clf, vocab


def prune(clf: LogisticRegression, min_weight: float) -> int:
    """Drop token features whose logits relative to neutral are all below min_weight: a smaller
    dict is a faster one (21k -> 5k English entries: +10 % texts/s). Returns features kept."""
    nd = len(DENSE_NAMES)
    w = clf.coef_[:, nd:]
    classes = list(clf.classes_)
    i_neu = classes.index(1)
    rel = np.abs(w - w[i_neu])
    drop = rel.max(axis=0) < max(min_weight, 2e-3)
    w[:, drop] = 0.0
    return int((~drop).sum())


def cv(d: Data, p: Params, lang: str, extra: Data | None) -> dict[str, float]:
    """Stratified K-fold on training rows: each row predicted by the model trained without it."""
    assert p.distil == 0 or d.emb is not None, f"{p} needs the teacher's embeddings"
    pred = np.empty_like(d.y)
    fold = teacher.folds(d.y, FOLDS, SEED)
    for f in range(FOLDS):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        soft = None
        if p.distil > 0 and d.emb is not None:  # nested: no teacher saw fold f either
            soft = teacher.crossfit(d.emb, d.y, fold, exclude=f)[tr]
        clf, vocab = fit(d, tr, p, lang, extra, soft)
        prune(clf, p.min_weight)
        pred[te] = clf.predict(design(d, te, vocab, p.scale))
    return {"macro_recall": float(recall_score(d.y, pred, average="macro")),
            "macro_f1": float(f1_score(d.y, pred, average="macro"))}


def export(clf: LogisticRegression, vocab: dict[Key, int], scale: float) -> dict[str, object]:
    """Logits relative to neutral: (negative - neutral, positive - neutral) per feature."""
    classes = list(clf.classes_)
    w, b = clf.coef_, clf.intercept_
    i_neg, i_neu, i_pos = (classes.index(c) for c in range(3))
    wn, wp = w[i_neg] - w[i_neu], w[i_pos] - w[i_neu]
    nd = len(DENSE_NAMES)
    uni: dict[str, list[float]] = {}
    bi: dict[str, list[float]] = {}
    for k, j in vocab.items():
        a, c = round(float(wn[nd + j]), 3), round(float(wp[nd + j]), 3)
        if not (a or c):  # pruned (prune()) or too small to move a label
            continue
        if isinstance(k, tuple):
            bi[" ".join(k)] = [a, c]
        else:
            uni[k] = [a, c]
    return {
        "bias": [round(float(b[i_neg] - b[i_neu]), 4), round(float(b[i_pos] - b[i_neu]), 4)],
        "dense": [[round(float(v) * scale, 4) for v in wn[:nd]],
                  [round(float(v) * scale, 4) for v in wp[:nd]]],
        "unigrams": uni,
        "bigrams": bi,
    }


def grid(lang: str) -> list[Params]:
    """The choices tried by cross-validation, one axis at a time around the default."""
    base = DEFAULTS[lang]
    out = [base]
    axes: dict[str, list[object]] = {
        "c": [0.03, 0.1, 0.3, 1.0], "scale": [1.0, 3.0, 6.0], "min_df": [1, 2, 3],
        "bigrams": [False, True], "balanced": [False, True], "pseudo": [0.0, 0.5, 1.0],
    }
    if lang == "en":  # the MiniLM teacher is English-only
        axes["distil"] = [0.0, 0.3, 0.5, 0.8]
    for name, values in axes.items():
        out += [replace(base, **{name: v}) for v in values if getattr(base, name) != v]
    return out


def train_rows(shared: str, lang: str, cache: str, reuse: bool) -> corpus.Corpus:
    """The corpus of one language, rebuilt (2 min: near-copy search) or reused from --cache."""
    path = os.path.join(cache, f"corpus_{lang}.json")
    if reuse and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return corpus.Corpus(**json.load(f))
    c = corpus.build(shared, lang)
    os.makedirs(cache, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(asdict(c), f, ensure_ascii=False)
    with open(os.path.join(cache, f"train_{lang}.jsonl"), "w", encoding="utf-8") as f:
        for r in c.rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default=SHARED)
    ap.add_argument("--out", default=os.path.join(DATA_DIR, "model.json"))
    ap.add_argument("--cache", default=os.path.join("out", "sentiment"),
                    help="where to write the training rows (for embed.py and the reports)")
    ap.add_argument("--reuse", action="store_true", help="reuse the corpus cached in --cache")
    ap.add_argument("--grid", action="store_true", help="cross-validate the grid; write nothing")
    ap.add_argument("--langs", default="en,fr")
    ap.add_argument("--teacher", default=os.path.join("out", "sentiment", "emb"),
                    help="folder of embed.py's train_<lang>.npy (distillation)")
    a = ap.parse_args()
    model: dict[str, object] = {"dense_names": list(DENSE_NAMES), "sources": {}}
    trained_keys: set[str] = set()
    for lang in a.langs.split(","):
        c = train_rows(a.shared, lang, a.cache, a.reuse)
        print(corpus.summary(c), flush=True)
        d = data(c.rows, lang)
        emb_path = os.path.join(a.teacher, f"train_{lang}.npy") if a.teacher else ""
        if os.path.isfile(emb_path):
            d.emb = np.load(emb_path)
            assert len(d.emb) == len(d.y), "embeddings are not of these training rows"
        extra = data(pseudo_rows(lang), lang)
        metric = "macro_" + METRIC[lang]
        if a.grid:
            for p in grid(lang):
                s = cv(d, p, lang, extra)
                print(f"  cv {lang} {p}: macroR={100 * s['macro_recall']:.1f} "
                      f"macroF1={100 * s['macro_f1']:.1f}", flush=True)
            continue
        p = DEFAULTS[lang]
        s = cv(d, p, lang, extra)
        print(f"  cv {lang} {p}: {metric}={100 * s[metric]:.1f}", flush=True)
        soft = None
        if p.distil > 0:
            assert d.emb is not None, f"{p} needs --teacher embeddings"
            soft = teacher.crossfit(d.emb, d.y, teacher.folds(d.y, FOLDS, SEED))
        clf, vocab = fit(d, np.arange(len(d.y)), p, lang, extra, soft)
        kept = prune(clf, p.min_weight)
        print(f"  {lang}: {kept} of {len(vocab)} token features kept", flush=True)
        model[lang] = export(clf, vocab, p.scale)
        trained_keys.update(r["key"] for r in c.rows)
        model["sources"][lang] = {  # type: ignore[index]
            "train": {name.split("/")[-1]: n for name, n in c.raw.items()},
            "rows": len(c.rows), "removed_reported": c.removed_report.get("total", 0),
            "removed_near": c.removed_near, "removed_repeats": c.removed_dup,
            "removed_conflicts": c.removed_conflict, "params": asdict(p),
            "teacher": (f"all-MiniLM-L6-v2 sentence embeddings + logistic regression "
                        f"(C={teacher.TEACHER_C}, class-balanced), {FOLDS}-fold cross-fitted "
                        f"probabilities as targets") if p.distil > 0 else None,
            "cv": {k: round(v, 4) for k, v in s.items()},
        }
    if a.grid:
        return
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(model, f, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    with open(os.path.join(os.path.dirname(a.out), "train_keys.txt"), "w") as f:
        f.write("\n".join(sorted(trained_keys)) + "\n")
    print("wrote", a.out)


if __name__ == "__main__":
    main()
