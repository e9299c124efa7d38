"""Evaluate the sentiment scorer on labelled JSONL sets: macro-recall, macro-F1, accuracy, speed.

Each line of a set is {"text", "label", "lang", ...} with label negative/neutral/positive.
Rows whose text the shipped model was trained on (hashes in data/sentiment/train_keys.txt)
are also reported apart, as "unseen" figures, so that a contaminated set is visible.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import html
import json
import logging
import os
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from streams.text._sentiment_data import DATA_DIR
from streams.text.sentiment import label, score

log = logging.getLogger(__name__)

LABELS = ("negative", "neutral", "positive")
WARMUP_TEXTS = 200
TIMING_S = 1.0  # timed passes over a set until this much time is spent (median reported)
MIN_PASSES, MAX_PASSES = 3, 200
_NORM_RE = re.compile(r"[\W_]+")
_URL_RE = re.compile(r"(?:https?|www\.)\S*")
_MENTION_RE = re.compile(r"@\w+")
_RT_RE = re.compile(r"^\W*rt\b")
_UESC_RE = re.compile(r"\\u([0-9a-fA-F]{4})")


def text_key(text: str) -> str:
    """A text normalised the way tweet dumps differ: case, punctuation, entities, \\u escapes,
    mentions, URLs and a leading RT are ignored."""
    s = html.unescape(_UESC_RE.sub(lambda m: chr(int(m.group(1), 16)), text)).lower()
    s = _RT_RE.sub("", _MENTION_RE.sub("", _URL_RE.sub("", s)))
    return _NORM_RE.sub("", s)


def text_hash(text: str) -> str:
    """Short stable hash of a text's normalised key (text_key)."""
    return hashlib.blake2b(text_key(text).encode("utf-8", "surrogatepass"),
                           digest_size=8).hexdigest()


def metrics(gold: list[str], pred: list[str]) -> dict[str, float]:
    """Macro-recall, macro-F1 and accuracy over the three labels."""
    rec, f1 = [], []
    for c in LABELS:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        n_gold = sum(1 for g in gold if g == c)
        n_pred = sum(1 for p in pred if p == c)
        r = tp / n_gold if n_gold else 0.0
        p_ = tp / n_pred if n_pred else 0.0
        rec.append(r)
        f1.append(2 * p_ * r / (p_ + r) if p_ + r else 0.0)
    acc = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / len(gold) if gold else 0.0
    return {"n": len(gold), "macro_recall": sum(rec) / 3, "macro_f1": sum(f1) / 3,
            "accuracy": acc}


@contextmanager
def one_cpu() -> Iterator[int | None]:
    """Pin this process to one CPU while timing, where the OS allows it."""
    try:
        before = os.sched_getaffinity(0)
        cpu = max(before)
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        yield None
        return
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


def _load(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def trained_on() -> dict[str, Any]:
    """What the shipped model was trained on, per language (model.json's "sources")."""
    path = os.path.join(DATA_DIR, "model.json")
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return dict(json.load(f).get("sources", {}))


def _describe(lang: str, src: dict[str, Any]) -> str:
    train = src.get("train", {})
    sets = (", ".join(f"{name} ({n:,})" for name, n in train.items())
            if isinstance(train, dict) else str(train))
    removed = src.get("removed_reported", 0) + src.get("removed_near", 0)
    return (f"{lang} model trained on {src.get('rows', 0):,} rows of {sets}, after removing "
            f"{removed:,} rows (or near copies) of the sets reported on")


def _paths(data_dir: str, sets_glob: str) -> list[str]:
    """Sets matching any of the comma-separated globs, each once, sorted."""
    found: set[str] = set()
    for g in sets_glob.split(","):
        found.update(glob.glob(os.path.join(data_dir, g.strip() + ".jsonl")))
    return sorted(found)


def _trained_hashes() -> frozenset[str]:
    path = os.path.join(DATA_DIR, "train_keys.txt")
    if not os.path.isfile(path):
        return frozenset()
    with open(path, encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def _score_set(rows: list[dict[str, Any]]) -> tuple[list[str], float]:
    """Labels, and the median texts/s of timed passes over the set (a 324-text set takes
    ~3 ms: one pass is at the mercy of the machine; the scorer keeps no cache between passes)."""
    texts = [str(r["text"]) for r in rows]
    lang = str(rows[0].get("lang") or "") or None
    for t in texts[:WARMUP_TEXTS]:
        score(t, lang)
    values = [score(t, lang) for t in texts]
    rates: list[float] = []
    spent_s = 0.0
    while len(rates) < MIN_PASSES or (spent_s < TIMING_S and len(rates) < MAX_PASSES):
        t0 = time.perf_counter()
        for t in texts:
            score(t, lang)
        elapsed_s = time.perf_counter() - t0
        spent_s += elapsed_s
        rates.append(len(texts) / elapsed_s if elapsed_s > 0 else 0.0)
    return [label(v) for v in values], statistics.median(rates)


def run(data_dir: str, sets_glob: str = "*", json_path: str | None = None,
        out: Callable[[str], object] = print) -> dict[str, Any]:
    """Score every <data_dir>/<glob>.jsonl set (comma-separated globs); print a table and what
    the model was trained on; optionally write JSON."""
    paths = _paths(data_dir, sets_glob)
    trained = _trained_hashes()
    sources = trained_on()
    result: dict[str, Any] = {"sets": {}, "cpu": None, "trained_on": sources}
    for lang, src in sorted(sources.items()):
        out(_describe(lang, src))
    out(f"{'set':<22} {'n':>6} {'macroR':>7} {'macroF1':>7} {'acc':>7} {'texts/s':>9}  seen")
    with one_cpu() as cpu:
        result["cpu"] = cpu
        for path in paths:
            rows = _load(path)
            if not rows:
                continue
            name = os.path.basename(path)[: -len(".jsonl")]
            gold = [str(r["label"]) for r in rows]
            pred, tput = _score_set(rows)
            entry: dict[str, Any] = {"lang": rows[0].get("lang"), **metrics(gold, pred),
                                     "texts_per_s": tput}
            seen = [text_hash(str(r["text"])) in trained for r in rows]
            entry["n_seen_in_training"] = sum(seen)
            entry["unseen"] = None
            if any(seen):
                keep = [i for i, s in enumerate(seen) if not s]
                entry["unseen"] = metrics([gold[i] for i in keep], [pred[i] for i in keep])
            result["sets"][name] = entry
            out(f"{name:<22} {entry['n']:>6} {entry['macro_recall'] * 100:>7.1f} "
                f"{entry['macro_f1'] * 100:>7.1f} {entry['accuracy'] * 100:>7.1f} "
                f"{tput:>9.0f}  {entry['n_seen_in_training']}")
            u = entry["unseen"]
            if u:
                out(f"{'  unseen rows only':<22} {u['n']:>6} {u['macro_recall'] * 100:>7.1f} "
                    f"{u['macro_f1'] * 100:>7.1f} {u['accuracy'] * 100:>7.1f}")
            log.info("sentiment eval set=%s n=%d macro_f1=%.4f", name, entry["n"],
                     entry["macro_f1"])
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line: python -m streams.dev.eval.sentiment --data DIR [--sets GLOB] [--json FILE]."""
    ap = argparse.ArgumentParser(prog="vigie eval sentiment", description=__doc__)
    ap.add_argument("--data", default=os.environ.get("SENTI_DATA", "../shared/eval/sentiment/data"),
                    help="folder of <set>.jsonl files")
    ap.add_argument("--sets", default="*",
                    help="glob(s) of set names, comma-separated, e.g. '*_val,airline_en'")
    ap.add_argument("--json", default=None, help="write the figures to this JSON file")
    a = ap.parse_args(argv)
    res = run(a.data, a.sets, a.json)
    if not res["sets"]:
        ap.error(f"no set matches {a.sets!r} in {a.data}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
