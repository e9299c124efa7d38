"""One-pass matching of posts against many watches (brands/topics).

The matcher is compiled once from the watches into inverted indexes, so the cost per post is one
fold, one tokenisation and a few set/dict operations, independent of the number of watches:

* keyword/exclude phrases are indexed by their first token; a post's token set is intersected with
  that index in C and only the hits are checked (tuple compare for multi-word phrases);
* hashtags, mentioned handles and the author are looked up in dicts keyed by ``fold_tag``.

Semantics, all case- and accent-insensitive:

* a keyword matches whole tokens ("sg" does not match "sgt"); a phrase matches consecutive tokens
  ("Société Générale" matches "societe-generale" too) and its joined form as a hashtag
  (#SocieteGenerale, #societe_generale);
* a watch hashtag matches the post's hashtags, a watch handle its mentions, and an owned account
  matches posts it authored;
* ``exclude`` phrases veto keyword matches only (they disambiguate a word like "SG" = Singapore);
  explicit signals (the watch's hashtags, handle mentions, owned-account authorship) are not vetoed;
* ``languages`` restricts a watch to events whose ``lang`` primary subtag is listed; an event
  without ``lang`` is not filtered.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from streams._watch_config import Watch, WatchConfigError, load_watches, validate_watches
from streams.text.normalize import (
    extract_hashtags,
    extract_mentions,
    fold,
    fold_tag,
    strip_urls,
    tokens,
)

__all__ = ["Watch", "WatchConfigError", "WatchMatcher", "load_watches"]

# first token -> ((phrase tokens, watch indexes), ...)
_PhraseIndex = MappingProxyType[str, tuple[tuple[tuple[str, ...], frozenset[int]], ...]]
_TagIndex = MappingProxyType[str, frozenset[int]]


def _freeze_tags(index: dict[str, set[int]]) -> _TagIndex:
    return MappingProxyType({key: frozenset(ids) for key, ids in index.items()})


def _freeze_phrases(index: dict[str, dict[tuple[str, ...], set[int]]]) -> _PhraseIndex:
    return MappingProxyType(
        {
            first: tuple(
                (phrase, frozenset(ids))
                # Single tokens first: they need no positional check.
                for phrase, ids in sorted(by_phrase.items(), key=lambda kv: len(kv[0]))
            )
            for first, by_phrase in index.items()
        }
    )


def _phrase_hits(index: _PhraseIndex, toks: list[str]) -> set[int]:
    hits: set[int] = set()
    present = index.keys() & set(toks)
    for first in present:
        for phrase, ids in index[first]:
            if len(phrase) == 1:
                hits.update(ids)
                continue
            if hits.issuperset(ids):
                continue
            size = len(phrase)
            start = toks.index(first)
            while True:
                if tuple(toks[start : start + size]) == phrase:
                    hits.update(ids)
                    break
                try:
                    start = toks.index(first, start + 1)
                except ValueError:
                    break
    return hits


def _tag_hits(index: _TagIndex, keys: set[str], hits: set[int]) -> None:
    for key in index.keys() & keys:
        hits.update(index[key])


def _tag_keys(given: Iterable[str], folded: str, marker: str) -> set[str]:
    keys = {fold_tag(tag) for tag in given}
    if keys or marker not in folded:
        return keys
    # ``folded`` is already folded and URL-free, so extracted tags are already canonical keys.
    extract = extract_hashtags if marker == "#" else extract_mentions
    return set(extract(folded))


class WatchMatcher:
    """Immutable one-pass matcher over a fixed set of watches."""

    __slots__ = (
        "_authors",
        "_by_id",
        "_exclude",
        "_handles",
        "_hashtags",
        "_ids",
        "_keyword_tags",
        "_keywords",
        "_languages",
        "_watches",
    )

    def __init__(self, watches: Iterable[Watch]) -> None:
        # Sorted by id so that sorting watch indexes sorts ids.
        ordered = tuple(sorted(validate_watches(watches), key=lambda w: w.id))
        keywords: dict[str, dict[tuple[str, ...], set[int]]] = {}
        exclude: dict[str, dict[tuple[str, ...], set[int]]] = {}
        keyword_tags: dict[str, set[int]] = {}
        hashtags: dict[str, set[int]] = {}
        handles: dict[str, set[int]] = {}
        authors: dict[str, set[int]] = {}
        for i, watch in enumerate(ordered):
            for phrase in watch.keywords:
                toks = tuple(tokens(fold(phrase)))
                keywords.setdefault(toks[0], {}).setdefault(toks, set()).add(i)
                keyword_tags.setdefault("".join(toks), set()).add(i)
                keyword_tags.setdefault("_".join(toks), set()).add(i)
            for phrase in watch.exclude:
                toks = tuple(tokens(fold(phrase)))
                exclude.setdefault(toks[0], {}).setdefault(toks, set()).add(i)
            for tag in watch.hashtags:
                hashtags.setdefault(fold_tag(tag), set()).add(i)
            for handle in watch.handles:
                handles.setdefault(fold_tag(handle), set()).add(i)
            for handle in watch.owned_accounts:
                authors.setdefault(fold_tag(handle), set()).add(i)
        self._watches = ordered
        self._ids = tuple(w.id for w in ordered)
        self._by_id = MappingProxyType({w.id: w for w in ordered})
        self._languages = tuple(frozenset(w.languages) for w in ordered)
        self._keywords = _freeze_phrases(keywords)
        self._exclude = _freeze_phrases(exclude)
        self._keyword_tags = _freeze_tags(keyword_tags)
        self._hashtags = _freeze_tags(hashtags)
        self._handles = _freeze_tags(handles)
        self._authors = _freeze_tags(authors)

    @property
    def watches(self) -> tuple[Watch, ...]:
        """Return the watches, sorted by id."""
        return self._watches

    def watch(self, watch_id: str) -> Watch:
        """Return the watch with this id (KeyError if unknown)."""
        return self._by_id[watch_id]

    def match(
        self,
        text: str,
        hashtags: Iterable[str] = (),
        mentions: Iterable[str] = (),
        author_handle: str | None = None,
        lang: str | None = None,
    ) -> tuple[str, ...]:
        """Return the sorted ids of the watches matching a post.

        ``hashtags``/``mentions`` are the event's own (with or without '#'/'@', any case); when
        one is empty, the matcher extracts that kind from ``text`` instead.
        """
        folded = strip_urls(fold(text))
        toks = tokens(folded)
        hits = _phrase_hits(self._keywords, toks)
        tag_keys = _tag_keys(hashtags, folded, "#")
        _tag_hits(self._keyword_tags, tag_keys, hits)
        if hits:
            hits -= _phrase_hits(self._exclude, toks)
        _tag_hits(self._hashtags, tag_keys, hits)
        _tag_hits(self._handles, _tag_keys(mentions, folded, "@"), hits)
        if author_handle:
            hits.update(self._authors.get(fold_tag(author_handle), ()))
        if not hits:
            return ()
        if lang:
            # "fr-FR", "fr_CA" and "FR" all mean French.
            primary = lang.replace("_", "-").split("-", 1)[0].lower()
            languages = self._languages
            hits = {i for i in hits if not languages[i] or primary in languages[i]}
        ids = self._ids
        return tuple(ids[i] for i in sorted(hits))
