"""RFC 3339 UTC timestamps as the contracts write them."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(ts: float) -> str:
    """RFC 3339 UTC with a Z suffix, to the second (alert times)."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_precise(ts: float) -> str:
    """RFC 3339 UTC with a Z suffix, to the microsecond (dead letters' received_at)."""
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
