"""Rosters from the watches file, a roster file and Redis sets; reloaded as new snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from streams.settings import Settings
from streams.watches import roster
from streams.watches.affiliation import affiliation_of
from streams.worker.context import build_context


def test_roster_file_is_read_folded_and_validated(tmp_path: Path) -> None:
    f = tmp_path / "roster.toml"
    f.write_text('[roster]\nsocgen = ["@Jean_Dupont", "marie"]\nbnp = []\n')
    assert roster.load_roster_file(f) == {"socgen": frozenset({"jean_dupont", "marie"}),
                                          "bnp": frozenset()}
    f.write_text('[roster]\nsocgen = "jean"\n')
    with pytest.raises(roster.RosterError, match="socgen"):
        roster.load_roster_file(f)
    f.write_text("[roster\n")
    with pytest.raises(roster.RosterError, match="invalid TOML"):
        roster.load_roster_file(f)


def test_reload_swaps_affiliations_and_author_kinds(tmp_path: Path) -> None:
    f = tmp_path / "roster.toml"
    f.write_text('[roster]\nsocgen = ["Jean_Dupont"]\n')
    rt = build_context(Settings(roster_file=str(f)), CollectorRegistry())
    before = rt.engine.affiliations
    assert affiliation_of(before["socgen"], "@jean_dupont", None, ()) == "roster"
    assert rt.engine.kinds.kind("socgen", "Jean_Dupont", False) == "employee"
    # a Redis set adds someone, the file entry stays; the old snapshot is not mutated
    rt.reload_rosters(roster.merged(roster.load_roster_file(f), {"socgen": ["Lea"]}))
    assert affiliation_of(rt.engine.affiliations["socgen"], "lea", None, ()) == "roster"
    assert affiliation_of(before["socgen"], "lea", None, ()) is None
    assert rt.engine.kinds.kind("socgen", "lea", False) == "employee"
    # someone leaves: the next reload drops them
    rt.reload_rosters({})
    assert affiliation_of(rt.engine.affiliations["socgen"], "lea", None, ()) is None
    assert rt.engine.kinds.kind("socgen", "lea", True) == "verified"
    assert rt.engine.campaign_builder() is not None
    assert rt.metrics.roster_handles.labels("socgen")._value.get() == 0
