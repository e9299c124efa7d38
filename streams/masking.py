"""Secrets out of logs: one masked repr for every frozen settings-like dataclass."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

MASK = "***"


def mask_url(url: str) -> str:
    """Hide the password of a URL such as redis://user:pass@host/0."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_url(url: str, *, path_is_secret: bool = False) -> str:
    """Hide credentials in a URL: user info and query always, the path when it is a token."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username or parts.password:
        netloc = f"{MASK}@{netloc}"
    path = f"/{MASK}" if path_is_secret and parts.path.strip("/") else parts.path
    return urlunsplit((parts.scheme, netloc, path, MASK if parts.query else "", ""))


class Masked:
    """Mixin of a dataclass (declared with repr=False) whose repr never shows a secret.

    ``SECRET_FIELDS`` are shown as ``***`` when set; ``shown`` may hide part of another
    field (a URL's password).
    """

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset()

    def shown(self, name: str, value: Any) -> Any:
        """How a field that is not a secret is shown (as it is, unless overridden)."""
        return value

    def masked(self) -> dict[str, Any]:
        """The fields as a dict with every secret masked, for logs."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = MASK if f.name in self.SECRET_FIELDS and value \
                else self.shown(f.name, value)
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.masked().items())
        return f"{type(self).__name__}({inner})"

    __str__ = __repr__
