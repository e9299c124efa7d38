"""Pure chat payloads for an alert.v1: Slack blocks, Teams MessageCard and Adaptive Card."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

Alert = Mapping[str, Any]

FLAVORS: tuple[str, ...] = ("slack", "teams_messagecard", "teams_adaptive")
TOP_POSTS = 3
TOP_HASHTAGS = 5
POST_TEXT_CHARS = 160
SEVERITY_ICON = {"watch": "🔵", "warning": "🟠", "crisis": "🔴"}
SEVERITY_COLOR = {"watch": "439FE0", "warning": "F2A900", "crisis": "D0021B"}
RESOLVED_ICON, RESOLVED_COLOR = "✅", "2EB67D"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~])")


@dataclass(frozen=True)
class Post:
    """A top post as shown in chat."""

    author: str
    platform: str
    text: str
    url: str | None
    reach: int | None


@dataclass(frozen=True)
class ChatView:
    """Everything a chat card shows, extracted once from an alert."""

    title: str
    icon: str
    color: str
    summary: str
    severity: str
    status: str
    watch: str
    volume: str
    posts: tuple[Post, ...]
    hashtags: tuple[str, ...]
    link: str | None


def safe_url(url: object) -> str | None:
    """Keep only http(s) URLs, with the characters chat link syntaxes choke on encoded."""
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        return None
    return quote(url, safe=":/?#@!$&'()*+,;=%-._~")


def kind_of(alert: Alert) -> str:
    """What a message is about: a situation's lead signal (alert.v2), or a signal's type."""
    lead = alert.get("lead")
    if isinstance(lead, Mapping) and lead.get("type"):
        return str(lead["type"])
    return str(alert.get("type", "alert"))


def link_for(template: str, alert: Alert) -> str | None:
    """Fill ``{watch_id}``, ``{alert_id}`` and ``{type}`` in a link-back URL template."""
    if not template:
        return None
    watch = alert.get("watch") or {}
    filled = (template.replace("{watch_id}", quote(str(watch.get("id", "")), safe=""))
              .replace("{alert_id}", quote(str(alert.get("alert_id", "")), safe=""))
              .replace("{type}", quote(kind_of(alert), safe="")))
    return safe_url(filled)


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "?"
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", " ")
    return f"{value:,.1f}".replace(",", " ")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def view(alert: Alert, link_template: str = "") -> ChatView:
    """Extract the chat view of an alert (tolerates missing optional evidence)."""
    evidence = alert.get("evidence") or {}
    watch = alert.get("watch") or {}
    severity = str(alert.get("severity", "?"))
    status = str(alert.get("status", "?"))
    kind = kind_of(alert).replace("_", " ")
    if "situation_id" in alert:  # alert.v2: one situation grouping signals
        kind = f"situation ({kind})"
    watch_name = str(watch.get("name") or watch.get("id") or "?")
    resolved = status == "resolved"
    ratio = evidence.get("ratio")
    volume = f"{_number(evidence.get('count'))} posts vs {_number(evidence.get('baseline'))} " \
             "expected"
    if isinstance(ratio, int | float) and not isinstance(ratio, bool):
        volume += f" (×{ratio:.1f})"
    posts = tuple(
        Post(author=str(p.get("author", "?")), platform=str(p.get("platform", "")),
             text=_clip(" ".join(str(p.get("text") or "").split()), POST_TEXT_CHARS),
             url=safe_url(p.get("url")),
             reach=p.get("reach") if isinstance(p.get("reach"), int) else None)
        for p in list(evidence.get("top_posts") or [])[:TOP_POSTS] if isinstance(p, Mapping))
    hashtags = tuple(
        f"#{h['tag']} ({h.get('count', '?')})"
        for h in list(evidence.get("top_hashtags") or [])[:TOP_HASHTAGS]
        if isinstance(h, Mapping) and h.get("tag"))
    return ChatView(
        title=f"{severity.upper()} · {kind} · {watch_name}" + (" · resolved" if resolved else ""),
        icon=RESOLVED_ICON if resolved else SEVERITY_ICON.get(severity, "⚪"),
        color=RESOLVED_COLOR if resolved else SEVERITY_COLOR.get(severity, "808080"),
        summary=str(alert.get("summary", "")), severity=severity, status=status,
        watch=f"{watch_name} ({watch.get('id', '?')})", volume=volume, posts=posts,
        hashtags=hashtags, link=link_for(link_template, alert))


def slack_escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_escape(text: str) -> str:
    """Escape markdown control characters for Teams text."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _slack_post(post: Post) -> str:
    who = slack_escape(f"@{post.author}" + (f" ({post.platform})" if post.platform else ""))
    who = f"<{post.url}|{who}>" if post.url else who
    return f"• {who}: {slack_escape(post.text)}"


def slack_payload(alert: Alert, link_template: str = "") -> dict[str, Any]:
    """Slack incoming-webhook payload: fallback ``text`` plus Block Kit ``blocks``."""
    v = view(alert, link_template)
    fields = [("Severity", v.severity), ("Status", v.status), ("Watch", v.watch),
              ("Volume", v.volume)]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                    "text": _clip(f"{v.icon} {v.title}", 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(slack_escape(v.summary),
                                                                     3000)}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{name}*\n{slack_escape(value)}"}
            for name, value in fields]},
    ]
    if v.posts:
        lines = "\n".join(_slack_post(p) for p in v.posts)
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": _clip(f"*Top posts*\n{lines}", 3000)}})
    if v.hashtags:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": slack_escape("Top hashtags: " + ", ".join(v.hashtags))}]})
    if v.link:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open in Vigie"},
             "url": v.link}]})
    return {"text": f"{v.icon} {slack_escape(v.summary or v.title)}", "blocks": blocks}


def _md_post(post: Post) -> str:
    who = md_escape(f"@{post.author}" + (f" ({post.platform})" if post.platform else ""))
    who = f"[{who}]({post.url})" if post.url else who
    return f"- {who}: {md_escape(post.text)}"


def _facts(v: ChatView) -> list[tuple[str, str]]:
    facts = [("Severity", v.severity), ("Status", v.status), ("Watch", v.watch),
             ("Volume", v.volume)]
    if v.hashtags:
        facts.append(("Top hashtags", ", ".join(v.hashtags)))
    return facts


def teams_messagecard_payload(alert: Alert, link_template: str = "") -> dict[str, Any]:
    """Teams connector payload as a legacy Office 365 MessageCard."""
    v = view(alert, link_template)
    sections: list[dict[str, Any]] = [{
        "activityTitle": md_escape(v.summary), "markdown": True,
        "facts": [{"name": n, "value": md_escape(val)} for n, val in _facts(v)]}]
    if v.posts:
        sections.append({"title": "Top posts", "markdown": True,
                         "text": "\n\n".join(_md_post(p) for p in v.posts)})
    card: dict[str, Any] = {
        "@type": "MessageCard", "@context": "https://schema.org/extensions",
        "themeColor": v.color, "summary": _clip(v.summary or v.title, 200),
        "title": f"{v.icon} {md_escape(v.title)}", "sections": sections}
    if v.link:
        card["potentialAction"] = [{"@type": "OpenUri", "name": "Open in Vigie",
                                    "targets": [{"os": "default", "uri": v.link}]}]
    return card


def teams_adaptive_payload(alert: Alert, link_template: str = "") -> dict[str, Any]:
    """Teams (incoming webhook or Workflows) message carrying an Adaptive Card 1.4."""
    v = view(alert, link_template)
    style = {"crisis": "attention", "warning": "warning"}.get(v.severity, "accent")
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True,
         "color": "good" if v.status == "resolved" else style,
         "text": f"{v.icon} {md_escape(v.title)}"},
        {"type": "TextBlock", "wrap": True, "text": md_escape(v.summary)},
        {"type": "FactSet", "facts": [{"title": n, "value": md_escape(val)}
                                      for n, val in _facts(v)]},
    ]
    if v.posts:
        body.append({"type": "TextBlock", "weight": "Bolder", "text": "Top posts"})
        body.extend({"type": "TextBlock", "wrap": True, "spacing": "Small",
                     "text": _md_post(p)} for p in v.posts)
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "type": "AdaptiveCard", "version": "1.4", "body": body,
                            "msteams": {"width": "Full"}}
    if v.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Vigie", "url": v.link}]
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": card}]}


def chat_payload(flavor: str, alert: Alert, link_template: str = "") -> dict[str, Any]:
    """The payload for one flavor among ``FLAVORS``."""
    builders = {"slack": slack_payload, "teams_messagecard": teams_messagecard_payload,
                "teams_adaptive": teams_adaptive_payload}
    if flavor not in builders:
        raise ValueError(f"unknown chat flavor {flavor!r}; one of {FLAVORS}")
    return builders[flavor](alert, link_template)

