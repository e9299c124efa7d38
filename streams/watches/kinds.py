"""Who an author is for a watch: listed kinds (journalists, employees, owned accounts)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from streams.text.normalize import fold_tag
from streams.watches.config import Watch

AUTHOR_KINDS = ("journalist", "media", "institution", "owned", "employee", "verified",
                "ordinary")


@dataclass(frozen=True)
class KindIndex:
    """Per-watch author classification: folded handle -> kind (listed authors only)."""

    by_watch: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def kind(self, watch: str, handle: str, verified: bool) -> str:
        """Kind of an author for a watch: listed kinds first, then verified, else ordinary."""
        listed = self.by_watch.get(watch)
        if listed:
            k = listed.get(fold_tag(handle))
            if k is not None:
                return k
        return "verified" if verified else "ordinary"


def kind_index(watches: Iterable[Watch]) -> KindIndex:
    """Listed authors per watch: influencers, roster (employees) and owned accounts."""
    by_watch: dict[str, dict[str, str]] = {}
    for w in watches:
        kinds: dict[str, str] = {}
        for h in w.influencers:
            kinds[fold_tag(h)] = "journalist"
        for h in w.roster:
            kinds[fold_tag(h)] = "employee"
        for h in w.owned_accounts:
            kinds[fold_tag(h)] = "owned"
        by_watch[w.id] = kinds
    return KindIndex(by_watch)
