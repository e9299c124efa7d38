"""Numeric helpers of the volume detector: count tail z-scores and seasonal slot weights."""

from __future__ import annotations

import math


def poisson_upper_z(count: float, mean: float) -> float:
    """Normal z of the upper tail P(X >= count) of a Poisson(mean) (Wilson-Hilferty)."""
    if mean <= 0.0:
        return 0.0 if count <= 0.0 else 40.0
    if count <= 0.0:
        # P(X >= 0) = 1: report the signed deviance so that a drop still reads negative.
        return -math.sqrt(2.0 * mean)
    # P(X >= x) = P(Gamma(x, 1) <= mean); the cube root of a gamma variable is close to normal.
    return 3.0 * math.sqrt(count) * (1.0 - 1.0 / (9.0 * count) - (mean / count) ** (1.0 / 3.0))


def overdispersed_z(count_sum: float, mean_sum: float, var_sum: float) -> float:
    """Tail z of an observed weighted count against a mean/variance, Poisson-matched.

    Scaling both sides by var/mean gives a quasi-count whose variance equals its mean, so the
    Poisson tail stays exact at low volume while negative-binomial noise is honoured at high
    volume.
    """
    if mean_sum <= 0.0 or var_sum <= 0.0:
        return poisson_upper_z(count_sum, mean_sum)
    factor = max(var_sum / mean_sum, 1e-9)
    return poisson_upper_z(count_sum / factor, mean_sum / factor)


def slot_weights(ts: float, period_s: float, n_slots: int) -> tuple[int, int, float]:
    """Two neighbouring slot indices and the weight of the second, for linear interpolation.

    Slot i is centred at (i + 0.5) * period_s / n_slots into the period, so a profile of
    hourly slots changes smoothly through the day instead of jumping on the hour.
    """
    width_s = period_s / n_slots
    pos = (ts % period_s) / width_s - 0.5
    lo = math.floor(pos)
    frac = pos - lo
    return lo % n_slots, (lo + 1) % n_slots, frac


def ew_alpha(step_s: float, half_life_s: float) -> float:
    """Weight of one new observation for an EWMA with a half-life in seconds."""
    if half_life_s <= 0.0:
        return 1.0
    return 1.0 - 0.5 ** (step_s / half_life_s)


MIN_FACTOR = 0.01  # a seasonal factor never pins a slot's expectation at zero


def interpolate(profile: tuple[float, ...], ts: float, period_s: float) -> float:
    """Profile value at ts, linearly interpolated between slot centres."""
    a, b, f = slot_weights(ts, period_s, len(profile))
    return profile[a] * (1.0 - f) + profile[b] * f


def learn_profile(profile: tuple[float, ...], weights: tuple[float, ...], ts: float,
                  period_s: float, target: float, alpha: float, full_w: float,
                  ) -> tuple[tuple[float, ...], tuple[float, ...], float]:
    """EWMA of a multiplicative seasonal profile towards target at ts, renormalised to mean 1.

    The mean is taken over the slots seen so far, each weighted by how much of it was seen
    (full_w = the weight of one whole slot observed once); never-seen slots stay neutral at 1.
    Renormalising over all slots instead would shrink the seen slots while most of the period
    is still unknown, and the level would inflate to compensate.  Returns the profile, the
    weights and the divisor, by which the caller multiplies its level so that level x profile
    is unchanged by the renormalisation.
    """
    a, b, f = slot_weights(ts, period_s, len(profile))
    vals, ws = list(profile), list(weights)
    for i, share in ((a, 1.0 - f), (b, f)):
        if share <= 0.0:
            continue
        # bias-corrected start: a slot's first observations are averaged, not shrunk to 1
        w = max(alpha * share, share / (ws[i] + share))
        vals[i] += w * (target - vals[i])
        ws[i] = min(ws[i] + share, 1e9)
    conf = [min(w / full_w, 1.0) if full_w > 0.0 else float(w > 0.0) for w in ws]
    total = sum(conf)
    if total <= 0.0:
        return tuple(vals), tuple(ws), 1.0
    mean = sum(c * v for c, v in zip(conf, vals, strict=True)) / total
    if mean <= 0.0:
        return tuple(vals), tuple(ws), 1.0
    norm = tuple(max(v / mean, MIN_FACTOR) if w > 0.0 else 1.0
                 for v, w in zip(vals, ws, strict=True))
    return norm, tuple(ws), mean
