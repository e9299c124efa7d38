"""Sink configuration shared by every sink: severity ladder, tuning, masked repr."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from streams.masking import Masked, redact_url

SEVERITIES: tuple[str, ...] = ("watch", "warning", "crisis")
DROP_QUEUE_FULL = "queue_full"
DROP_GAVE_UP = "gave_up"
DROP_CLIENT_ERROR = "client_error"

Alert = Mapping[str, Any]


def severity_rank(severity: str) -> int:
    """Rank of a severity on the ladder watch < warning < crisis; unknown ranks below all."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        return -1


def meets_severity(alert: Alert, min_severity: str) -> bool:
    """True when the alert's severity is at or above ``min_severity``."""
    return severity_rank(str(alert.get("severity", ""))) >= severity_rank(min_severity)


@dataclass(frozen=True, kw_only=True, repr=False)
class DeliveryConfig(Masked):
    """Tuning shared by every sink; subclasses add their endpoint and credentials."""

    URL_PATH_IS_SECRET: ClassVar[bool] = False

    url: str
    name: str = "sink"
    min_severity: str = "warning"
    timeout_s: float = 5.0
    max_attempts: int = 5
    base_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    queue_size: int = 1000

    def __post_init__(self) -> None:
        if not self.url.lower().startswith(("http://", "https://")):
            raise ValueError(f"{self.name}: url must be http(s), got {redact_url(self.url)!r}")
        if self.min_severity not in SEVERITIES:
            raise ValueError(f"{self.name}: min_severity must be one of {SEVERITIES}")
        if self.timeout_s <= 0 or self.max_attempts < 1 or self.queue_size < 1:
            raise ValueError(f"{self.name}: timeout_s > 0, max_attempts >= 1, queue_size >= 1")
        if self.base_backoff_s < 0 or self.max_backoff_s < self.base_backoff_s:
            raise ValueError(f"{self.name}: 0 <= base_backoff_s <= max_backoff_s")

    def shown(self, name: str, value: Any) -> Any:
        """The endpoint is shown without credentials (its path too when it is the token)."""
        return redact_url(value, path_is_secret=self.URL_PATH_IS_SECRET) if name == "url" \
            else value
