"""Named simulator scenarios (the demo's bank bad buzz and the others), with their ground truth."""

from __future__ import annotations

import random
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


def waves(watch: str, start: datetime, hours: float, every_min: tuple[float, float],
          seed: int, **burst: Any) -> list[Burst]:
    """A campaign that comes back in waves: one short burst every every_min (drawn between
    the two bounds) from start for hours; every wave has the same name (one campaign)."""
    rng = random.Random(seed)
    out, t, stop = [], start, start + timedelta(hours=hours)
    while t < stop:
        out.append(Burst(watch, t, **burst))
        t += timedelta(minutes=rng.uniform(*every_min))
    return out


def night_waves(end: datetime | None = None, days: float = 3.0) -> Scenario:
    """A bank's three days: a quiet first day; on day two a bad buzz that journalists join,
    employees rallying behind a hashtag in office hours, and a hostile copy-paste campaign that
    comes back in waves every 30-50 minutes from the evening through the night; an organic
    sports hashtag on day three. One situation for day two, however many waves."""
    e = _end(end)
    start = e - timedelta(days=days)
    d2 = (start + timedelta(days=1)).astimezone(PARIS).replace(hour=9, minute=0)
    d2u = d2.astimezone(UTC)
    evening = d2.replace(hour=19).astimezone(UTC)
    return Scenario(
        "night-waves", start, e, dict(CHATTER),
        bursts=[
            Burst("socgen", d2u, ramp_min=25, plateau_min=150, decay_min=200, peak_per_min=35,
                  texts=txt.bank_outage, name="SGpanne", journalists=("lesechos", "afpfr"),
                  journalists_after_min=25),
            Burst("socgen", d2u + timedelta(minutes=70), ramp_min=20, plateau_min=300,
                  decay_min=90, peak_per_min=20, texts=txt.mobilisation,
                  kind="employee_mobilisation", pool="roster", office_hours=True,
                  name="BecauseWeLoveSG"),
            *waves("socgen", evening, 11.0, (30.0, 50.0), seed=11, ramp_min=4, plateau_min=8,
                   decay_min=8, peak_per_min=28, texts=txt.hostile,
                   kind="coordinated_inauthentic", pool="fresh", name="SGvoleurs"),
            Burst("socgen", (d2 + timedelta(days=1)).replace(hour=15).astimezone(UTC),
                  ramp_min=30, plateau_min=90, decay_min=60, peak_per_min=20, texts=txt.rugby,
                  kind="organic", name="AuPlusPresduXV"),
        ],
        quiet=[(start, d2u - timedelta(hours=1))],
    )


def quiet_week(end: datetime | None = None, days: float = 7.0) -> Scenario:
    """A week of ordinary chatter on every watch, daily and weekly rhythm: no situation."""
    e = _end(end)
    return Scenario("quiet-week", e - timedelta(days=days), e, dict(CHATTER),
                    quiet=[(e - timedelta(days=days), e)])


def two_fronts(end: datetime | None = None, days: float = 3.0) -> Scenario:
    """Several watches at once: a telecom outage and a bank outage the same afternoon, each
    with its journalists, an unrelated viral hashtag in between; the other two watches quiet."""
    e = _end(end)
    start = e - timedelta(days=days)
    day = (e - timedelta(days=1)).astimezone(PARIS).replace(hour=14, minute=0).astimezone(UTC)
    return Scenario(
        "two-fronts", start, e, dict(CHATTER),
        bursts=[
            Burst("orange", day, ramp_min=30, plateau_min=90, decay_min=120, peak_per_min=30,
                  texts=txt.telecom_outage, name="pannefibre",
                  journalists=("BFMBusiness",), journalists_after_min=35),
            Burst("socgen", day + timedelta(minutes=50), ramp_min=15, plateau_min=60,
                  decay_min=90, peak_per_min=45, texts=txt.bank_outage, name="SGpanne",
                  journalists=("lesechos",), journalists_after_min=15),
            Burst("none", day + timedelta(minutes=20), ramp_min=20, plateau_min=90,
                  decay_min=60, peak_per_min=60, texts=txt.viral, kind="unrelated_viral",
                  name="DefiGlacons"),
        ],
        quiet=[(start, day - timedelta(hours=1))],
    )


SCENARIOS: dict[str, Callable[..., Scenario]] = {
    "bank-bad-buzz": bank_bad_buzz, "quiet-days": quiet_days, "crisis-week": crisis_week,
    "mobilisation": mobilisation, "night-waves": night_waves, "quiet-week": quiet_week,
    "two-fronts": two_fronts}


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
