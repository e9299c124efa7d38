"""Watch definitions: the frozen ``Watch`` record, its validation and the TOML loader."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.text.normalize import fold, fold_tag, tokens

__all__ = ["Watch", "WatchConfigError", "load_watches", "validate_watches"]

# The id is a Prometheus label value, so it is a short slug (bounded, no free text).
_ID_RE = re.compile(r"[a-z0-9_-]{1,64}")
# Handles and hashtags are single tokens once '#'/'@' is stripped.
_TAG_RE = re.compile(r"\w+")


class WatchConfigError(ValueError):
    """A watch definition is invalid; the message names the watch and the field."""


@dataclass(frozen=True)
class Watch:
    """A watched brand or topic: what makes a post relevant to it, plus context for detectors."""

    id: str
    name: str
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    owned_accounts: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    timezone: str = "UTC"
    influencers: tuple[str, ...] = ()
    roster: tuple[str, ...] = ()
    bio_cues: tuple[str, ...] = ()
    advocacy_url_patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _validate(self)


_TUPLE_FIELDS = frozenset(f.name for f in fields(Watch) if f.name not in {"id", "name", "timezone"})
_KNOWN_KEYS = frozenset(f.name for f in fields(Watch))
# Fields whose items are account handles or hashtags: stored without their '@'/'#' prefix.
_PREFIXED_FIELDS = frozenset({"hashtags", "handles", "owned_accounts", "influencers", "roster"})


def _fail(watch_id: object, message: str) -> WatchConfigError:
    return WatchConfigError(f"watch {watch_id!r}: {message}")


def _validate(watch: Watch) -> None:
    if not isinstance(watch.id, str) or _ID_RE.fullmatch(watch.id) is None:
        raise _fail(watch.id, "id must match [a-z0-9_-]{1,64} (it is a metric label value)")
    if watch.id.startswith("_"):
        raise _fail(watch.id, "ids starting with '_' are reserved (e.g. _global, every post)")
    if not isinstance(watch.name, str) or not watch.name.strip():
        raise _fail(watch.id, "name must be a non-empty string")
    for name in _TUPLE_FIELDS:
        value = getattr(watch, name)
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise _fail(watch.id, f"{name} must be a list of strings")
    if not (watch.keywords or watch.hashtags or watch.handles or watch.owned_accounts):
        raise _fail(
            watch.id, "needs at least one match term (keywords, hashtags, handles, owned_accounts)"
        )
    for name in ("keywords", "exclude"):
        for phrase in getattr(watch, name):
            if not tokens(fold(phrase)):
                raise _fail(watch.id, f"{name} entry {phrase!r} has no word characters")
    for name in ("hashtags", "handles", "owned_accounts", "influencers", "roster"):
        for tag in getattr(watch, name):
            if _TAG_RE.fullmatch(fold_tag(tag)) is None:
                raise _fail(watch.id, f"{name} entry {tag!r} must be a single word (letters, _)")
    for lang in watch.languages:
        if not lang.isascii() or not lang.isalpha() or not 2 <= len(lang) <= 3:
            raise _fail(watch.id, f"languages entry {lang!r} must be an ISO 639 code like 'fr'")
    try:
        ZoneInfo(watch.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail(watch.id, f"unknown timezone {watch.timezone!r}") from exc


def validate_watches(watches: Iterable[Watch]) -> tuple[Watch, ...]:
    """Return the watches as a tuple after checking their ids are unique."""
    result = tuple(watches)
    seen: set[str] = set()
    for watch in result:
        if watch.id in seen:
            raise _fail(watch.id, "duplicate id")
        seen.add(watch.id)
    return result


def _watch_from_table(position: int, table: Mapping[str, Any]) -> Watch:
    watch_id = table.get("id", f"#{position}")
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise _fail(watch_id, f"unknown keys {unknown} (known: {sorted(_KNOWN_KEYS)})")
    for key in ("id", "name"):
        if key not in table:
            raise _fail(watch_id, f"missing required key {key!r}")
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        if key in _TUPLE_FIELDS:
            if isinstance(value, str) or not isinstance(value, list):
                raise _fail(watch_id, f"{key} must be a list of strings, got {value!r}")
            items = tuple(v.strip() if isinstance(v, str) else v for v in value)
            if key in _PREFIXED_FIELDS:
                items = tuple(v.lstrip("#@") if isinstance(v, str) else v for v in items)
            if key == "languages":
                items = tuple(v.lower() if isinstance(v, str) else v for v in items)
            kwargs[key] = items
        else:
            kwargs[key] = value
    return Watch(**kwargs)


def load_watches(path: str | Path) -> tuple[Watch, ...]:
    """Load and validate ``[[watch]]`` tables from a TOML file."""
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise WatchConfigError(f"{path}: invalid TOML: {exc}") from exc
    tables = document.get("watch")
    if not isinstance(tables, list) or not tables:
        raise WatchConfigError(f"{path}: expected at least one [[watch]] table")
    try:
        return validate_watches(_watch_from_table(i, t) for i, t in enumerate(tables))
    except WatchConfigError as exc:
        raise WatchConfigError(f"{path}: {exc}") from exc
