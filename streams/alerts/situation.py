"""Situations: one incident per watch grouping every concurrent signal (pure).

A crisis cell follows one situation, not six signals. Each closed bucket the per-watch loop
hands over the watch's *active* signals (the per-type incidents open now, with their severity
and what they notably carry: journalists, hostile or employee campaigns). This module decides
when a situation opens, what its severity is, when a change is worth a message, and when it
resolves. It is deliberately calmer than the signals it groups:

- one open situation per watch; its id is deterministic from (watch, opening bucket);
- a level must hold ``hold_s`` before it is announced (Alertmanager's ``for:``), except
  ``crisis``, announced at once; a lower level is announced only after it held
  ``deescalate_after_s`` (``keep_firing_for:``); a return to a level the situation left less
  than ``flap_window_s`` ago is not announced again (Nagios' flap suppression);
- a signal joining or leaving is a message only when it changes what the cell should do: a level
  change, a journalist / media / institution joining, a new hostile or employee campaign;
- at most ``max_messages_per_day`` messages in any 24 h, one kept for the resolution, and
  ``min_update_gap_s`` between two updates that are not escalations; changes held back by the
  gap are told in the next message;
- resolved once no signal has been active for ``resolve_after_s``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from streams.detectors.protocol import RANK, SEVERITIES

DAY_S = 86_400.0
MAX_ENDED_MEMBERS = 16  # ended signals kept in the evidence (the active ones are always kept)
URGENT = ("journalist", "media", "institution", "hostile_campaign")  # news told at once


def situation_id(watch: str, opened_bucket: int) -> str:
    """Deterministic situation id from (watch, the bucket that opened it)."""
    return hashlib.sha256(f"{watch}|situation|{opened_bucket}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SituationPolicy:
    """Anti-fatigue controls of a situation, all in event-time seconds."""

    hold_s: float = 180.0
    deescalate_after_s: float = 1800.0
    flap_window_s: float = 3600.0
    # a situation outlives its signals by this much: a crisis that goes quiet for an hour and
    # flares up again is the same crisis for the cell that follows it
    resolve_after_s: float = 7200.0
    min_update_gap_s: float = 900.0
    # a journalist or a hostile campaign is told at once, but the next such news waits this
    # long, so a newsroom joining one by one is one or two messages, not ten
    urgent_gap_s: float = 300.0
    max_messages_per_day: int = 10
    # the highest level a signal type (or kind) gives a situation on its own: a trend or an
    # employee campaign is context for the crisis cell, never a crisis by itself
    level_caps: Mapping[str, str] = field(default_factory=lambda: {
        "trending_hashtag": "watch", "employee_mobilisation": "watch"})
    # the lowest level at which a signal may open a situation: one high-reach author posting
    # negatively is worth a line in a situation, not a situation
    open_floors: Mapping[str, str] = field(default_factory=lambda: {
        "influencer_engaged": "warning"})
    # the noisiest signals (many hashtags and watches tested every minute) open a situation
    # alone only once they held this long, unless at crisis or with another signal beside them
    open_hold_s: Mapping[str, float] = field(default_factory=lambda: {
        "trending_hashtag": 1800.0, "sentiment_shift": 1800.0})
    # ... or while the watch's volume is itself unusual, for the signals whose evidence does
    # not already count those posts: a negative turn is a share, independent of the volume; a
    # trend's evidence is its extra posts, which the volume would only count again
    volume_corroborates: tuple[str, ...] = ("sentiment_shift",)


@dataclass(frozen=True)
class SignalView:
    """What a situation sees of one active signal at one bucket."""

    key: str  # the signal's lifecycle key: its type, or "type:subject"
    type: str
    subject: str | None
    signal_id: str  # the per-type incident id, as published on the signals topic
    severity: str
    opened_ts: float
    score: float = 0.0
    value: float = 0.0
    baseline: float = 0.0
    notables: tuple[str, ...] = ()  # "journalist:lesechos", "hostile_campaign:sgvoleurs", ...
    kind: str = ""  # a finer kind where the type has several (a campaign's class); "": unknown
    live: bool = True  # its detector reports it in this very bucket (not only an open incident)


@dataclass(frozen=True)
class Member:
    """A signal that joined the situation, as the evidence tells it."""

    key: str
    type: str
    subject: str | None
    signal_id: str
    kind: str
    joined_ts: float
    last_active_ts: float
    severity: str
    peak_severity: str
    ended_ts: float | None = None
    level: str = "watch"  # what it gives the situation: its severity, capped by its kind
    score: float = 0.0
    value: float = 0.0
    baseline: float = 0.0


@dataclass(frozen=True)
class Situation:
    """The open situation of a watch."""

    situation_id: str
    opened_bucket: int
    severity: str  # as last announced
    level: str  # the level the signals give now (held, before announcement rules)
    sequence: int = 0
    members: Mapping[str, Member] = field(default_factory=dict)
    told: tuple[str, ...] = ()  # notables already announced
    pending: tuple[str, ...] = ()  # changes waiting for the next message
    level_since: float = 0.0  # since when the signals give `level`
    left: Mapping[str, float] = field(default_factory=dict)  # level -> when it was left
    quiet_since: float | None = None
    messages: tuple[float, ...] = ()  # event times of the messages of the last 24 h
    last_update_ts: float = 0.0
    peak_severity: str = "watch"


@dataclass(frozen=True)
class SituationState:
    """Per watch: the open situation, if any, and since when each signal waits to open one."""

    current: Situation | None = None
    waiting: Mapping[str, float] = field(default_factory=dict)  # signal key -> active since
    last_resolved_ts: float | None = None


@dataclass(frozen=True)
class Message:
    """One message of a situation: open, update or resolved, and why."""

    situation: Situation
    status: str  # open | update | resolved
    reason: str  # onset | escalation | de_escalation | signal_joined | back_to_normal
    changes: tuple[str, ...]
    event_ts: float


@dataclass(frozen=True)
class Held:
    """A change the rules held back (for metrics): what and why."""

    change: str
    why: str  # hold | flapping | gap | daily_cap


def contribution(sig: SignalView | Member, policy: SituationPolicy) -> str:
    """The level one signal gives a situation (its severity, capped by its type or kind)."""
    cap = policy.level_caps.get(sig.kind) or policy.level_caps.get(sig.type)
    return sig.severity if cap is None or RANK[sig.severity] <= RANK[cap] else cap


def level_of(signals: Iterable[SignalView | Member], policy: SituationPolicy) -> str | None:
    """The level the active signals give a situation; None when none is active."""
    ranks = [RANK[contribution(s, policy)] for s in signals]
    return SEVERITIES[max(ranks)] if ranks else None


def _eligible(sig: SignalView, policy: SituationPolicy) -> bool:
    floor = policy.open_floors.get(sig.kind) or policy.open_floors.get(sig.type)
    return floor is None or RANK[sig.severity] >= RANK[floor]


def openers(signals: tuple[SignalView, ...], waiting: Mapping[str, float], ts: float,
            policy: SituationPolicy, busy: bool = False) -> list[SignalView]:
    """The signals that open a situation now: strong ones at once; the noisy ones at crisis,
    beside a signal of another type, while the watch's volume is itself unusual (``busy``) for
    those the volume corroborates, or once their detector reported them ``open_hold_s`` on end
    (an incident that merely waits to resolve does not count)."""
    eligible = [s for s in signals if _eligible(s, policy)]
    types = {s.type for s in eligible}
    out = []
    for s in eligible:
        hold = policy.open_hold_s.get(s.type, 0.0)
        corroborated = busy and s.type in policy.volume_corroborates
        if hold <= 0.0 or s.severity == "crisis" or len(types) > 1 or corroborated \
                or (s.key in waiting and ts - waiting[s.key] >= hold):
            out.append(s)
    return out


def _member(sig: SignalView, ts: float, prev: Member | None, policy: SituationPolicy
            ) -> Member:
    if prev is not None and prev.signal_id != sig.signal_id:
        prev = None  # the same key, a new incident of that signal: it joins anew
    peak = sig.severity if prev is None or RANK[sig.severity] > RANK[prev.peak_severity] \
        else prev.peak_severity
    kind = sig.kind or (prev.kind if prev is not None else "")
    # figures of a bucket where the detector said nothing are not figures: keep the last ones
    figures = (sig.score, sig.value, sig.baseline) if sig.live or prev is None \
        else (prev.score, prev.value, prev.baseline)
    m = Member(sig.key, sig.type, sig.subject, sig.signal_id, kind,
               ts if prev is None else prev.joined_ts, ts, sig.severity, peak, None,
               sig.severity, *figures)
    return replace(m, level=contribution(m, policy))


def _members(sit: Situation, signals: tuple[SignalView, ...], ts: float,
             policy: SituationPolicy) -> dict[str, Member]:
    members = dict(sit.members)
    active = {s.key for s in signals}
    for s in signals:
        members[s.key] = _member(s, ts, members.get(s.key), policy)
    for k, m in list(members.items()):
        if k not in active and m.ended_ts is None:
            members[k] = replace(m, ended_ts=ts)
    ended = sorted((m for m in members.values() if m.ended_ts is not None),
                   key=lambda m: -(m.ended_ts or 0.0))
    for m in ended[MAX_ENDED_MEMBERS:]:
        del members[m.key]
    return members


def _notables(signals: Iterable[SignalView]) -> list[str]:
    seen: list[str] = []
    for s in signals:
        seen.extend(n for n in s.notables if n not in seen)
    return seen


def _recent(times: tuple[float, ...], ts: float) -> tuple[float, ...]:
    return tuple(t for t in times if ts - t < DAY_S)


def _open(state: SituationState, watch: str, signals: tuple[SignalView, ...], bucket: int,
          ts: float, policy: SituationPolicy, busy: bool
          ) -> tuple[SituationState, Message | None]:
    waiting = {s.key: state.waiting.get(s.key, ts) for s in signals if s.live}
    level = level_of(signals, policy)
    if level is None or not openers(signals, waiting, ts, policy, busy):
        return replace(state, waiting=waiting), None
    members = {s.key: _member(s, ts, None, policy) for s in signals}
    level = level_of(members.values(), policy) or level
    sit = Situation(situation_id(watch, bucket), bucket, level, level, 0, members,
                    tuple(_notables(signals)), (), ts, {}, None, (ts,), ts, level)
    return SituationState(sit, {}, state.last_resolved_ts), \
        Message(sit, "open", "onset", ("opened",), ts)


def step(state: SituationState, watch: str, signals: tuple[SignalView, ...], bucket: int,
         ts: float, policy: SituationPolicy, busy: bool = False
         ) -> tuple[SituationState, Message | None, tuple[Held, ...]]:
    """Advance a watch's situation to event time ts, given its signals active now.

    ``bucket`` is the start of the newest bucket (it names a situation that opens now);
    ``busy``: the watch's volume in it is itself unusual (a noisy signal is then corroborated).
    Returns the new state, the message to send (if any) and the changes held back.
    """
    sit = state.current
    if sit is None:
        new, msg = _open(state, watch, signals, bucket, ts, policy, busy)
        return new, msg, ()
    members = _members(sit, signals, ts, policy)
    level = level_of((m for m in members.values() if m.ended_ts is None), policy)
    if level is None:  # nothing active: resolve once quiet long enough
        quiet = sit.quiet_since if sit.quiet_since is not None else ts
        sit = replace(sit, members=members, quiet_since=quiet)
        if ts - quiet >= policy.resolve_after_s:
            done = replace(sit, sequence=sit.sequence + 1, pending=())
            return SituationState(None, {}, ts), \
                Message(done, "resolved", "back_to_normal", ("resolved",), ts), ()
        return replace(state, current=sit), None, ()
    level_since = sit.level_since if level == sit.level else ts
    sit = replace(sit, members=members, quiet_since=None, level=level, level_since=level_since,
                  messages=_recent(sit.messages, ts))
    fresh = [n for n in _notables(signals) if n not in sit.told and n not in sit.pending]
    pending = (*sit.pending, *fresh)
    held: list[Held] = []
    target, reason = _target(sit, ts, policy)
    if target is not None and ts - sit.left.get(target, -1e18) < policy.flap_window_s:
        # back to a level left less than an hour ago: flapping, not news. Going up, the
        # situation takes the level silently (its next message tells it); going down, it keeps
        # the higher level until the lower one is no return any more
        held.append(Held(f"severity:{target}", "flapping"))
        if RANK[target] > RANK[sit.severity]:
            sit = _move(sit, target, ts)
        target = None
    news = any(c.partition(":")[0] in URGENT for c in pending)
    if target is None and news and RANK[sit.level] > RANK[sit.severity] \
            and ts - sit.left.get(sit.level, -1e18) >= policy.flap_window_s:
        # a journalist or a hostile campaign confirms the level that is holding: both at once
        target, reason = sit.level, "escalation"
    changes: list[str] = []
    if target is not None:
        changes.append(f"severity:{target}")
    changes.extend(pending)
    if not changes:
        return replace(state, current=replace(sit, pending=pending)), None, tuple(held)
    escalation = target is not None and RANK[target] > RANK[sit.severity]
    budget = policy.max_messages_per_day - 1 - len(sit.messages)  # one kept for the resolution
    # a journalist or a hostile campaign joining is told as fast as an escalation
    pressing = escalation or news
    since_last = ts - sit.last_update_ts
    urgent = (escalation and target == "crisis") or (
        pressing and budget > 0 and (escalation or since_last >= policy.urgent_gap_s))
    rising = target is None and RANK[sit.level] > RANK[sit.severity] and not pressing
    if not urgent:
        # news told with the escalation that is holding, rather than one message before it
        why = "daily_cap" if budget <= 0 else "hold" if rising else \
            "gap" if pressing or since_last < policy.min_update_gap_s else ""
        if why:
            held.extend(Held(c, why) for c in changes)
            return replace(state, current=replace(sit, pending=pending)), None, tuple(held)
    if target is not None:
        sit = _move(sit, target, ts)
    if not reason:
        reason = "signal_joined"
    sit = replace(sit, sequence=sit.sequence + 1, pending=(), told=(*sit.told, *pending),
                  messages=(*sit.messages, ts), last_update_ts=ts)
    return replace(state, current=sit), Message(sit, "update", reason, tuple(changes), ts), \
        tuple(held)


def _target(sit: Situation, ts: float, policy: SituationPolicy) -> tuple[str | None, str]:
    """The severity to announce now, if it changes, and why."""
    if sit.level == sit.severity:
        return None, ""
    held_for = ts - sit.level_since
    if RANK[sit.level] > RANK[sit.severity]:
        if sit.level == "crisis" or held_for >= policy.hold_s:
            return sit.level, "escalation"
        return None, ""
    if held_for >= policy.deescalate_after_s:
        return sit.level, "de_escalation"
    return None, ""


def _move(sit: Situation, severity: str, ts: float) -> Situation:
    peak = severity if RANK[severity] > RANK[sit.peak_severity] else sit.peak_severity
    return replace(sit, severity=severity, left={**sit.left, sit.severity: ts},
                   peak_severity=peak)


def members_by_status(sit: Situation) -> tuple[list[Member], list[Member]]:
    """(active, ended) members, strongest first / most recent first."""
    active = sorted((m for m in sit.members.values() if m.ended_ts is None),
                    key=lambda m: (-RANK[m.severity], m.joined_ts, m.key))
    ended = sorted((m for m in sit.members.values() if m.ended_ts is not None),
                   key=lambda m: (-(m.ended_ts or 0.0), m.key))
    return active, ended
