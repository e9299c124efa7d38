"""The evaluation command on a tiny dataset written to a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.dev.eval.sentiment import main, metrics, run, text_hash, text_key

ROWS_EN = [
    ("I love this, best purchase ever!", "positive"),
    ("Worst service ever, I hate it", "negative"),
    ("The store opens at 9am on Monday", "neutral"),
    ("Great job, thank you so much :)", "positive"),
]
ROWS_FR = [
    ("J'adore, c'est génial !", "positive"),
    ("C'est nul, quelle arnaque", "negative"),
    ("Le magasin ouvre à 9h lundi", "neutral"),
]


def _write(path: Path, rows: list[tuple[str, str]], lang: str) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i, (text, lab) in enumerate(rows):
            f.write(json.dumps({"id": str(i), "text": text, "label": lab, "lang": lang}) + "\n")


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    _write(tmp_path / "tiny_en_val.jsonl", ROWS_EN, "en")
    _write(tmp_path / "tiny_fr_val.jsonl", ROWS_FR, "fr")
    _write(tmp_path / "other_test.jsonl", ROWS_EN[:2], "en")
    return tmp_path


def test_run_gives_figures_per_set_and_writes_json(data_dir: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    out_json = tmp_path / "out.json"
    res = run(str(data_dir), "*_val", str(out_json), out=lines.append)
    assert set(res["sets"]) == {"tiny_en_val", "tiny_fr_val"}
    en = res["sets"]["tiny_en_val"]
    assert en["n"] == len(ROWS_EN)
    assert en["lang"] == "en"
    for key in ("macro_recall", "macro_f1", "accuracy"):
        assert 0.0 <= en[key] <= 1.0
    assert en["accuracy"] >= 0.75  # these rows are unambiguous
    assert en["texts_per_s"] > 0
    assert en["n_seen_in_training"] == 0 and en["unseen"] is None
    assert json.loads(out_json.read_text()) == json.loads(json.dumps(res))
    assert any(line.startswith("tiny_fr_val") for line in lines)


def test_main_parses_arguments(data_dir: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "cli.json"
    assert main(["--data", str(data_dir), "--sets", "other_*", "--json", str(out_json)]) == 0
    assert list(json.loads(out_json.read_text())["sets"]) == ["other_test"]


def test_main_rejects_a_glob_matching_nothing(data_dir: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--data", str(data_dir), "--sets", "nothing_here"])


def test_metrics_known_values() -> None:
    gold = ["positive", "negative", "neutral", "neutral"]
    pred = ["positive", "neutral", "neutral", "neutral"]
    m = metrics(gold, pred)
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["macro_recall"] == pytest.approx((1 + 0 + 1) / 3)
    assert m["macro_f1"] == pytest.approx((1 + 0 + 0.8) / 3)


def test_text_hash_ignores_case_and_punctuation() -> None:
    assert text_hash("Hello, World!") == text_hash("hello world")
    assert text_hash("hello") != text_hash("goodbye")


def test_text_key_ignores_what_tweet_dumps_rewrite() -> None:
    raw = "RT @VirginAmerica: I’m stuck at http://t.co/abc123 &amp; it's awful"
    dumped = "@user I'm stuck at http & it's awful"  # UMSAB: @user, bare http
    assert text_key(raw) == text_key(dumped) == text_key("I'm stuck at & it's awful")
    assert text_hash(raw) == text_hash(dumped)
    assert text_key("bad\\u2019s") == text_key("bad’s")
    assert text_hash("stuck at the airport") != text_hash("stuck at the station")


def test_sets_take_several_globs_each_once(data_dir: Path) -> None:
    res = run(str(data_dir), "tiny_en_val, *_val,other_test", out=lambda _: None)
    assert sorted(res["sets"]) == ["other_test", "tiny_en_val", "tiny_fr_val"]


def test_run_says_what_the_model_was_trained_on(data_dir: Path) -> None:
    lines: list[str] = []
    res = run(str(data_dir), "tiny_en_val", out=lines.append)
    assert set(res["trained_on"]) == {"en", "fr"}
    assert any(line.startswith("en model trained on") for line in lines)
    assert any(line.startswith("fr model trained on") for line in lines)
