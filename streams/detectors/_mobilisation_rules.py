"""Campaign features and the transparent, additive-evidence classifier of mobilisation."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from streams.aggregate.campaign import SOURCES, CampaignAgg

CLASSES = ("employee_mobilisation", "coordinated_inauthentic", "organic")
Features = Mapping[str, float | None]


@dataclass(frozen=True)
class Reason:
    """One piece of evidence: a feature value against its threshold, and its score."""

    cls: str
    feature: str
    value: float
    threshold: float  # value at which the term gives its full weight
    contribution: float

    def text(self) -> str:
        """Human-readable form."""
        return (f"{self.feature}={self.value:.2f} (full at {self.threshold:g}) "
                f"-> {self.cls} +{self.contribution:.2f}")


@dataclass(frozen=True)
class Classification:
    """A class, its confidence (softmax of the class scores) and the evidence behind it."""

    cls: str
    confidence: float
    reasons: tuple[Reason, ...]
    scores: Mapping[str, float]


def _ramp(x: float, lo: float, hi: float) -> float:
    # 0 at lo, 1 at hi, linear in between (hi < lo ramps downwards)
    return min(max((x - lo) / (hi - lo), 0.0), 1.0)


def synchrony(first_ts: Sequence[float], first_posts: int, span_s: float
              ) -> tuple[float | None, float | None]:
    """(share of the first posts in the densest span_s, CV of their inter-arrival times)."""
    ts = sorted(first_ts)[:first_posts]
    if len(ts) < 3:
        return None, None
    best, j = 0, 0
    for i, t in enumerate(ts):
        while ts[j] < t - span_s:
            j += 1
        best = max(best, i - j + 1)
    gaps = [b - a for a, b in pairwise(ts)]
    mean = sum(gaps) / len(gaps)
    cv = None if mean <= 0 else math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps)) / mean
    return best / len(ts), cv


def episode_features(ep: CampaignAgg, first_posts: int, span_s: float) -> dict[str, float | None]:
    """Features of a cumulative campaign aggregate (shares are of posts unless named)."""
    n = max(ep.posts, 1)
    authors = max(ep.distinct_authors(), 1)
    conc, cv = synchrony(ep.first_ts, first_posts, span_s)
    out: dict[str, float | None] = {
        "posts": float(ep.posts),
        "distinct_authors": float(ep.distinct_authors()),
        "author_diversity": min(ep.distinct_authors(), n) / n,
        "affiliated_share": ep.aff_posts / n,
        "affiliated_author_share": min(ep.distinct_aff_authors() / authors, 1.0),
        "sync_concentration": conc,
        "interarrival_cv": cv,
        "office_share": ep.office_posts / n,
        "new_account_share": ep.new_posts / ep.aged_posts if ep.aged_posts else None,
        "low_follower_share": ep.low_posts / n,
        "mean_sentiment": ep.sent_sum / ep.scored if ep.scored else None,
        "negative_share": ep.negative / ep.scored if ep.scored else None,
        "reach": float(ep.reach),
    }
    for src in SOURCES:
        out[f"affiliated_share_{src}"] = ep.aff_sources.get(src, 0) / n
    return out


# (class, feature, lo, hi, weight, kind): kind "" = ramp, "inv" = 1 - ramp,
# "unaff" = ramp x (1 - affiliated ramp), "aff" = ramp x affiliated ramp
AFF_LO, AFF_HI = 0.05, 0.3
RULES: tuple[tuple[str, str, float, float, float, str], ...] = (
    ("employee_mobilisation", "affiliated_share", AFF_LO, AFF_HI, 3.0, ""),
    ("employee_mobilisation", "affiliated_author_share", AFF_LO, AFF_HI, 1.0, ""),
    ("employee_mobilisation", "office_lift", 0.1, 0.3, 0.5, ""),
    ("employee_mobilisation", "sync_concentration", 0.6, 0.9, 0.25, "aff"),
    ("employee_mobilisation", "near_dup_ratio", 0.3, 0.7, 0.25, "aff"),
    ("coordinated_inauthentic", "new_account_share", 0.1, 0.3, 2.5, ""),
    ("coordinated_inauthentic", "low_follower_share", 0.4, 0.7, 1.5, ""),
    ("coordinated_inauthentic", "author_diversity", 0.6, 0.3, 1.0, "unaff"),
    ("coordinated_inauthentic", "near_dup_ratio", 0.3, 0.7, 1.0, "unaff"),
    ("organic", "author_diversity", 0.5, 0.8, 1.5, ""),
    ("organic", "new_account_share", 0.05, 0.2, 1.0, "inv"),
    ("organic", "low_follower_share", 0.4, 0.7, 0.5, "inv"),
    ("organic", "affiliated_share", AFF_LO, AFF_HI, 1.0, "inv"),
    ("organic", "near_dup_ratio", 0.3, 0.7, 0.5, "inv"),
)


def classify(features: Features, top_reasons: int = 4) -> Classification:
    """Additive evidence per class; confidence = softmax of the class scores."""
    aff_value = features.get("affiliated_share")
    aff = _ramp(aff_value, AFF_LO, AFF_HI) if aff_value is not None else 0.0
    scores = dict.fromkeys(CLASSES, 0.0)
    terms: list[Reason] = []
    for cls, name, lo, hi, weight, kind in RULES:
        value = features.get(name)
        if value is None:  # unknown (no account ages, too few samples): no evidence either way
            continue
        r = _ramp(value, lo, hi)
        if kind == "inv":
            r = 1.0 - r
        elif kind == "unaff":
            r *= 1.0 - aff
        elif kind == "aff":
            r *= aff
        if r > 0:
            scores[cls] += weight * r
            terms.append(Reason(cls, name, float(value), hi if kind != "inv" else lo,
                                round(weight * r, 3)))
    top = max(scores.values())
    exp = {c: math.exp(s - top) for c, s in scores.items()}
    best = min(CLASSES, key=lambda c: (-scores[c], CLASSES.index(c)))
    mine = sorted((t for t in terms if t.cls == best), key=lambda t: -t.contribution)
    # the strongest counter-evidence too: a verdict is never shown without its alternative
    other = sorted((t for t in terms if t.cls != best), key=lambda t: -t.contribution)
    reasons = tuple(mine[:top_reasons - 1] + other[:1] if other else mine[:top_reasons])
    return Classification(best, exp[best] / sum(exp.values()), reasons,
                          {c: round(s, 3) for c, s in scores.items()})
