"""Employee and ambassador rosters per watch: from the watches file, a roster file, Redis sets.

Rosters change while the worker runs (people join, leave, sign up as ambassadors), so they are
reloaded on a timer and swapped in as new immutable mappings; nothing here touches the network.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from streams.text.normalize import fold_tag
from streams.watches.affiliation import Affiliation
from streams.watches.config import Watch
from streams.watches.kinds import KindIndex


class RosterError(ValueError):
    """The roster file is invalid; the message names the file and the watch."""


def load_roster_file(path: str | Path) -> dict[str, frozenset[str]]:
    """Handles per watch id from a TOML file: ``[roster]`` then ``watch_id = ["@handle", ...]``."""
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise RosterError(f"{path}: invalid TOML: {exc}") from exc
    table = doc.get("roster", {})
    if not isinstance(table, dict):
        raise RosterError(f"{path}: [roster] must be a table of watch id -> list of handles")
    out: dict[str, frozenset[str]] = {}
    for watch, handles in table.items():
        if not isinstance(handles, list) or not all(isinstance(h, str) for h in handles):
            raise RosterError(f"{path}: roster of {watch!r} must be a list of handles")
        out[watch] = frozenset(fold_tag(h) for h in handles if h.strip("@ "))
    return out


def merged(*sources: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """Union of several {watch: handles} sources, handles folded."""
    out: dict[str, set[str]] = {}
    for src in sources:
        for watch, handles in src.items():
            out.setdefault(watch, set()).update(fold_tag(h) for h in handles)
    return {w: frozenset(h) for w, h in out.items()}


def affiliations(watches: Iterable[Watch], extra: Mapping[str, Iterable[str]] | None = None
                 ) -> dict[str, Affiliation]:
    """Affiliation sources of every watch: its config plus the extra roster handles."""
    extra = extra or {}
    return {w.id: Affiliation.from_watch(w, extra.get(w.id, ())) for w in watches}


def with_employees(kinds: KindIndex, rosters: Mapping[str, Iterable[str]]) -> KindIndex:
    """The author-kind index with roster handles marked as employees (listed kinds win)."""
    by_watch = {w: dict(k) for w, k in kinds.by_watch.items()}
    for watch, handles in rosters.items():
        table = by_watch.setdefault(watch, {})
        for h in handles:
            table.setdefault(fold_tag(h), "employee")
    return KindIndex(by_watch)
