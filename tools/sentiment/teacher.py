"""A teacher for the English student: logistic regression on MiniLM sentence embeddings.

Development-time only. Reads the embeddings of embed.py (rows in the order of
out/sentiment/train_en.jsonl) and gives cross-fitted class probabilities for training rows:
a row's probabilities always come from a teacher that never saw that row, and, for the
student's cross-validation, from one that never saw the student's validation fold either
(nested), so that distillation cannot leak a validation label into the student.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

TEACHER_C = 1.0  # frozen by CV on training rows (teacher_cv below)


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> LogisticRegression:
    counts = np.bincount(y, minlength=3)
    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit(x, y, sample_weight=(len(y) / (3.0 * counts))[y])
    return clf


def folds(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold number of each row (the student's folds: same k and seed)."""
    out = np.empty(len(y), dtype=int)
    for f, (_, te) in enumerate(StratifiedKFold(k, shuffle=True, random_state=seed).split(y, y)):
        out[te] = f
    return out


def crossfit(x: np.ndarray, y: np.ndarray, fold: np.ndarray, exclude: int | None = None,
             c: float = TEACHER_C) -> np.ndarray:
    """Probabilities of each row from a teacher trained without its fold (and without fold
    `exclude`, whose rows get no probabilities: NaN)."""
    proba = np.full((len(y), 3), np.nan)
    for f in np.unique(fold):
        if f == exclude:
            continue
        train = (fold != f) & (fold != exclude if exclude is not None else True)
        clf = _fit(x[train], y[train], c)
        proba[fold == f] = clf.predict_proba(x[fold == f])
    return proba


def teacher_cv(x: np.ndarray, y: np.ndarray, fold: np.ndarray, c: float) -> np.ndarray:
    """Cross-fitted predicted labels of the teacher alone (to know whether it is any good)."""
    return np.asarray(np.argmax(crossfit(x, y, fold, None, c), axis=1))
