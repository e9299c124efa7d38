"""One-pass matching of posts against many watches (brands/topics).

The matcher is compiled once from the watches into inverted indexes, so the cost per post is one
fold, one tokenisation and a few set/dict operations, independent of the number of watches:

* keyword/exclude phrases live in a token trie: the post's tokens are intersected in C with the
  set of first tokens, and only occurrences of those are walked down the trie (a common prefix
  such as "service client ..." shared by many watches costs one step, not one per phrase);
* hashtags, mentioned handles and the author are looked up in dicts keyed by ``fold_tag``.

URLs are removed before matching ("https://x.com/sg" is not the keyword "sg"). Hashtags and
mentions passed by the caller (the event's, from upstream) are used as given; when the caller
passes none, they are extracted from the text instead.

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

from streams.text.normalize import (
    fold,
    fold_tag,
    scan_hashtags,
    scan_mentions,
    strip_urls,
    tokens,
)
from streams.watches.config import Watch, WatchConfigError, load_watches, validate_watches
from streams.watches.index import PhraseTrie, TagIndex

__all__ = ["Watch", "WatchConfigError", "WatchMatcher", "load_watches"]


def _tag_keys(given: Iterable[str], folded: str, marker: str) -> set[str]:
    keys = {fold_tag(tag) for tag in given}
    if keys or marker not in folded:
        return keys
    # ``folded`` is already folded and URL-free, so extracted tags are already canonical keys.
    return set(scan_hashtags(folded) if marker == "#" else scan_mentions(folded))


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
        "_restricted",
        "_watches",
    )
    _watches: tuple[Watch, ...]
    _ids: tuple[str, ...]
    _by_id: MappingProxyType[str, Watch]
    _languages: tuple[frozenset[str], ...]
    _restricted: frozenset[int]
    _keywords: PhraseTrie
    _exclude: PhraseTrie
    _keyword_tags: TagIndex
    _hashtags: TagIndex
    _handles: TagIndex
    _authors: TagIndex

    def __init__(self, watches: Iterable[Watch]) -> None:
        # Sorted by id so that sorting watch indexes sorts ids.
        ordered = tuple(sorted(validate_watches(watches), key=lambda w: w.id))
        keywords: list[tuple[tuple[str, ...], int]] = []
        exclude: list[tuple[tuple[str, ...], int]] = []
        keyword_tags: list[tuple[str, int]] = []
        hashtags: list[tuple[str, int]] = []
        handles: list[tuple[str, int]] = []
        owned: list[tuple[str, int]] = []
        for i, watch in enumerate(ordered):
            for phrase in watch.keywords:
                toks = tuple(tokens(fold(phrase)))
                keywords.append((toks, i))
                # The phrase written as one hashtag: #SocieteGenerale, #societe_generale.
                keyword_tags += [("".join(toks), i), ("_".join(toks), i)]
            exclude += [(tuple(tokens(fold(phrase))), i) for phrase in watch.exclude]
            hashtags += [(fold_tag(tag), i) for tag in watch.hashtags]
            handles += [(fold_tag(handle), i) for handle in watch.handles]
            owned += [(fold_tag(handle), i) for handle in watch.owned_accounts]
        init = object.__setattr__  # __setattr__ is disabled: the matcher is immutable
        init(self, "_watches", ordered)
        init(self, "_ids", tuple(w.id for w in ordered))
        init(self, "_by_id", MappingProxyType({w.id: w for w in ordered}))
        init(self, "_languages", tuple(frozenset(w.languages) for w in ordered))
        # indexes of the watches restricted to some languages: the only ones lang can drop
        init(self, "_restricted", frozenset(i for i, w in enumerate(ordered) if w.languages))
        init(self, "_keywords", PhraseTrie(keywords))
        init(self, "_exclude", PhraseTrie(exclude))
        init(self, "_keyword_tags", TagIndex(keyword_tags))
        init(self, "_hashtags", TagIndex(hashtags))
        init(self, "_handles", TagIndex(handles))
        init(self, "_authors", TagIndex(owned))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("WatchMatcher is immutable; build a new one")

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
        hits: set[int] = set()
        self._keywords.add_hits(toks, hits)
        tag_keys = _tag_keys(hashtags, folded, "#") if hashtags or "#" in folded else ()
        if tag_keys:
            self._keyword_tags.add_hits(tag_keys, hits)
        if hits and self._exclude:
            vetoed: set[int] = set()
            self._exclude.add_hits(toks, vetoed)
            hits -= vetoed
        # Explicit signals are added after the veto: exclude only disambiguates keywords.
        if tag_keys:
            self._hashtags.add_hits(tag_keys, hits)
        if self._handles and (mentions or "@" in folded):
            self._handles.add_hits(_tag_keys(mentions, folded, "@"), hits)
        if author_handle and self._authors:
            hits.update(self._authors.get(fold_tag(author_handle)))
        if not hits:
            return ()
        if lang and not self._restricted.isdisjoint(hits):
            # "fr-FR", "fr_CA" and "FR" all mean French.
            primary = lang.replace("_", "-").split("-", 1)[0].lower()
            languages = self._languages
            hits = {i for i in hits if not languages[i] or primary in languages[i]}
        ids = self._ids
        if len(hits) == 1:
            for i in hits:
                return (ids[i],)
        return tuple(ids[i] for i in sorted(hits))
