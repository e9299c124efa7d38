"""The `vigie` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

import orjson

from streams import settings as settings_mod
from streams import topics
from streams.sources import command as ingest_command

log = logging.getLogger(__name__)


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


def cmd_worker(s: settings_mod.Settings, args: argparse.Namespace) -> int:
    """Run a Faust worker against the configured Kafka and Redis."""
    if s.embedded_kafka or s.embedded_redis:
        print("vigie worker needs VIGIE_KAFKA_BROKERS and VIGIE_REDIS_URL; for an embedded "
              "broker and Redis use `vigie demo`.", file=sys.stderr)
        return 2
    from streams.worker.app import run_worker

    log.info("starting worker settings=%s", s)
    run_worker(s)
    return 0


def cmd_demo(s: settings_mod.Settings, args: argparse.Namespace) -> int:
    """Run the embedded demo."""
    from streams.dev.demo import run_demo

    speed = None if args.as_fast_as_possible else args.speed
    n = run_demo(s.with_overrides(web_port=args.web_port or s.web_port), scenario=args.scenario,
                 speed=speed, linger_s=args.linger, seed=args.seed)
    print(f"demo finished: {n} alert emissions")
    return 0


def cmd_replay(s: settings_mod.Settings, args: argparse.Namespace) -> int:
    """Send a JSONL file to the input topic."""
    from streams.dev.replay import producer_for, replay
    from streams.outputs.clients import kafka_kwargs

    async def go() -> None:
        producer = producer_for(s.kafka_brokers, **kafka_kwargs(s))
        await producer.start()
        try:
            stats = await replay(producer, args.file, batch_size=args.batch_size,
                                 speed=None if args.as_fast_as_possible else args.speed)
        finally:
            await producer.stop()
        print(f"sent {stats.events} events in {stats.records} records, "
              f"{stats.events_per_s:,.0f} events/s")

    asyncio.run(go())
    return 0


def cmd_tail(s: settings_mod.Settings, args: argparse.Namespace) -> int:
    """Pretty-print alerts as a subscriber sees them."""
    from streams.outputs.clients import format_alert, tail_consumer

    async def go() -> None:
        topic = topics.SIGNALS.name if args.signals else topics.ALERTS.name
        consumer = tail_consumer(s, topic, from_beginning=args.from_beginning)
        await consumer.start()
        try:
            async for rec in consumer:
                doc = orjson.loads(rec.value)
                print(orjson.dumps(doc).decode() if args.json else format_alert(doc), flush=True)
        finally:
            await consumer.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())
    return 0


def cmd_topics(s: settings_mod.Settings, args: argparse.Namespace) -> int:
    """Create every Vigie topic."""
    from streams.dev.embedded import create_topics

    created = create_topics(s.kafka_brokers, [(t, s.topic_partitions) for t in topics.names()],
                            replication_factor=s.topic_replication)
    for t in topics.ALL:
        state = "created" if t.name in created else "exists"
        print(f"{t.name:24} {s.topic_partitions} partitions  {state:7}  {t.role}")
    return 0


def cmd_eval(s: settings_mod.Settings, args: argparse.Namespace) -> int:
    """Run an evaluation."""
    if args.what == "volume":
        from streams.dev.eval import volume as ev_volume

        ev_volume.run(args.nab_root, args.json)
    elif args.what == "sentiment":
        from streams.dev.eval import sentiment as ev_sentiment

        ev_sentiment.run(args.data, args.sets, args.json)
    else:
        from streams.dev.eval import alerts as ev_alerts

        try:
            ev_alerts.run(args.scenario, args.seed, args.alerts, args.truth, args.json)
        except (ValueError, OSError) as exc:
            print(f"vigie eval alerts: {exc}", file=sys.stderr)
            return 2
    return 0


def cmd_simulate(s: settings_mod.Settings, args: argparse.Namespace) -> int:
    """Generate a scenario stream and its ground truth."""
    from streams.dev import scenarios

    truth = scenarios.write(args.scenario, args.out, seed=args.seed)
    print(f"wrote {truth['events']} events to {args.out} and its truth to {args.out}.truth.json")
    return 0


def cmd_bench(s: settings_mod.Settings, args: argparse.Namespace) -> int:
    """Run the platform benchmark."""
    from streams.dev.bench import run_bench

    run_bench(s, json_path=args.json, events=args.events)
    return 0


class _Parser(argparse.ArgumentParser):
    """A bad argument is one line on stderr and exit code 2, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    """The argument parser; --help lists every VIGIE_* setting."""
    p = _Parser(prog="vigie", description="Vigie: real-time social-media "
                                "monitoring (bad buzz, crisis, mobilisation).",
                                epilog=settings_mod.help_text(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("worker", help="Faust worker on real Kafka/Redis (workers share partitions)")
    d = sub.add_parser("demo", help="embedded broker + Redis + worker + sample scenario")
    d.add_argument("--scenario", default="bank-bad-buzz")
    d.add_argument("--speed", type=float, default=3600.0, help="event time N times faster")
    d.add_argument("--as-fast-as-possible", action="store_true")
    d.add_argument("--linger", type=float, default=20.0, help="seconds to wait after replay")
    d.add_argument("--web-port", type=int, default=0, help="worker web port (0: settings)")
    d.add_argument("--seed", type=int, default=7)
    r = sub.add_parser("replay", help="send FILE.jsonl to the input topic in batched records")
    r.add_argument("file")
    r.add_argument("--speed", type=float, default=1.0, help="keep event-time gaps, N x faster")
    r.add_argument("--as-fast-as-possible", action="store_true", help="ignore event-time gaps")
    r.add_argument("--batch-size", type=int, default=500, help="events per record")
    t = sub.add_parser("tail-alerts", help="subscribe to the situations (social.alerts) and "
                                           "pretty-print them")
    t.add_argument("--from-beginning", action="store_true",
                   help="read the topic from its start, not only what comes next")
    t.add_argument("--json", action="store_true", help="print the raw JSON documents")
    t.add_argument("--signals", action="store_true",
                   help="tail each detector's signals (social.signals, signal.v1) instead")
    tp = sub.add_parser("topics", help="topic administration")
    tp.add_argument("action", choices=["create"])
    e = sub.add_parser("eval", help="evaluations on labelled data and scenarios")
    e.add_argument("what", choices=["volume", "sentiment", "alerts"],
                   help="volume: NAB; sentiment: labelled tweets; alerts: situations and "
                        "signals of a scenario against its ground truth")
    e.add_argument("--nab-root", default="../shared/eval/nab")
    e.add_argument("--data", default="../shared/eval/sentiment/data")
    e.add_argument("--sets", default="*")
    e.add_argument("--scenario", default="night-waves",
                   help="alerts: the built-in scenario to replay offline")
    e.add_argument("--seed", type=int, default=7, help="alerts: the scenario's seed")
    e.add_argument("--alerts", default=None,
                   help="alerts: score this alert file (JSON lines or array) instead")
    e.add_argument("--truth", default=None, help="alerts: the .truth.json of --alerts")
    e.add_argument("--json", default=None)
    sm = sub.add_parser("simulate", help="generate a scenario stream with its ground truth")
    sm.add_argument("--scenario", default="bank-bad-buzz",
                    help="bank-bad-buzz, quiet-days, quiet-week, crisis-week, mobilisation, "
                         "night-waves, two-fronts")
    sm.add_argument("--out", required=True)
    sm.add_argument("--seed", type=int, default=7)
    ingest_command.add_parser(sub)
    b = sub.add_parser("bench", help="platform benchmark on the embedded broker")
    b.add_argument("--json", default=None)
    b.add_argument("--events", type=int, default=300_000)
    return p


COMMANDS = {"worker": cmd_worker, "demo": cmd_demo, "replay": cmd_replay,
            "tail-alerts": cmd_tail, "topics": cmd_topics, "eval": cmd_eval,
            "simulate": cmd_simulate, "bench": cmd_bench, "ingest": ingest_command.run}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `vigie` command."""
    args = parser().parse_args(argv)
    s = settings_mod.load()
    _setup_logging(s.log_level)
    return COMMANDS[args.command](s, args)


if __name__ == "__main__":
    sys.exit(main())
