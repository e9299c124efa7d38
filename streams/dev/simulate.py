"""Scenario simulator: realistic social streams with their ground truth beside them."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from streams.dev import _sim_text as txt

PARIS = ZoneInfo("Europe/Paris")
# Relative activity per local hour (French social media: quiet nights, lunch and evening peaks).
HOURLY = (0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.6, 0.9, 1.0, 1.05, 1.1, 1.3, 1.2, 1.05,
          1.0, 1.0, 1.05, 1.2, 1.35, 1.4, 1.2, 0.8, 0.45)
WEEKDAY = (1.0, 1.05, 1.05, 1.0, 0.95, 0.7, 0.6)


@dataclass(frozen=True)
class Author:
    """A simulated account."""

    id: str
    handle: str
    followers: int
    verified: bool
    bio: str
    created_at: datetime


@dataclass(frozen=True)
class Burst:
    """A surge of posts on a watch: ramps up, plateaus, decays."""

    watch: str
    onset: datetime
    ramp_min: float
    plateau_min: float
    decay_min: float
    peak_per_min: float
    texts: Callable[[random.Random], tuple[str, str, tuple[str, ...]]]
    kind: str = "bad_buzz"
    journalists_after_min: float = 8.0
    journalists: tuple[str, ...] = ()
    pool: str = "public"  # who posts: public | roster (employees) | fresh (new accounts)
    office_hours: bool = False  # only 9:00-18:00 on weekdays, Paris time
    name: str = ""

    @property
    def end(self) -> datetime:
        """When the burst is over (its decay down to 5 % of the peak)."""
        return self.onset + timedelta(minutes=self.ramp_min + self.plateau_min + self.decay_min)

    def rate(self, t: datetime) -> float:
        """Posts per minute of the burst at t."""
        m = (t - self.onset).total_seconds() / 60.0
        if m < 0:
            return 0.0
        if self.office_hours:
            local = t.astimezone(PARIS)
            if local.weekday() >= 5 or not 9 <= local.hour < 18:
                return 0.0
        if m < self.ramp_min:
            return self.peak_per_min * (m / self.ramp_min) ** 1.5
        m -= self.ramp_min
        if m < self.plateau_min:
            return self.peak_per_min
        m -= self.plateau_min
        return self.peak_per_min * math.exp(-3.0 * m / max(self.decay_min, 1.0))


@dataclass
class Scenario:
    """A named stream recipe and its ground truth."""

    name: str
    start: datetime
    end: datetime
    chatter_per_min: dict[str, float]
    bursts: list[Burst] = field(default_factory=list)
    noise_per_min: float = 2.0
    quiet: list[tuple[datetime, datetime]] = field(default_factory=list)

    def truth(self) -> dict[str, Any]:
        """What the stream contains, for tests and the demo."""
        return {
            "scenario": self.name, "start": _iso(self.start), "end": _iso(self.end),
            "incidents": [{"watch": b.watch, "type": b.kind, "onset": _iso(b.onset),
                           "end": _iso(b.end), "peak_per_min": b.peak_per_min, "name": b.name,
                           "pool": b.pool}
                          for b in self.bursts],
            "roster": {"socgen": [a.handle for a in roster_pool(random.Random(ROSTER_SEED))]},
            "quiet": [{"start": _iso(a), "end": _iso(b)} for a, b in self.quiet],
        }


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def activity(t: datetime) -> float:
    """Daily and weekly rhythm of a French audience at t."""
    local = t.astimezone(PARIS)
    return HOURLY[local.hour] * WEEKDAY[local.weekday()]


def _population(rng: random.Random, n: int) -> list[Author]:
    out = []
    base = datetime(2012, 1, 1, tzinfo=UTC)
    for i in range(n):
        followers = int(rng.lognormvariate(5.0, 1.6))
        out.append(Author(f"u{i}", txt.handle(rng, i), followers, followers > 50_000 and
                          rng.random() < 0.5, txt.bio(rng),
                          base + timedelta(days=rng.randint(0, 4000))))
    return out


ROSTER_SEED = 4242


def roster_pool(rng: random.Random, n: int = 400) -> list[Author]:
    """Employees and ambassadors: affiliated bios, established accounts (a fixed roster)."""
    return [Author(f"e{i}", f"sg_{txt.handle(rng, i)}", int(rng.lognormvariate(5.5, 1.0)),
                   False, txt.employee_bio(rng), datetime(2014, 1, 1, tzinfo=UTC)
                   + timedelta(days=rng.randint(0, 3000))) for i in range(n)]


def fresh_pool(rng: random.Random, start: datetime, n: int = 300) -> list[Author]:
    """New, low-follower accounts of a hostile copy-paste campaign."""
    return [Author(f"f{i}", f"{txt.handle(rng, i)}{rng.randint(1000, 9999)}",
                   rng.randint(0, 25), False, "", start - timedelta(days=rng.uniform(0.5, 9)))
            for i in range(n)]


def _journalist(handle: str, rng: random.Random) -> Author:
    return Author(f"j-{handle}", handle, rng.randint(200_000, 3_000_000), True,
                  "Journaliste économie / finance", datetime(2010, 5, 1, tzinfo=UTC))


def _event(rng: random.Random, t: datetime, author: Author, text: str, lang: str,
           seq: int) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "id": f"sim-{seq}", "platform": "twitter", "created_at": _iso(t),
        "author": {"id": author.id, "handle": author.handle, "followers": author.followers,
                   "verified": author.verified, "bio": author.bio,
                   "created_at": _iso(author.created_at)},
        "text": text, "lang": lang,
        "url": f"https://x.com/{author.handle}/status/{seq}",
        "metrics": {"likes": int(rng.expovariate(0.2)), "reposts": int(rng.expovariate(0.5)),
                    "replies": int(rng.expovariate(0.7))},
    }
    if rng.random() < 0.12:
        ev["repost_of"] = f"sim-{max(0, seq - rng.randint(1, 500))}"
    elif rng.random() < 0.15:
        ev["reply_to"] = f"sim-{max(0, seq - rng.randint(1, 500))}"
    return ev


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (normal approximation above 50)."""
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate(sc: Scenario, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Yield the scenario's events in event-time order, minute by minute."""
    rng = random.Random(seed)
    pools = {"public": _population(rng, 6000),
             "roster": roster_pool(random.Random(ROSTER_SEED)),
             "fresh": fresh_pool(random.Random(seed + 1), sc.start)}
    people = pools["public"]
    seq = 0
    t = sc.start
    while t < sc.end:
        minute: list[tuple[float, Author, str, str]] = []
        act = activity(t)
        quiet = any(a <= t < b for a, b in sc.quiet)
        for watch, per_min in sc.chatter_per_min.items():
            for _ in range(poisson(rng, per_min * act * (0.5 if quiet else 1.0))):
                text, lang, _tags = txt.chatter(rng, watch)
                minute.append((rng.random(), rng.choice(people), text, lang))
        for _ in range(poisson(rng, sc.noise_per_min * act)):
            text, lang, _tags = txt.noise(rng)
            minute.append((rng.random(), rng.choice(people), text, lang))
        for b in sc.bursts:
            pool = pools[b.pool]
            for _ in range(poisson(rng, b.rate(t))):
                text, lang, _tags = b.texts(rng)
                minute.append((rng.random(), rng.choice(pool), text, lang))
            since = (t - b.onset).total_seconds() / 60.0
            if b.journalists and b.journalists_after_min <= since < b.journalists_after_min + 1:
                for h in b.journalists:
                    text, lang, _tags = b.texts(rng)
                    minute.append((rng.random(), _journalist(h, rng), text, lang))
        for frac, author, text, lang in sorted(minute, key=lambda m: m[0]):
            seq += 1
            yield _event(rng, t + timedelta(seconds=59.999 * frac), author, text, lang, seq)
        t += timedelta(minutes=1)
