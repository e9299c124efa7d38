"""Affiliation of an author to a watched brand: owned accounts, roster, bio cues, advocacy URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from streams.text.normalize import fold, fold_tag, tokens

if TYPE_CHECKING:
    from streams.watches.config import Watch

__all__ = ["Affiliation", "affiliation_of", "norm_phrase"]


def norm_phrase(text: str) -> str:
    """Folded word tokens joined by single spaces, padded: ' chez sg ' (a token-exact key)."""
    return " " + " ".join(tokens(fold(text))) + " "


def _url_regex(patterns: Iterable[str]) -> re.Pattern[str] | None:
    # a pattern is a folded substring where '*' matches anything ("careers.sg.com/*")
    parts = [".*".join(re.escape(p) for p in pat.split("*") if p) for pat in patterns]
    parts = [p for p in parts if p]
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class Affiliation:
    """Per-watch affiliation sources (folded) and the watch's office hours."""

    roster: frozenset[str] = frozenset()
    owned: frozenset[str] = frozenset()
    bio_cues: tuple[str, ...] = ()  # norm_phrase form
    brand_terms: tuple[str, ...] = ()  # norm_phrase form: name, keywords, hashtags
    advocacy_patterns: tuple[str, ...] = ()  # folded URL substrings, '*' wildcards
    tz: str = "UTC"
    start_h: int = 9
    end_h: int = 18
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    # derived: cues that name the brand themselves ("chez sg"), generic ones ("views are my own")
    _naming: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _generic: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _url_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _probes: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # a bio matching a cue contains each of its tokens: the longest is a cheap pre-check
        object.__setattr__(self, "_probes", tuple(sorted(
            {max(c.split(), key=len) for c in self.bio_cues if c.strip()})))
        naming = tuple(c for c in self.bio_cues if any(t in c for t in self.brand_terms))
        object.__setattr__(self, "_naming", naming)
        object.__setattr__(self, "_generic", tuple(c for c in self.bio_cues if c not in naming))
        object.__setattr__(self, "_url_re", _url_regex(self.advocacy_patterns))
        object.__setattr__(self, "_zone", ZoneInfo(self.tz))

    @classmethod
    def from_watch(cls, watch: Watch, extra_roster: Iterable[str] = ()) -> Affiliation:
        """Affiliation of a watch; extra_roster adds handles (e.g. the Redis roster set)."""
        brand = {norm_phrase(t) for t in (watch.name, *watch.keywords)}
        brand |= {f" {fold_tag(t)} " for t in watch.hashtags}
        return cls(
            roster=frozenset(fold_tag(h) for h in (*watch.roster, *extra_roster)),
            owned=frozenset(fold_tag(h) for h in watch.owned_accounts),
            bio_cues=tuple(sorted({norm_phrase(c) for c in watch.bio_cues} - {"  "})),
            brand_terms=tuple(sorted(brand - {"  "})),
            advocacy_patterns=tuple(fold(p.strip()) for p in watch.advocacy_url_patterns),
            tz=watch.timezone)

    def with_roster(self, handles: Iterable[str]) -> Affiliation:
        """The same affiliation with a reloaded roster."""
        return replace(self, roster=frozenset(fold_tag(h) for h in handles))

    def in_office_hours(self, ts: float) -> bool:
        """True when POSIX time ts falls in the watch's office hours (local weekday, hour)."""
        local = datetime.fromtimestamp(ts, self._zone)
        return local.weekday() in self.weekdays and self.start_h <= local.hour < self.end_h

    def bio_affiliated(self, bio: str) -> bool:
        """A cue naming the brand, or a generic cue next to a brand term."""
        if not self.bio_cues:
            return False
        folded = fold(bio)
        if not any(p in folded for p in self._probes):
            return False
        b = " " + " ".join(tokens(folded)) + " "
        if any(c in b for c in self._naming):
            return True
        return any(c in b for c in self._generic) and any(t in b for t in self.brand_terms)


def affiliation_of(aff: Affiliation, handle: str, bio: str | None,
                   urls: Iterable[str]) -> str | None:
    """The author's or post's affiliation source: owned | roster | bio | advocacy | None."""
    if handle:
        h = fold_tag(handle)
        if h in aff.owned:
            return "owned"
        if h in aff.roster:
            return "roster"
    if bio and aff.bio_affiliated(bio):
        return "bio"
    url_re = aff._url_re
    if url_re is not None:
        for url in urls:
            if url_re.search(fold(url)) is not None:
                return "advocacy"
    return None
