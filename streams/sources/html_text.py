"""Mastodon's HTML content to plain text, as its own plain-text rendering does."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style"})


@dataclass(frozen=True, slots=True)
class Text:
    """Plain text and the links that are neither mentions nor hashtags."""

    text: str
    links: tuple[str, ...]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities unescaped in handle_data
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            self._paragraph()
        elif tag == "a":
            a = dict(attrs)
            classes = (a.get("class") or "").split()
            href = a.get("href")
            # mention and hashtag links point at profiles and tag pages, not at content
            if href and "mention" not in classes and "hashtag" not in classes:
                self.links.append(href)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "p":
            self._paragraph()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    def _paragraph(self) -> None:
        # one blank line between paragraphs, none before the first
        text = "".join(self.parts).rstrip(" ")
        if text and not text.endswith("\n\n"):
            self.parts = [text.rstrip("\n") + "\n\n"]


def html_to_text(content: str) -> Text:
    """Tags dropped, entities unescaped, <br> a newline, paragraphs a blank line apart.

    Mastodon writes a link's hidden parts in `invisible` spans: their text is kept, so a
    shortened link reads as the whole URL.
    """
    parser = _Parser()
    parser.feed(content)
    parser.close()
    text = "".join(parser.parts).strip()
    return Text(text, tuple(parser.links))
