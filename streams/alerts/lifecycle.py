"""Pure incident lifecycle: open, update, resolved, with cooldown, hysteresis and a cap."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from streams.detectors.protocol import RANK, SEVERITIES, Signal

__all__ = ["RANK", "SEVERITIES", "Emission", "Incident", "Lifecycle", "Policy", "Signal", "Step",
           "alert_id", "step"]


def alert_id(watch: str, name: str, opened_bucket: int) -> str:
    """Deterministic incident id from (watch, incident name, the bucket that opened it); the
    name is the alert type, or "type:subject" for one incident per hashtag."""
    return hashlib.sha256(f"{watch}|{name}|{opened_bucket}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Policy:
    """Alert-fatigue controls, all in event-time seconds."""

    cooldown_s: float = 1800.0
    max_updates_per_hour: int = 6
    resolve_after_s: float = 600.0
    deescalate_after_s: float = 900.0
    min_update_gap_s: float = 300.0
    material_change: float = 0.5  # evidence grew by 50 % since the last emission
    # an entity that comes and goes (a campaign in waves, a hashtag) stays one incident while
    # its quiet spells are no longer than rhythm_factor x the longest one seen so far (and
    # at least resolve_after_s, at most max_quiet_s); 0: resolve after resolve_after_s
    rhythm_factor: float = 0.0
    max_quiet_s: float = 12 * 3600.0

    def quiet_limit_s(self, longest_gap_s: float) -> float:
        """How long an incident stays open without a signal."""
        if self.rhythm_factor <= 0.0:
            return self.resolve_after_s
        return min(max(self.resolve_after_s, self.rhythm_factor * longest_gap_s),
                   max(self.max_quiet_s, self.resolve_after_s))


@dataclass(frozen=True)
class Incident:
    """An open incident of one type on one watch."""

    alert_id: str
    opened_bucket: int
    severity: str
    sequence: int = 0
    last_emit_ts: float = 0.0
    last_value: float = 0.0
    peak_value: float = 0.0
    emits: tuple[float, ...] = ()  # event times of recent updates, for the hourly cap
    normal_since: float | None = None
    below_since: float | None = None
    longest_gap_s: float = 0.0  # its longest quiet spell so far (the rhythm of its waves)


@dataclass(frozen=True)
class Lifecycle:
    """Per (watch, type): the open incident, if any, and the cooldown."""

    incident: Incident | None = None
    cooldown_until: float = 0.0


@dataclass(frozen=True)
class Emission:
    """One alert to send: the lifecycle transition and what caused it."""

    alert_id: str
    status: str  # open | update | resolved
    severity: str
    sequence: int
    reason: str
    opened_bucket: int
    event_ts: float
    signal: Signal | None  # None for a resolution


@dataclass(frozen=True)
class Step:
    """The result of one lifecycle step."""

    state: Lifecycle
    emission: Emission | None = None
    suppressed: str | None = None  # cooldown | rate_limited


def _emit(inc: Incident, status: str, reason: str, ts: float,
          obs: Signal | None) -> Emission:
    return Emission(inc.alert_id, status, inc.severity, inc.sequence, reason, inc.opened_bucket,
                    ts, obs)


def step(lc: Lifecycle, watch: str, name: str, obs: Signal | None, ts: float,
         policy: Policy) -> Step:
    """Advance one incident lifecycle (name: see alert_id) to event time ts given the newest
    signal (None: normal)."""
    inc = lc.incident
    if inc is None:
        if obs is None or not (obs.onset or obs.severity):  # a new report opens
            return Step(lc)
        if ts < lc.cooldown_until:
            return Step(lc, suppressed="cooldown")
        inc = Incident(alert_id(watch, name, obs.bucket_ts), obs.bucket_ts, obs.severity,
                       0, ts, obs.value, obs.value)
        return Step(replace(lc, incident=inc), _emit(inc, "open", "onset", ts, obs))
    if obs is None:
        normal_since = inc.normal_since if inc.normal_since is not None else ts
        if ts - normal_since >= policy.quiet_limit_s(inc.longest_gap_s):
            done = replace(inc, sequence=inc.sequence + 1, last_emit_ts=ts)
            return Step(Lifecycle(None, ts + policy.cooldown_s),
                        _emit(done, "resolved", "back_to_normal", ts, None))
        return Step(replace(lc, incident=replace(inc, normal_since=normal_since)))
    if not obs.severity:  # the detector reports no new level: keep the incident's
        obs = replace(obs, severity=inc.severity)
    gap = 0.0 if inc.normal_since is None else ts - inc.normal_since
    inc = replace(inc, normal_since=None, peak_value=max(inc.peak_value, obs.value),
                  longest_gap_s=max(inc.longest_gap_s, gap))
    recent = tuple(t for t in inc.emits if ts - t < 3600.0)
    if RANK[obs.severity] > RANK[inc.severity]:  # escalate at once, cap or not
        up = replace(inc, severity=obs.severity, sequence=inc.sequence + 1, last_emit_ts=ts,
                     last_value=obs.value, emits=(*recent, ts), below_since=None)
        return Step(replace(lc, incident=up), _emit(up, "update", "escalation", ts, obs))
    if RANK[obs.severity] < RANK[inc.severity]:  # de-escalate slowly: hysteresis
        below = inc.below_since if inc.below_since is not None else ts
        if ts - below >= policy.deescalate_after_s and len(recent) < policy.max_updates_per_hour:
            down = replace(inc, severity=obs.severity, sequence=inc.sequence + 1,
                           last_emit_ts=ts, last_value=obs.value, emits=(*recent, ts),
                           below_since=None)
            return Step(replace(lc, incident=down), _emit(down, "update", "de_escalation", ts, obs))
        inc = replace(inc, below_since=below)
    else:
        inc = replace(inc, below_since=None)
    grew = obs.value >= inc.last_value * (1.0 + policy.material_change) and obs.value > 0
    if grew and ts - inc.last_emit_ts >= policy.min_update_gap_s:
        if len(recent) >= policy.max_updates_per_hour:
            return Step(replace(lc, incident=replace(inc, emits=recent)), suppressed="rate_limited")
        up = replace(inc, sequence=inc.sequence + 1, last_emit_ts=ts, last_value=obs.value,
                     emits=(*recent, ts))
        return Step(replace(lc, incident=up), _emit(up, "update", "evidence_changed", ts, obs))
    return Step(replace(lc, incident=replace(inc, emits=recent)))
