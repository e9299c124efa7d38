"""`vigie ingest`: its options, their checks (one line and exit code 2 when wrong), the run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from streams import topics
from streams.settings import Settings

log = logging.getLogger(__name__)
FORMATS = ("x", "bluesky", "mastodon", "jsonl", "csv")
EPILOG = """\
formats:
  x         X API v2: filtered/sampled stream lines and search responses (data + includes.users)
  bluesky   Bluesky Jetstream events (app.bsky.feed.post creates), a file or a wss:// URL
  mastodon  Mastodon statuses (REST array or one a line) and streaming events, a file, an
            https:// SSE URL or a wss:// websocket URL (VIGIE_INGEST_TOKEN: a user token)
  jsonl     one JSON object a line, fields named by --map / --map-file
  csv       a CSV file with a header, columns named by --map / --map-file

examples:
  vigie ingest --from x stream.jsonl
  curl -sN -H "Authorization: Bearer $X_BEARER" \\
    'https://api.x.com/2/tweets/search/stream?expansions=author_id&tweet.fields=created_at,lang,\\
public_metrics,entities,referenced_tweets&user.fields=public_metrics,verified,created_at,\\
description' | vigie ingest --from x -
  vigie ingest --from bluesky \\
    'wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post'
  vigie ingest --from mastodon https://mastodon.social/api/v1/streaming/public
  vigie ingest --from csv posts.csv --platform forum \\
    --map text=body,created_at=date,author.handle=user,author.followers=followers
  vigie ingest --from jsonl export.jsonl --map-file mapping.toml --out events.jsonl

Dead letters (dead-letter.v1) go to the DLQ topic with source.topic "ingest:FORMAT" and
source.offset the payload's position in the input. A summary line ends every run."""


class UsageError(Exception):
    """A bad argument, file or setting: one line on stderr, exit code 2."""


def add_parser(sub: Any) -> None:
    """Declare `vigie ingest` and its options on the `vigie` subcommands."""
    p = sub.add_parser(
        "ingest", help="map platform payloads to social-event.v1 and produce them",
        description="Map X, Bluesky, Mastodon or generic JSONL/CSV posts to social-event.v1 "
        "and produce them to the input topic in batched records, with a dead letter for "
        "each payload that cannot be mapped.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", nargs="?", default="-", metavar="FILE|-|URL",
                   help="a file, - for stdin (the default), or a live URL (bluesky: ws[s]://"
                   " Jetstream; mastodon: http[s]:// SSE or ws[s]:// websocket streaming)")
    p.add_argument("--from", dest="fmt", required=True, choices=FORMATS, metavar="FORMAT",
                   help="payload format: " + ", ".join(FORMATS))
    p.add_argument("--map", action="append", default=[], metavar="TARGET=SOURCE,...",
                   help="jsonl/csv: which column (csv) or dotted JSON path (jsonl) holds each "
                   "social-event.v1 field, e.g. text=body,created_at=ts,author.handle=user; "
                   "needs text, created_at and author.handle or author.id")
    p.add_argument("--map-file", metavar="FILE",
                   help="jsonl/csv: a TOML mapping ([map] target = \"source\", [const] "
                   "target = value, tz = \"Europe/Paris\"); --map entries win")
    p.add_argument("--platform", metavar="SLUG",
                   help="jsonl/csv: platform of every post when no field gives it "
                   "(default: other)")
    p.add_argument("--tz", metavar="ZONE",
                   help="jsonl/csv: time zone of timestamps without an offset (default UTC)")
    p.add_argument("--delimiter", default=",", metavar="CHAR",
                   help="csv: the field delimiter (default ,)")
    p.add_argument("--batch-size", type=int, default=500, metavar="N",
                   help="events per Kafka record, a JSON array as vigie replay sends "
                   "(default 500; a record also stays under 900 KiB)")
    p.add_argument("--out", metavar="FILE",
                   help="write the events as JSONL to FILE (ready for vigie replay) and the "
                   "dead letters to FILE.dlq.jsonl instead of producing to Kafka")
    p.add_argument("--max-events", type=int, metavar="N",
                   help="stop after N mapped events (a live URL otherwise runs until "
                   "Ctrl-C or SIGTERM)")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--cursor", type=int, metavar="TIME_US",
                   help="bluesky URL: start from this Jetstream time_us (the summary prints "
                   "the last one, to resume a stopped run)")
    p.add_argument("--rewind", type=float, default=2.0, metavar="S",
                   help="bluesky URL: on reconnect, replay from S seconds before the last "
                   "time_us so no event is missed; replayed posts are dropped (default 2)")
    p.add_argument("--max-retries", type=int, default=0, metavar="N",
                   help="live URL: give up after N failed reconnects in a row (default 0: "
                   "never; waits grow from 0.5 s to 30 s)")


@dataclass(frozen=True)
class Plan:
    """A checked command line: what to read, how to map it, where to send it."""

    fmt: str
    source: str
    live_kind: str | None  # jetstream, mastodon-sse, mastodon-ws; None for a file or stdin
    mapper: Any
    fh: BinaryIO | None


def _live_kind(fmt: str, source: str) -> str | None:
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    if scheme not in ("ws", "wss", "http", "https"):
        return None
    if fmt == "bluesky":
        if scheme not in ("ws", "wss"):
            raise UsageError("a Bluesky live source is a Jetstream ws:// or wss:// URL")
        return "jetstream"
    if fmt == "mastodon":
        return "mastodon-ws" if scheme in ("ws", "wss") else "mastodon-sse"
    raise UsageError(f"--from {fmt} reads a file or stdin, not a URL (live URLs: bluesky, "
                     "mastodon; for X, pipe the stream: curl ... | vigie ingest --from x -)")


def _mapper(fmt: str, args: argparse.Namespace) -> Any:
    from streams.sources import bluesky, mastodon, tabular, x

    if fmt not in ("jsonl", "csv"):
        used = [o for o, v in (("--map", args.map), ("--map-file", args.map_file),
                               ("--platform", args.platform), ("--tz", args.tz)) if v]
        if used:
            raise UsageError(f"{', '.join(used)} apply to jsonl and csv, not --from {fmt}")
        return {"x": x.XMapper, "bluesky": bluesky.BlueskyMapper,
                "mastodon": lambda: mastodon.map_payload}[fmt]()
    try:
        fm = tabular.build(args.map, args.map_file, args.platform, args.tz)
    except tabular.MappingError as exc:
        raise UsageError(str(exc)) from None
    return tabular.TabularMapper(fm, csv=fmt == "csv")


def plan(args: argparse.Namespace) -> Plan:
    """Check the arguments; raise UsageError with one line when one is wrong."""
    fmt, source = args.fmt, args.source
    for name in ("batch_size", "max_events"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.duration is not None and args.duration <= 0:
        raise UsageError("--duration must be positive")
    if args.rewind < 0 or args.max_retries < 0:
        raise UsageError("--rewind and --max-retries cannot be negative")
    if len(args.delimiter) != 1:
        raise UsageError("--delimiter must be one character")
    kind = _live_kind(fmt, source)
    if kind != "jetstream" and args.cursor is not None:
        raise UsageError("--cursor applies to a Bluesky Jetstream URL")
    mapper = _mapper(fmt, args)
    fh = None
    if kind is None:
        from streams.sources.framing import open_input

        try:
            fh = open_input(source)
        except OSError as exc:
            raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
    return Plan(fmt, source, kind, mapper, fh)


def _payloads(p: Plan, args: argparse.Namespace) -> Iterator[Any]:
    from streams.sources.framing import csv_payloads, json_payloads

    assert p.fh is not None
    try:
        if p.fmt == "csv":
            yield from csv_payloads(p.fh, args.delimiter)
        else:
            yield from json_payloads(p.fh, sse=p.fmt == "mastodon")
    finally:
        if p.fh is not sys.stdin.buffer:
            p.fh.close()


def _limits(s: Settings) -> Any:
    from streams.events.decode import Limits

    return Limits(max_record_bytes=s.max_record_bytes, max_batch_events=s.max_batch_events,
                  max_text_chars=s.max_text_chars, max_clock_skew_s=s.max_clock_skew_s,
                  min_event_ts=datetime(s.min_event_year, 1, 1, tzinfo=UTC).timestamp(),
                  allowed_lateness_s=s.allowed_lateness_s)


async def _sink(s: Settings, args: argparse.Namespace) -> Any:
    from streams.sources.sinks import FileSink, KafkaSink, producer

    if args.out:
        try:
            return FileSink(args.out)
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    from streams.outputs.clients import kafka_kwargs

    client = producer(s.kafka_brokers, **kafka_kwargs(s))
    try:
        await client.start()
    except BaseException:
        await client.stop()
        raise
    return KafkaSink(client, topics.EVENTS.name, topics.DLQ.name)


async def _main(s: Settings, args: argparse.Namespace, p: Plan) -> None:
    from streams.sources.framing import more_ready, pump
    from streams.sources.live import Backoff, LiveSource
    from streams.sources.run import Ingest, drive, plural

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=64)
    sink = await _sink(s, args)
    ingest = Ingest(p.fmt, p.mapper, sink, _limits(s), batch_size=args.batch_size,
                    dedup=p.live_kind is not None)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    live: LiveSource | None = None
    reader: asyncio.Task[None] | None = None
    thread_stop = threading.Event()
    errors: list[BaseException] = []
    if p.live_kind is not None:
        live = LiveSource(p.source, p.live_kind, token=s.ingest_token, cursor=args.cursor,
                          rewind_s=args.rewind, backoff=Backoff(),
                          max_retries=args.max_retries)
        reader = asyncio.create_task(live.run(queue, stop))
    else:
        assert p.fh is not None
        threading.Thread(target=pump, daemon=True, name="ingest-reader", args=(
            _payloads(p, args), queue, loop, thread_stop, more_ready(p.fh), errors)).start()
    driver = asyncio.create_task(drive(ingest, queue, stop, max_events=args.max_events,
                                       deadline=deadline))
    failure: BaseException | None = None
    try:
        if reader is not None:
            await asyncio.wait({driver, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader.done() and reader.exception() is not None:
                failure = reader.exception()
                stop.set()
        await driver
    finally:
        stop.set()
        thread_stop.set()
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        await sink.close()
    extra = ""
    if live is not None:
        extra = f"; {plural(live.state.reconnects, 'reconnect')}"
        if live.state.cursor is not None:
            extra += f", last cursor {live.state.cursor}"
    events_to, dead_to = topics.EVENTS.name, topics.DLQ.name
    if args.out:
        events_to, dead_to = args.out, f"{args.out}.dlq.jsonl"
    print(ingest.stats.summary(events_to, dead_to, extra), flush=True)  # even if cut short
    if failure is not None:
        raise failure
    if errors:
        raise UsageError(f"reading {p.source} failed: {errors[0]}")


def run(s: Settings, args: argparse.Namespace) -> int:
    """Run `vigie ingest`; 0 when done, 2 for a bad argument, input, URL or token, 1 when
    Kafka fails or a live source's retries run out."""
    from aiokafka.errors import KafkaError

    from streams.sources.live import SourceError

    try:
        p = plan(args)
        if not args.out and s.embedded_kafka:
            raise UsageError("vigie ingest produces to Kafka: set VIGIE_KAFKA_BROKERS, or "
                             "write a file with --out FILE")
        asyncio.run(_main(s, args, p))
    except (UsageError, SourceError) as exc:
        print(f"vigie ingest: error: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, SourceError) and exc.gave_up else 2
    except KafkaError as exc:
        print(f"vigie ingest: Kafka at {s.kafka_brokers}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"vigie ingest: {exc}", file=sys.stderr)
        return 1
    return 0
