"""The bench's alert-latency matching (pure): triggering record, early alerts, warm-up tail."""

from __future__ import annotations

from streams.dev._bench_load import Rec
from streams.dev._bench_report import alert_latencies


def _alert(watch: str, bucket: int, count: int, status: str = "open",
           kind: str = "volume_spike") -> dict:
    iso = f"2024-01-01T00:{bucket // 60:02d}:00Z"
    return {"status": status, "type": kind, "watch": {"id": watch},
            "window": {"start": iso}, "evidence": {"count": count}}


def test_latency_runs_from_the_record_that_completed_the_evidence() -> None:
    t0 = 1_704_067_200  # 2024-01-01T00:00:00Z
    recs = [Rec(0.0, b"", 10, (("w", t0, 10),)),  # warm-up record
            Rec(1.0, b"", 10, (("w", t0 + 60, 4),)),
            Rec(2.0, b"", 10, (("w", t0 + 60, 6),)),
            Rec(3.0, b"", 10, (("w", t0 + 60, 5),))]
    ts = [100.0, 200.0, 201.0, 202.0]
    alerts = [(201.5, 201.6, _alert("w", 60, 10)),  # complete at record 2: early, 0.5 s
              (205.0, 205.1, _alert("w", 0, 10, kind="influencer_engaged")),  # warm-up
              (206.0, 206.0, _alert("w", 60, 15, status="update"))]
    a = alert_latencies(recs, ts, alerts, [("w", t0 + 60)], first_live=1)
    assert a["matched"] == 1 and a["warmup_triggered"] == 1 and a["unmatched"] == 0
    assert a["kafka_latencies_s"] == [0.5]
    assert a["early_before_close"] == 1  # 10 of the bucket's final 15
    assert a["bursts_alerted"] == 1
    assert a["kafka_by_type"] == {"volume_spike": {"n": 1, "p50_s": 0.5, "p99_s": 0.5}}
