"""Generic JSONL and CSV posts with a field mapping (`--map text=body,created_at=ts,...`).

A mapping names, for each social-event.v1 field (the target), the column or the dotted JSON
path that holds it (the source), or a constant. Timestamps may be ISO 8601 or epoch
seconds/ms; a time without an offset is read in the mapping's time zone (UTC by default).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from streams.events.model import InvalidEvent
from streams.sources.common import (
    Failed,
    Mapped,
    Outcome,
    Payload,
    count,
    fail,
    get_path,
    load_json,
    text_of,
    time_field,
    unique,
)

# target -> kind of value; the names are social-event.v1's, nested ones dotted
TARGETS: dict[str, str] = {
    "id": "str", "platform": "str", "created_at": "time", "text": "str", "lang": "str",
    "url": "str", "reply_to": "str", "repost_of": "str", "sentiment": "float",
    "author.id": "str", "author.handle": "handle", "author.followers": "count",
    "author.verified": "bool", "author.bio": "str", "author.created_at": "time",
    "hashtags": "list", "mentions": "list", "urls": "list",
    "metrics.likes": "count", "metrics.reposts": "count", "metrics.replies": "count",
}
DEFAULT_PLATFORM = "other"
_SPLIT_RE = re.compile(r"[\s,;|]+")
_TRUE = frozenset({"true", "yes", "y", "1", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "f", ""})


class MappingError(ValueError):
    """A mapping that cannot work (unknown target, missing required field, bad file)."""


@dataclass(frozen=True)
class FieldMap:
    """Where each target comes from: a source field or a constant."""

    fields: dict[str, str] = field(default_factory=dict)
    consts: dict[str, Any] = field(default_factory=dict)
    tz: tzinfo = UTC


def parse_spec(spec: str) -> dict[str, str]:
    """`text=body,author.handle=user` as {target: source}."""
    out: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        target, sep, source = part.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise MappingError(f"--map expects TARGET=SOURCE pairs, got {part.strip()!r}")
        out[target.strip()] = source.strip()
    return out


def _zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"unknown time zone {name!r} (e.g. UTC, Europe/Paris)") from None


def load_file(path: str) -> tuple[dict[str, str], dict[str, Any], str | None]:
    """A TOML mapping file: `[map]` target = source, `[const]` target = value, `tz` = zone."""
    try:
        with Path(path).open("rb") as fh:
            doc = tomllib.load(fh)
    except OSError as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping file {path} is not TOML: {exc}") from None
    unknown = sorted(set(doc) - {"map", "const", "tz"})
    if unknown:
        raise MappingError(f"mapping file {path}: unknown keys {', '.join(unknown)} "
                           "(expected [map], [const], tz)")
    fields, consts = doc.get("map", {}), doc.get("const", {})
    if type(fields) is not dict or not all(type(v) is str for v in fields.values()):
        raise MappingError(f"mapping file {path}: [map] holds target = \"source\" strings")
    if type(consts) is not dict:
        raise MappingError(f"mapping file {path}: [const] must be a table")
    tz = doc.get("tz")
    return fields, consts, tz if type(tz) is str else None


def build(specs: list[str], path: str | None = None, platform: str | None = None,
          tz: str | None = None) -> FieldMap:
    """The mapping from --map specs (which win), a mapping file, --platform and --tz."""
    fields: dict[str, str] = {}
    consts: dict[str, Any] = {}
    zone = None
    if path:
        fields, consts, zone = load_file(path)
    for spec in specs:
        fields.update(parse_spec(spec))
    if platform:
        consts["platform"] = platform
    for target in [*fields, *consts]:
        if target not in TARGETS:
            raise MappingError(f"unknown target field {target!r}; targets: "
                               + ", ".join(TARGETS))
    have = set(fields) | set(consts)
    missing = [t for t in ("text", "created_at") if t not in have]
    if "author.handle" not in have and "author.id" not in have:
        missing.append("author.handle (or author.id)")
    if missing:
        raise MappingError("the mapping needs " + ", ".join(missing)
                           + " (e.g. --map text=body,created_at=date,author.handle=user)")
    return FieldMap(fields, consts, _zone(tz or zone or "UTC"))


def _bool(value: Any, key: str) -> bool:
    if type(value) is bool:
        return value
    if type(value) in (int, str) and str(value).strip().lower() in _TRUE | _FALSE:
        return str(value).strip().lower() in _TRUE
    raise InvalidEvent("wrong_type", f"{key} must be a boolean")


def _list(value: Any, key: str) -> list[str]:
    if type(value) is list:
        items = [text_of(v, key) for v in value]
    elif type(value) is str:
        items = _SPLIT_RE.split(value)
    else:
        raise InvalidEvent("wrong_type", f"{key} must be a list or a string")
    return unique([i.strip().lstrip("#@") for i in items])


def _float(value: Any, key: str) -> float:
    if type(value) in (int, float):
        return float(value)
    if type(value) is str:
        try:
            return float(value)
        except ValueError:
            pass
    raise InvalidEvent("wrong_type", f"{key} must be a number")


class TabularMapper:
    """Maps JSONL objects (dotted paths) or CSV rows (column names) with a FieldMap."""

    def __init__(self, fm: FieldMap, csv: bool) -> None:
        self.fm = fm
        self.csv = csv

    def __call__(self, p: Payload) -> list[Outcome]:
        """Outcomes of one line (an object or an array of objects) or one CSV row."""
        if p.problem is not None:
            return [Failed(*p.problem)]
        if self.csv:
            row = p.fields or {}
            try:
                return [Mapped(self.event(lambda c: row.get(c), p.raw))]
            except InvalidEvent as exc:
                return [fail(exc)]
        try:
            doc = load_json(p.raw)
        except InvalidEvent as exc:
            return [fail(exc)]
        if type(doc) is not list:
            doc, one = [doc], True
        else:
            one = False
        out: list[Outcome] = []
        for i, item in enumerate(doc):
            try:
                if type(item) is not dict:
                    raise InvalidEvent("not_an_object", "a post must be a JSON object")
                ev = self.event(_getter(item), p.raw if one else orjson.dumps(item))
                out.append(Mapped(ev, None, None) if one else Mapped(ev, i, item))
            except InvalidEvent as exc:
                out.append(fail(exc, item, None if one else i))
        return out

    def value(self, target: str, lookup: Callable[[str], Any]) -> Any:
        """The converted value of a target, or None when unmapped or empty."""
        if target in self.fm.consts:
            raw = self.fm.consts[target]
        elif target in self.fm.fields:
            raw = lookup(self.fm.fields[target])
        else:
            return None
        if raw is None or raw == "":
            return None
        key = f"{target} ({self.fm.fields.get(target, 'constant')})"
        kind = TARGETS[target]
        if kind == "time":
            return time_field(raw, key, self.fm.tz)
        if kind == "count":
            return count(raw, key)
        if kind == "bool":
            return _bool(raw, key)
        if kind == "list":
            return _list(raw, key)
        if kind == "float":
            return _float(raw, key)
        text = text_of(raw, key)
        return text.lstrip("@") if kind == "handle" else text

    def event(self, lookup: Callable[[str], Any], raw: bytes) -> dict[str, Any]:
        """One post as a social-event.v1 document."""
        v = {t: self.value(t, lookup) for t in TARGETS}
        for target in ("text", "created_at"):
            if v[target] is None:
                raise InvalidEvent("missing_field", f"{target} ({self.fm.fields.get(target)})")
        handle = v["author.handle"] or v["author.id"]
        if handle is None:
            raise InvalidEvent("missing_field", "author.handle")
        ev: dict[str, Any] = {
            # no id mapped: a digest of the post's bytes, the same on every run
            "id": v["id"] or hashlib.sha256(raw).hexdigest()[:32],
            "platform": v["platform"] or DEFAULT_PLATFORM,
            "created_at": v["created_at"],
            "author": {"id": v["author.id"] or handle, "handle": handle,
                       "followers": v["author.followers"] or 0,
                       "verified": bool(v["author.verified"])},
            "text": v["text"],
        }
        for target in ("author.bio", "author.created_at"):
            if v[target] is not None:
                ev["author"][target.split(".")[1]] = v[target]
        for target in ("lang", "url", "reply_to", "repost_of", "sentiment", "hashtags",
                       "mentions", "urls"):
            if v[target] is not None:
                ev[target] = v[target]
        metrics = {t.split(".")[1]: v[t] for t in ("metrics.likes", "metrics.reposts",
                                                    "metrics.replies") if v[t] is not None}
        if metrics:
            ev["metrics"] = metrics
        return ev


def _getter(item: dict[str, Any]) -> Callable[[str], Any]:
    """Looks a dotted path up in one JSON object."""
    return lambda path: get_path(item, path)
