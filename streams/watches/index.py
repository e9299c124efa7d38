"""Inverted indexes behind ``WatchMatcher``: a token trie for phrases and a tag -> watches map.

Both are built once and never mutated; lookups cost O(tokens of the post), independent of the
number of watches, even when many phrases share a common prefix ("service client X").
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PhraseTrie", "TagIndex"]

# (watch indexes of phrases ending here, next token -> child node)
_Node = tuple[frozenset[int], dict[str, "_Node"]]
_EMPTY: frozenset[int] = frozenset()


def _freeze(draft: dict[str, tuple[set[int], dict]]) -> dict[str, _Node]:
    return {tok: (frozenset(ids), _freeze(children)) for tok, (ids, children) in draft.items()}


class PhraseTrie:
    """Token trie of phrases; ``add_hits`` finds every phrase occurring in a token list."""

    __slots__ = ("_firsts", "_roots")

    def __init__(self, phrases: Iterable[tuple[tuple[str, ...], int]]) -> None:
        draft: dict[str, tuple[set[int], dict]] = {}
        for phrase, watch_index in phrases:
            level = draft
            for position, tok in enumerate(phrase):
                ids, children = level.setdefault(tok, (set(), {}))
                if position == len(phrase) - 1:
                    ids.add(watch_index)
                level = children
        self._roots: dict[str, _Node] = _freeze(draft)
        self._firsts = frozenset(self._roots)

    def __bool__(self) -> bool:
        return bool(self._roots)

    def add_hits(self, toks: list[str], out: set[int]) -> None:
        """Add to ``out`` the watch indexes of every phrase found in ``toks``."""
        # One C-level pass over the tokens; most posts stop here.
        present = self._firsts.intersection(toks)
        if not present:
            return
        count = len(toks)
        for first in present:
            root = self._roots[first]
            if not root[1]:
                # Single-token phrases only: no need to look at positions.
                out.update(root[0])
                continue
            position = -1
            while True:
                try:
                    position = toks.index(first, position + 1)
                except ValueError:
                    break
                node = root
                step = position
                while True:
                    if node[0]:
                        out.update(node[0])
                    step += 1
                    if step >= count or not node[1]:
                        break
                    child = node[1].get(toks[step])
                    if child is None:
                        break
                    node = child


class TagIndex:
    """Map of canonical tag/handle keys to watch indexes."""

    __slots__ = ("_index",)

    def __init__(self, pairs: Iterable[tuple[str, int]]) -> None:
        draft: dict[str, set[int]] = {}
        for key, watch_index in pairs:
            draft.setdefault(key, set()).add(watch_index)
        self._index = {key: frozenset(ids) for key, ids in draft.items()}

    def __bool__(self) -> bool:
        return bool(self._index)

    def get(self, key: str) -> frozenset[int]:
        """Return the watch indexes for one key (empty if none)."""
        return self._index.get(key, _EMPTY)

    def add_hits(self, keys: Iterable[str], out: set[int]) -> None:
        """Add to ``out`` the watch indexes of every key present in the index."""
        index = self._index
        for key in keys:
            ids = index.get(key)
            if ids is not None:
                out.update(ids)
