"""`vigie ingest` on the command line: help on every option, one-line errors, exit codes."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from streams import cli
from tests.unit.sources_helpers import FIXTURES


def _run(argv: list[str], capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    for key in list(os.environ):
        if key.startswith("VIGIE_"):
            monkeypatch.delenv(key)
    try:
        code = cli.main(["ingest", *argv])
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_every_option_has_help() -> None:
    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    ingest = sub.choices["ingest"]
    for action in ingest._actions:
        assert action.help and action.help.strip(), action.dest
    assert {"--from", "--map", "--map-file", "--out", "--max-events"} <= {
        o for a in ingest._actions for o in a.option_strings}


@pytest.mark.parametrize(("argv", "message"), [
    (["--from", "nope", "f"], "argument --from: invalid choice: 'nope'"),
    (["f"], "the following arguments are required: --from"),
    (["--from", "x", "/nonexistent/posts.jsonl"], "cannot read /nonexistent/posts.jsonl: No "
     "such file or directory"),
    (["--from", "x", "/"], "cannot read /: Is a directory"),
    (["--from", "x", "--batch-size", "zero"], "argument --batch-size: invalid int value"),
    (["--from", "x", "--batch-size", "0", "-"], "--batch-size must be at least 1"),
    (["--from", "x", "--bogus"], "unrecognized arguments: --bogus"),
    (["--from", "x", "--map", "text=body", "-"], "--map apply to jsonl and csv, not --from x"),
    (["--from", "x", "https://api.x.com/2/tweets/search/stream"],
     "--from x reads a file or stdin, not a URL"),
    (["--from", "bluesky", "https://jetstream2.us-east.bsky.network/subscribe"],
     "a Bluesky live source is a Jetstream ws:// or wss:// URL"),
    (["--from", "mastodon", "--cursor", "12", "https://m.example/api/v1/streaming/public"],
     "--cursor applies to a Bluesky Jetstream URL"),
    (["--from", "csv", "--map", "text=body", "-"], "the mapping needs created_at"),
    (["--from", "csv", "--map", "text=b,created_at=c,author.id=a,colour=d", "-"],
     "unknown target field 'colour'"),
    (["--from", "jsonl", "--map-file", "/nonexistent.toml", "-"],
     "cannot read mapping file /nonexistent.toml"),
    (["--from", "csv", "--map", "text=b,created_at=c,author.id=a", "--tz", "Nowhere/City",
      "-"], "unknown time zone 'Nowhere/City'"),
    (["--from", "csv", "--map", "text=b,created_at=c,author.id=a", "--delimiter", ";;", "-"],
     "--delimiter must be one character"),
    (["--from", "x", str(FIXTURES / "x" / "stream.jsonl")],
     "vigie ingest produces to Kafka: set VIGIE_KAFKA_BROKERS, or write a file with --out"),
])
def test_bad_arguments_are_one_line_and_exit_2(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _run(argv, capsys, monkeypatch)
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert err.startswith(("vigie ingest: error: ", "vigie: error: ")) and out == ""


def test_out_writes_events_and_dead_letters(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    out_path = tmp_path / "events.jsonl"
    code, out, err = _run(["--from", "mastodon", str(FIXTURES / "mastodon" / "statuses.json"),
                           "--out", str(out_path)], capsys, monkeypatch)
    assert code == 0, err
    assert out == (f"ingest mastodon: read 1 payload, mapped 4 events, skipped 0, "
                   f"dead-lettered 1 (missing_field=1); sent 1 record to {out_path} and "
                   f"1 dead letter to {out_path}.dlq.jsonl\n")
    lines = out_path.read_bytes().splitlines()
    assert [orjson.loads(x)["platform"] for x in lines] == ["mastodon"] * 4
    (dead,) = (tmp_path / "events.jsonl.dlq.jsonl").read_bytes().splitlines()
    assert orjson.loads(dead)["source"] == {"topic": "ingest:mastodon", "partition": 0,
                                            "offset": 0, "index": 4}


def test_stdin_and_exit_codes_in_a_real_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    data = (FIXTURES / "bluesky" / "jetstream.jsonl").read_bytes()
    out_path = tmp_path / "b.jsonl"
    done = subprocess.run([sys.executable, "-m", "streams.cli", "ingest", "--from", "bluesky",
                           "-", "--out", str(out_path)], input=data, capture_output=True,
                          env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert b"mapped 3 events" in done.stdout and len(out_path.read_bytes().splitlines()) == 3
    bad = subprocess.run([sys.executable, "-m", "streams.cli", "ingest", "--from", "csv",
                          str(tmp_path / "missing.csv"), "--map", "text=a,created_at=b,"
                          "author.id=c"], capture_output=True, env=env, timeout=60,
                         check=False)
    assert bad.returncode == 2 and bad.stdout == b""
    assert bad.stderr.decode().splitlines() == [
        f"vigie ingest: error: cannot read {tmp_path / 'missing.csv'}: No such file or "
        "directory"]


def test_the_ingest_token_is_a_masked_setting() -> None:
    from streams import settings as S

    s = S.load(env={"VIGIE_INGEST_TOKEN": "tok-s3cret"})
    assert s.ingest_token == "tok-s3cret"
    assert "tok-s3cret" not in repr(s) and "VIGIE_INGEST_TOKEN" in S.help_text()


def test_an_unreachable_broker_is_one_line_and_exit_1(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.dev.embedded import free_port

    for key in list(os.environ):
        if key.startswith("VIGIE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("VIGIE_KAFKA_BROKERS", f"127.0.0.1:{free_port()}")
    code = cli.main(["ingest", "--from", "x", str(FIXTURES / "x" / "stream.jsonl")])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert [line for line in err.splitlines() if line.startswith("vigie ingest")] == [
        line for line in err.splitlines() if "Unable to bootstrap" in line]
