"""The situation of a watch: one incident, calm severity, messages only when they matter."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.alerts.situation import (
    RANK,
    SEVERITIES,
    Message,
    SignalView,
    SituationPolicy,
    SituationState,
    step,
)
from streams.dev.eval.alerts import flaps

P = SituationPolicy()
T0 = 1_700_000_040.0
B = 60.0


def sig(key: str, severity: str, *, notables: tuple[str, ...] = (), kind: str = "",
        sid: str | None = None) -> SignalView:
    kind_type = key.partition(":")[0]
    subject = key.partition(":")[2] or None
    return SignalView(key, kind_type, subject, sid or f"id-{key}", severity, T0,
                      notables=notables, kind=kind)


def run(frames: list[tuple[SignalView, ...]], policy: SituationPolicy = P
        ) -> tuple[SituationState, list[Message]]:
    state = SituationState()
    out: list[Message] = []
    for i, signals in enumerate(frames):
        ts = T0 + (i + 1) * B
        state, msg, _ = step(state, "socgen", signals, int(ts - B), ts, policy)
        if msg is not None:
            out.append(msg)
    return state, out


def docs(messages: list[Message]) -> list[dict[str, Any]]:
    from datetime import UTC, datetime

    def iso(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).isoformat()
    return [{"severity": m.situation.severity, "event_time": iso(m.event_ts),
             "status": m.status} for m in messages]


def test_a_warning_signal_opens_at_once_and_quiet_resolves_after_the_delay() -> None:
    frames = [(sig("volume_spike", "warning"),)] * 5 + [()] * 130
    state, msgs = run(frames)
    assert [m.status for m in msgs] == ["open", "resolved"]
    assert msgs[0].event_ts == T0 + B
    assert msgs[1].event_ts - (T0 + 6 * B) == P.resolve_after_s
    assert state.current is None


def test_one_situation_groups_every_concurrent_signal_with_one_id() -> None:
    frames = [(sig("volume_spike", "warning"),),
              (sig("volume_spike", "warning"), sig("sentiment_shift", "warning")),
              (sig("volume_spike", "warning"), sig("sentiment_shift", "warning"),
               sig("bad_buzz", "warning"), sig("trending_hashtag:sgpanne", "watch"))] * 3
    state, msgs = run(frames)
    assert [m.status for m in msgs] == ["open"]  # the same level: nobody needs a new message
    assert state.current is not None
    assert set(state.current.members) == {"volume_spike", "sentiment_shift", "bad_buzz",
                                          "trending_hashtag:sgpanne"}


def test_crisis_is_announced_at_once_and_a_lower_level_only_after_it_held() -> None:
    crisis = (sig("bad_buzz", "crisis"),)
    warning = (sig("bad_buzz", "warning"),)
    frames = [warning, crisis] + [warning] * 70
    _, msgs = run(frames)
    assert [(m.status, m.situation.severity, m.reason) for m in msgs] == [
        ("open", "warning", "onset"), ("update", "crisis", "escalation"),
        ("update", "warning", "de_escalation")]
    assert msgs[1].event_ts == T0 + 2 * B
    # warning was left when crisis came: going back to it is announced once it is no flap
    assert msgs[2].event_ts - msgs[1].event_ts >= max(P.deescalate_after_s, P.flap_window_s)


def test_a_warning_escalation_must_hold() -> None:
    frames = [(sig("volume_spike", "watch"),)] * 4 + [(sig("volume_spike", "warning"),)] + \
        [(sig("volume_spike", "watch"),)] * 2 + [(sig("volume_spike", "warning"),)] * 5
    _, msgs = run(frames)
    ups = [m for m in msgs if m.status == "update"]
    assert len(ups) == 1 and ups[0].situation.severity == "warning"
    assert ups[0].event_ts - (T0 + 8 * B) >= P.hold_s


def test_a_level_left_less_than_an_hour_ago_is_not_announced_again() -> None:
    crisis = (sig("sentiment_shift", "crisis"),)
    warning = (sig("sentiment_shift", "warning"),)
    frames = [crisis] + [warning] * 31 + [crisis] * 3 + [warning] * 31 + [crisis] * 3
    _, msgs = run(frames)
    assert flaps(docs(msgs)) == 0
    sev = [m.situation.severity for m in msgs]
    assert sev == ["crisis", "warning"], sev


def test_a_journalist_joining_is_news_and_is_told_once() -> None:
    base = sig("bad_buzz", "warning")
    j = sig("influencer_engaged", "warning", notables=("journalist:lesechos",))
    frames = [(base,)] * 20 + [(base, j)] * 5 + [(base,)] * 5 + [(base, j)] * 5
    _, msgs = run(frames)
    ups = [m for m in msgs if m.status == "update"]
    assert len(ups) == 1 and ups[0].changes == ("journalist:lesechos",)
    assert ups[0].reason == "signal_joined"


def test_changes_within_the_gap_wait_for_the_next_message() -> None:
    base = sig("bad_buzz", "warning")
    j1 = sig("influencer_engaged", "warning", notables=("journalist:a",))
    j2 = sig("influencer_engaged", "warning", notables=("journalist:a", "journalist:b"))
    j3 = sig("influencer_engaged", "warning", notables=("journalist:c",))
    frames = [(base,)] * 20 + [(base, j1), (base, j2), (base, j3)] + [(base,)] * 30
    _, msgs = run(frames)
    ups = [m for m in msgs if m.status == "update"]
    # the first journalist at once, the next two together once the urgent gap has passed
    assert [u.changes for u in ups] == [("journalist:a",), ("journalist:b", "journalist:c")]
    assert ups[1].event_ts - ups[0].event_ts == P.urgent_gap_s
    emp1 = sig("mobilisation:a", "warning", kind="employee_mobilisation",
               notables=("employee_campaign:a",))
    emp2 = sig("mobilisation:b", "warning", kind="employee_mobilisation",
               notables=("employee_campaign:b",))
    frames = [(base,)] * 20 + [(base, emp1)] * 3 + [(base, emp1, emp2)] * 30
    _, msgs = run(frames)
    ups = [m for m in msgs if m.status == "update"]
    assert [u.changes for u in ups] == [("employee_campaign:a",), ("employee_campaign:b",)]
    assert ups[1].event_ts - ups[0].event_ts == P.min_update_gap_s


def test_a_lone_high_reach_author_or_trend_does_not_open_at_once() -> None:
    _, msgs = run([(sig("influencer_engaged", "watch"),)] * 30)
    assert msgs == []
    _, msgs = run([(sig("trending_hashtag:rugby", "warning"),)] * 29)
    assert msgs == []  # a lone trend must hold half an hour, and it is capped at watch
    _, msgs = run([(sig("trending_hashtag:rugby", "warning"),)] * 32)
    assert [(m.status, m.situation.severity) for m in msgs] == [("open", "watch")]
    assert msgs[0].event_ts - (T0 + B) == P.open_hold_s["trending_hashtag"]


def test_a_noisy_signal_opens_at_once_at_crisis_or_beside_another_signal() -> None:
    _, msgs = run([(sig("sentiment_shift", "warning"),)] * 10)
    assert msgs == []
    _, msgs = run([(sig("sentiment_shift", "crisis"),)])
    assert [(m.status, m.situation.severity) for m in msgs] == [("open", "crisis")]
    _, msgs = run([(sig("sentiment_shift", "warning"), sig("trending_hashtag:panne", "watch"))])
    assert [(m.status, m.situation.severity) for m in msgs] == [("open", "warning")]


def test_unusual_volume_corroborates_a_negative_turn_but_not_a_trend() -> None:
    def opened(signal: SignalView, busy: bool) -> bool:
        ts = T0 + B
        _, msg, _ = step(SituationState(), "w", (signal,), int(T0), ts, P, busy)
        return msg is not None
    assert opened(sig("sentiment_shift", "warning"), busy=True)
    assert not opened(sig("sentiment_shift", "warning"), busy=False)
    # a trend's evidence is its own extra posts: the volume would only count them again
    assert not opened(sig("trending_hashtag:sncf", "warning"), busy=True)


def test_an_employee_campaign_is_context_not_a_crisis() -> None:
    emp = sig("mobilisation:becauseweloveSG", "crisis", kind="employee_mobilisation",
              notables=("employee_campaign:becauseweloveSG",))
    _, msgs = run([(emp,)] * 5)
    assert [(m.status, m.situation.severity) for m in msgs] == [("open", "watch")]


levels = st.sampled_from((None, *SEVERITIES))
frame = st.tuples(levels, levels, st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.lists(frame, min_size=1, max_size=600))
def test_no_flap_no_flood_and_crisis_never_waits(frames_spec: list[Any]) -> None:
    frames = []
    for a, b, j in frames_spec:
        sigs = []
        if a:
            sigs.append(sig("bad_buzz", a))
        if b:
            sigs.append(sig("sentiment_shift", b,
                            notables=(f"journalist:j{len(frames) % 7}",) if j else ()))
        frames.append(tuple(sigs))
    _, msgs = run(frames)
    # no flaps, and at most the daily cap of messages in any 24 h (escalations to crisis
    # aside, which are never held back)
    assert flaps(docs(msgs)) == 0
    per_id: dict[str, list[Message]] = {}
    for m in msgs:
        per_id.setdefault(m.situation.situation_id, []).append(m)
    for ms in per_id.values():
        assert ms[0].status == "open"
        assert all(m.status != "open" for m in ms[1:])
        others = [m for m in ms if not (m.reason == "escalation"
                                        and m.situation.severity == "crisis")]
        assert len(others) <= P.max_messages_per_day
        seqs = [m.situation.sequence for m in ms]
        assert seqs == list(range(len(ms)))
    # a crisis signal is a crisis message in the same bucket, unless it is a return to
    # crisis within the flap window
    state = SituationState()
    for i, sigs in enumerate(frames):
        ts = T0 + (i + 1) * B
        state, _, held = step(state, "w", sigs, int(ts - B), ts, P)
        cur = state.current
        if cur is not None and any(s.severity == "crisis" for s in sigs):
            assert RANK[cur.severity] == RANK["crisis"], (cur.severity, held)
