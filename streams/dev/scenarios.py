"""Named simulator scenarios (the demo's bank bad buzz and the others), with their ground truth."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from streams.dev import _sim_text as txt
from streams.dev.simulate import PARIS, Burst, Scenario, generate

CHATTER = {"socgen": 1.5, "bnp": 1.2, "orange": 2.0, "sncf": 3.0}


def _end(end: datetime | None) -> datetime:
    return (end or datetime.now(UTC)).replace(second=0, microsecond=0)


def bank_bad_buzz(end: datetime | None = None, days: float = 3.0) -> Scenario:
    """A few days of ordinary chatter about banks, then a sudden negative surge on SG."""
    end = _end(end)
    start = end - timedelta(days=days)
    onset = end - timedelta(hours=3)
    return Scenario(
        name="bank-bad-buzz", start=start, end=end,
        chatter_per_min={"socgen": 1.5, "bnp": 1.2, "orange": 2.0, "sncf": 3.0},
        bursts=[Burst("socgen", onset, ramp_min=12, plateau_min=45, decay_min=60,
                      peak_per_min=60, texts=txt.bank_outage,
                      journalists=("lesechos", "BFMBusiness"))],
    )


def quiet_days(end: datetime | None = None, days: float = 3.0) -> Scenario:
    """Ordinary chatter only: nothing must alert (false-positive rate)."""
    e = _end(end)
    return Scenario("quiet-days", e - timedelta(days=days), e, dict(CHATTER),
                    quiet=[(e - timedelta(days=days), e)])


def crisis_week(end: datetime | None = None, days: float = 4.0) -> Scenario:
    """Several watches, FR/EN, daily and weekly rhythm; a telecom bad buzz that builds up with
    journalists joining, an unrelated viral hashtag and a sports wave (both must not alert).
    Quiet days are their own scenario (quiet-days)."""
    e = _end(end)
    start = e - timedelta(days=days)
    return Scenario(
        "crisis-week", start, e, dict(CHATTER),
        bursts=[
            Burst("orange", e - timedelta(hours=10), ramp_min=40, plateau_min=60, decay_min=90,
                  peak_per_min=35, texts=txt.telecom_outage, name="pannefibre",
                  journalists=("BFMBusiness", "lesechos"), journalists_after_min=30),
            Burst("none", start + timedelta(days=2, hours=3), ramp_min=20, plateau_min=120,
                  decay_min=120, peak_per_min=80, texts=txt.viral, kind="unrelated_viral",
                  name="DefiGlacons"),
            Burst("none", start + timedelta(days=2, hours=19), ramp_min=5, plateau_min=100,
                  decay_min=30, peak_per_min=120, texts=txt.sports, kind="sports_wave",
                  name="FRAARG"),
        ],
    )


def mobilisation(end: datetime | None = None, days: float = 3.0) -> Scenario:
    """The seeds' situation: a bad buzz about a bank, its employees rallying behind
    #BecauseWeLoveSG (roster accounts, affiliated bios, office hours, partly templated text),
    a hostile copy-paste campaign by fresh accounts, an organic positive rugby hashtag."""
    e = _end(end)
    start = e - timedelta(days=days)
    day = (e - timedelta(days=1)).astimezone(PARIS).replace(hour=9, minute=0)
    return Scenario(
        "mobilisation", start, e, dict(CHATTER),
        bursts=[
            Burst("socgen", day.astimezone(UTC) - timedelta(hours=14), ramp_min=30,
                  plateau_min=180, decay_min=240, peak_per_min=40, texts=txt.bank_outage,
                  name="SGpanne", journalists=("lesechos", "afpfr"), journalists_after_min=20),
            Burst("socgen", day.astimezone(UTC) + timedelta(minutes=30), ramp_min=20,
                  plateau_min=240, decay_min=120, peak_per_min=25, texts=txt.mobilisation,
                  kind="employee_mobilisation", pool="roster", office_hours=True,
                  name="BecauseWeLoveSG"),
            Burst("socgen", day.astimezone(UTC) + timedelta(hours=3), ramp_min=5,
                  plateau_min=40, decay_min=20, peak_per_min=30, texts=txt.hostile,
                  kind="coordinated_inauthentic", pool="fresh", name="SGvoleurs"),
            Burst("socgen", day.astimezone(UTC) + timedelta(hours=11), ramp_min=30,
                  plateau_min=90, decay_min=60, peak_per_min=20, texts=txt.rugby,
                  kind="organic", name="AuPlusPresduXV"),
        ],
    )


SCENARIOS: dict[str, Callable[..., Scenario]] = {
    "bank-bad-buzz": bank_bad_buzz, "quiet-days": quiet_days, "crisis-week": crisis_week,
    "mobilisation": mobilisation}


def write(name: str, out: str | Path, seed: int = 7, end: datetime | None = None) -> dict[str, Any]:
    """Write the scenario's events (JSONL) and its truth (OUT.truth.json); return the truth."""
    sc = SCENARIOS[name](end=end)
    n = 0
    with Path(out).open("wb") as fh:
        for ev in generate(sc, seed):
            fh.write(orjson.dumps(ev) + b"\n")
            n += 1
    truth = {**sc.truth(), "events": n, "seed": seed}
    Path(f"{out}.truth.json").write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2))
    return truth
