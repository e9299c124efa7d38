"""Numeric helpers of the volume detector: count tail z-scores, crossing rates, seasonal slots."""

from __future__ import annotations

import math

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
MIN_FACTOR = 0.01  # a seasonal factor never pins a slot's expectation at zero


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
    Poisson tail stays exact at low volume while extra variance is honoured at high volume.
    """
    if mean_sum <= 0.0 or var_sum <= 0.0:
        return poisson_upper_z(count_sum, mean_sum)
    factor = max(var_sum / mean_sum, 1e-9)
    return poisson_upper_z(count_sum / factor, mean_sum / factor)


def log_normal_sf(z: float) -> float:
    """ln P(Z >= z) for a standard normal Z, accurate far into the tail."""
    if z < 5.0:
        return math.log(max(0.5 * math.erfc(z / math.sqrt(2.0)), 1e-300))
    zz = z * z  # asymptotic Mills-ratio series, relative error < 1e-4 from z = 5
    return -0.5 * zz - math.log(z) - LOG_SQRT_2PI + math.log1p(-1.0 / zz + 3.0 / (zz * zz))


_LOG_SF_1 = math.log(0.5 * math.erfc(1.0 / math.sqrt(2.0)))


def log_crossings_per_day(z: float, decay: float, step_s: float) -> float:
    """ln of the expected upcrossings per day of level z by an evidence sum (Gaussian null).

    A decayed sum of independent counts is an AR(1) with lag-1 correlation ``decay``.  A
    level z is crossed upward at most once per bucket, with probability about
    P(Z >= z) * theta, theta = mills(z) * sqrt((1 - decay) / pi) (the density at the level
    times the mean positive one-bucket increment); theta = 1 for one bucket (decay 0).
    Checked against simulated Poisson noise in tools/volume/README.md.
    """
    log_sf = log_normal_sf(z)
    log_theta = 0.0
    if decay > 0.0:
        # the formula is a tail formula: below z = 1 nothing is an alarm anyway
        zc, log_sf_c = (z, log_sf) if z >= 1.0 else (1.0, _LOG_SF_1)
        log_mills = -0.5 * zc * zc - LOG_SQRT_2PI - log_sf_c
        log_theta = min(0.0, log_mills + 0.5 * math.log((1.0 - decay) / math.pi))
    return math.log(86400.0 / step_s) + log_sf + log_theta


def poisson_lower(n: float, z: float) -> float:
    """One-sided lower confidence bound of a Poisson mean seen as n events (Wilson-Hilferty)."""
    if n <= 0.0:
        return 0.0
    v = 1.0 - 1.0 / (9.0 * n) - z / (3.0 * math.sqrt(n))
    return n * max(v, 0.0) ** 3


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


def interpolate(profile: tuple[float, ...], ts: float, period_s: float) -> float:
    """Profile value at ts, linearly interpolated between slot centres."""
    a, b, f = slot_weights(ts, period_s, len(profile))
    return profile[a] * (1.0 - f) + profile[b] * f


def learn_profile(profile: tuple[float, ...], weights: tuple[float, ...], ts: float,
                  period_s: float, target: float, alpha: float, full_w: float,
                  ) -> tuple[tuple[float, ...], tuple[float, ...], float]:
    """Update a multiplicative seasonal profile towards target at ts, renormalised to mean 1.

    Until both neighbouring slots have been seen for a whole slot, each is averaged towards
    the target (a bias-corrected start).  Afterwards the two slots move by a normalised LMS
    step on the error of their *interpolated* value: plain averaging of each slot would fit a
    smoothed profile (minima too high, peaks too low: +12 % at night on a 50 posts/min
    simulated watch), LMS fits the interpolated curve itself.

    The mean is taken over the slots seen so far, each weighted by how much of it was seen
    (full_w = the weight of one whole slot observed once); never-seen slots stay neutral at 1.
    Returns the profile, the weights and the divisor, by which the caller multiplies its level
    so that level x profile is unchanged by the renormalisation.
    """
    a, b, f = slot_weights(ts, period_s, len(profile))
    vals, ws = list(profile), list(weights)
    if ws[a] < full_w or ws[b] < full_w:
        for i, share in ((a, 1.0 - f), (b, f)):
            if share > 0.0:
                w = max(alpha * share, share / (ws[i] + share))
                vals[i] += w * (target - vals[i])
                ws[i] = min(ws[i] + share, 1e9)
    else:
        err = target - (vals[a] * (1.0 - f) + vals[b] * f)
        step = alpha * err / ((1.0 - f) ** 2 + f * f)
        vals[a] += step * (1.0 - f)
        vals[b] += step * f
        ws[a] = min(ws[a] + 1.0 - f, 1e9)
        ws[b] = min(ws[b] + f, 1e9)
    if min(ws) >= full_w:
        # every slot seen: the plain mean, and a rebuild only when it drifted (cheap per bucket)
        mean = sum(vals) / len(vals)
        if abs(mean - 1.0) < 1e-3 or mean <= 0.0:
            return tuple(vals), tuple(ws), 1.0
        return tuple(max(v / mean, MIN_FACTOR) for v in vals), tuple(ws), mean
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
