"""What a mapper returns, and the conversions every mapper shares (times, counts, paths)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import orjson

from streams.events.model import InvalidEvent

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NUMERIC_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
# An epoch number's unit from its magnitude (seconds until year 5138, then ms, us, ns):
# (smallest value in that unit, units per second), largest first.
_EPOCH_UNITS = ((10**17, 1_000_000_000), (10**14, 1_000_000), (10**11, 1_000))


@dataclass(frozen=True, slots=True)
class Payload:
    """One unit of input: a line, an SSE event, a websocket message, a CSV row, a document."""

    raw: bytes
    pos: int  # 0-based position of the payload in its input (the DLQ's source.offset)
    line: int | None = None  # 1-based line where it starts, for files
    event: str | None = None  # the SSE event name (Mastodon streaming), when framed as SSE
    fields: dict[str, str | None] | None = None  # a CSV row, by header
    problem: tuple[str, str] | None = None  # (reason, detail) when framing already failed


@dataclass(frozen=True, slots=True)
class Mapped:
    """A social-event.v1 document built from (part of) a payload."""

    event: dict[str, Any]
    index: int | None = None  # position in a payload holding several posts
    item: Any = None  # that post as it came, for its dead letter if the contract rejects it


@dataclass(frozen=True, slots=True)
class Skipped:
    """A payload that is no post by design (a delete, a keep-alive, another collection)."""

    kind: str


@dataclass(frozen=True, slots=True)
class Failed:
    """A payload, or one element of it, that cannot be mapped; `reason` is a DLQ reason."""

    reason: str
    detail: str
    element: bytes | None = None  # the rejected element re-serialised; None: the whole payload
    index: int | None = None


Outcome = Mapped | Skipped | Failed


def load_json(raw: bytes) -> Any:
    """Decode JSON bytes, raising InvalidEvent with the worker's reasons."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEvent("not_utf8", "payload is not UTF-8") from None
        raise InvalidEvent("invalid_json", str(exc)[:200]) from None


def element_bytes(item: Any) -> bytes | None:
    """An element of a payload re-serialised for its dead letter (None: use the payload)."""
    try:
        return orjson.dumps(item)
    except (TypeError, orjson.JSONEncodeError):
        return None


def fail(exc: InvalidEvent, item: Any = None, index: int | None = None) -> Failed:
    """A Failed outcome from a mapping error, for a whole payload or one element of it."""
    return Failed(exc.reason, exc.detail, None if index is None else element_bytes(item), index)


def iso_utc(dt: datetime) -> str:
    """RFC 3339 in UTC with a Z, milliseconds when they are whole, else microseconds."""
    dt = dt.astimezone(UTC)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    us = dt.microsecond
    if us == 0:
        return base + "Z"
    return base + (f".{us // 1000:03d}" if us % 1000 == 0 else f".{us:06d}") + "Z"


def parse_time(value: Any, key: str, tz: tzinfo = UTC) -> datetime:
    """An ISO 8601 string or epoch seconds/ms/us/ns (number or digits) as an aware datetime.

    A time without an offset is read in `tz`. Raises InvalidEvent (bad_timestamp/wrong_type).
    """
    if type(value) is str:
        text = value.strip()
        if _NUMERIC_RE.match(text):
            return _epoch(float(text) if "." in text else int(text), key)
        if text[-1:] in "zZ":  # Python 3.11 reads "Z" but not "z"
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidEvent("bad_timestamp", f"{key}: not ISO 8601 or epoch: {value[:40]!r}"
                               ) from None
        return dt if dt.tzinfo is not None else dt.replace(tzinfo=tz)
    if type(value) in (int, float):
        return _epoch(value, key)
    if value is None:
        raise InvalidEvent("missing_field", key)
    raise InvalidEvent("wrong_type", f"{key} must be a timestamp string or number")


def _epoch(value: float, key: str) -> datetime:
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidEvent("bad_timestamp", f"{key} is not a number")
    per_s = 1
    for limit, units in _EPOCH_UNITS:
        if abs(value) >= limit:
            per_s = units
            break
    try:
        # an int stays exact: no float rounding of a count of milliseconds
        us = (value * 1_000_000 // per_s if type(value) is int
              else round(value * 1_000_000 / per_s))
        return EPOCH + timedelta(microseconds=us)
    except OverflowError:
        raise InvalidEvent("bad_timestamp", f"{key} is out of range") from None


def time_field(value: Any, key: str, tz: tzinfo = UTC) -> str:
    """A timestamp in any accepted form, written the way the contract wants it."""
    return iso_utc(parse_time(value, key, tz))


def count(value: Any, key: str) -> int:
    """A non-negative count from a JSON number or digits; absent or empty gives 0."""
    if value is None or value == "":
        return 0
    if type(value) is float and value.is_integer():
        value = int(value)
    elif type(value) is str and value.strip().isdigit():
        value = int(value.strip())
    if type(value) is not int:
        raise InvalidEvent("wrong_type", f"{key} must be a count")
    if value < 0:
        raise InvalidEvent("invalid_value", f"{key}={value} is negative")
    return value


def text_of(value: Any, key: str) -> str:
    """A string field; numbers (ids often are) become their decimal text."""
    if type(value) is str:
        return value
    if type(value) in (int, float):
        return str(value)
    if value is None:
        raise InvalidEvent("missing_field", key)
    raise InvalidEvent("wrong_type", f"{key} must be a string")


def get_path(obj: Any, path: str) -> Any:
    """obj["a"]["b"] for "a.b"; None when any step is missing or not an object."""
    for part in path.split("."):
        if type(obj) is not dict:
            return None
        obj = obj.get(part)
    return obj


def unique(items: list[str]) -> list[str]:
    """Items in first-seen order without repeats or empties."""
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)
