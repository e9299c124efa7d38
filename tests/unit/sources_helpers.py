"""Shared by the tests of streams/sources: fixtures, framing, outcomes, the contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from streams.events.schemas import validator
from streams.sources.common import Failed, Mapped, Outcome, Payload, Skipped
from streams.sources.framing import csv_payloads, json_payloads

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"


def payloads(path: Path, csv: bool = False, sse: bool = False) -> list[Payload]:
    """A fixture file cut into payloads as `vigie ingest` cuts it."""
    with path.open("rb") as fh:
        return list(csv_payloads(fh) if csv else json_payloads(fh, sse=sse))


def outcomes(mapper: Callable[[Payload], list[Outcome]], path: Path, **kw: Any
             ) -> list[tuple[Payload, Outcome]]:
    """Every (payload, outcome) of a fixture file."""
    return [(p, o) for p in payloads(path, **kw) for o in mapper(p)]


def events(outs: list[tuple[Payload, Outcome]]) -> list[dict[str, Any]]:
    """The mapped events, each checked against the social-event.v1 JSON Schema."""
    evs = [o.event for _, o in outs if isinstance(o, Mapped)]
    schema = validator("social-event.v1")
    for ev in evs:
        errors = [e.message for e in schema.iter_errors(ev)]
        assert not errors, (ev.get("id"), errors)
    return evs


def reasons(outs: list[tuple[Payload, Outcome]]) -> list[str]:
    """Dead-letter reasons, in input order."""
    return [o.reason for _, o in outs if isinstance(o, Failed)]


def skipped(outs: list[tuple[Payload, Outcome]]) -> list[str]:
    """Skipped kinds, in input order."""
    return [o.kind for _, o in outs if isinstance(o, Skipped)]
