"""Delivery payloads (Slack, Teams, generic, Grafana), HMAC signatures, filtering, masking."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.outputs.delivery import (
    ChatWebhookConfig,
    ChatWebhookSink,
    GrafanaAnnotationSink,
    GrafanaConfig,
    SignedWebhookConfig,
    SignedWebhookSink,
    annotation_payload,
    chat_payload,
    meets_severity,
    parse_retry_after,
    sign,
    slack_payload,
    teams_adaptive_payload,
    teams_messagecard_payload,
    verify,
)
from streams.outputs.delivery._queue import DeliveryCallbacks, backoff_s
from streams.outputs.delivery.chat import safe_url

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "alert.v1" / "valid"
SECRET = "s3cr3t-hmac-key"
LINK = "https://grafana.example/d/vigie?var-watch={watch_id}&alert={alert_id}"


def load(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


@pytest.fixture
def alert() -> dict[str, Any]:
    return load("volume-spike-open")


def test_slack_payload_has_text_and_every_required_part(alert: dict[str, Any]) -> None:
    payload = slack_payload(alert, LINK)
    assert set(payload) == {"text", "blocks"}
    assert alert["summary"] in payload["text"]
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds == ["header", "section", "section", "section", "context", "actions"]
    header = payload["blocks"][0]["text"]["text"]
    assert "WARNING" in header and "Société Générale" in header and len(header) <= 150
    fields = " ".join(f["text"] for f in payload["blocks"][2]["fields"])
    for expected in ("*Severity*\nwarning", "*Status*\nopen", "societe_generale",
                     "214 posts vs 18.4 expected (×11.6)"):
        assert expected in fields
    posts = payload["blocks"][3]["text"]["text"]
    assert posts.count("\n• ") == 3
    assert "<https://twitter.com/LeParisien_eco/status/1798012345678909999|@LeParisien_eco" in posts
    assert "#sgpanne (96)" in payload["blocks"][4]["elements"][0]["text"]
    button = payload["blocks"][5]["elements"][0]
    assert button["url"] == ("https://grafana.example/d/vigie?var-watch=societe_generale"
                             f"&alert={alert['alert_id']}")


def test_slack_shows_top_three_posts_only_and_no_button_without_link(
    alert: dict[str, Any],
) -> None:
    extra = copy.deepcopy(alert["evidence"]["top_posts"][0])
    extra["author"] = "fourth_author"
    alert["evidence"]["top_posts"].append(extra)
    payload = slack_payload(alert)
    text = json.dumps(payload, ensure_ascii=False)
    assert "fourth_author" not in text
    assert all(b["type"] != "actions" for b in payload["blocks"])


def test_slack_escapes_control_characters_and_drops_unsafe_links(alert: dict[str, Any]) -> None:
    alert["summary"] = "a <!channel> & <https://evil.example|click>"
    alert["evidence"]["top_posts"][0]["url"] = "javascript:alert(1)"
    payload = slack_payload(alert)
    body = json.dumps(payload)
    assert "<!channel>" not in body and "&lt;!channel&gt; &amp;" in payload["blocks"][1]["text"][
        "text"]
    assert "javascript:" not in body
    assert safe_url("https://x.example/a|b>c") == "https://x.example/a%7Cb%3Ec"


def test_teams_messagecard(alert: dict[str, Any]) -> None:
    card = teams_messagecard_payload(alert, LINK)
    assert card["@type"] == "MessageCard" and card["themeColor"] == "F2A900"
    facts = {f["name"]: f["value"] for f in card["sections"][0]["facts"]}
    assert facts["Severity"] == "warning" and facts["Status"] == "open"
    assert "18.4 expected" in facts["Volume"] and "#sgpanne (96)" in facts["Top hashtags"]
    posts = card["sections"][1]["text"]
    assert "](https://twitter.com/LeParisien_eco/status/1798012345678909999)" in posts
    assert posts.count("\n\n- ") == 2
    assert card["potentialAction"][0]["targets"][0]["uri"].startswith("https://grafana.example/")


def test_teams_adaptive_card(alert: dict[str, Any]) -> None:
    message = teams_adaptive_payload(alert, LINK)
    assert message["type"] == "message"
    attachment = message["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    facts = next(b for b in card["body"] if b["type"] == "FactSet")["facts"]
    assert {f["title"] for f in facts} >= {"Severity", "Status", "Watch", "Volume"}
    post_blocks = [b for b in card["body"] if b.get("text", "").startswith("- ")]
    assert len(post_blocks) == 3
    assert card["actions"][0]["type"] == "Action.OpenUrl"


def test_resolved_alert_is_green_everywhere() -> None:
    resolved = load("volume-spike-resolved")
    assert teams_messagecard_payload(resolved)["themeColor"] == "2EB67D"
    assert slack_payload(resolved)["blocks"][0]["text"]["text"].startswith("✅")


def test_every_example_formats_in_every_flavor() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        example = json.loads(path.read_text())
        for flavor in ("slack", "teams_messagecard", "teams_adaptive"):
            text = json.dumps(chat_payload(flavor, example), ensure_ascii=False)
            assert example["watch"]["name"] in text and example["severity"] in text
    with pytest.raises(ValueError, match="flavor"):
        chat_payload("discord", load("volume-spike-open"))


def test_chat_sink_request_uses_configured_flavor(alert: dict[str, Any]) -> None:
    sink = ChatWebhookSink(ChatWebhookConfig(url="https://hooks.example/T/B/X",
                                             flavor="teams_messagecard"))
    request = sink.build_request(alert)
    assert orjson.loads(request.body)["@type"] == "MessageCard"
    assert request.headers["Content-Type"] == "application/json"


def test_generic_webhook_body_is_the_alert_and_signature_verifies(alert: dict[str, Any]) -> None:
    sink = SignedWebhookSink(SignedWebhookConfig(url="https://hooks.example/in", secret=SECRET))
    request = sink.build_request(alert)
    assert orjson.loads(request.body) == alert
    headers = sink.attempt_headers(request)
    assert headers["X-Vigie-Dedup-Key"] == alert["dedup_key"]
    assert verify(SECRET, headers["X-Vigie-Timestamp"], request.body,
                  headers["X-Vigie-Signature"], tolerance_s=60)


def test_signature_matches_the_documented_recipe() -> None:
    body = b'{"alert_id":"x"}'
    expected = hmac.new(SECRET.encode(), b"1717395303." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1717395303, body) == f"sha256={expected}"
    assert sign(SECRET, "1717395303", body.decode()) == f"sha256={expected}"


def test_verify_rejects_tampering_wrong_secret_and_stale_timestamps() -> None:
    body, now = b'{"severity":"warning"}', 1_717_395_303.0
    ts = int(now)
    signature = sign(SECRET, ts, body)
    assert verify(SECRET, ts, body, signature, tolerance_s=300, now_s=now)
    assert not verify(SECRET, ts, b'{"severity":"crisis"}', signature, 300, now_s=now)
    assert not verify("other-secret", ts, body, signature, 300, now_s=now)
    assert not verify(SECRET, ts + 1, body, signature, 300, now_s=now)  # timestamp is signed
    flipped = signature[:-1] + ("1" if signature[-1] == "0" else "0")
    assert not verify(SECRET, ts, body, flipped, 300, now_s=now)
    assert not verify(SECRET, ts, body, signature.removeprefix("sha256="), 300, now_s=now)
    assert not verify(SECRET, "not-a-number", body, signature, 300, now_s=now)
    assert not verify("", ts, body, sign("", ts, body), 300, now_s=now)
    # expired and too far in the future, with an otherwise valid signature
    assert verify(SECRET, ts, body, signature, 300, now_s=now + 300)
    assert not verify(SECRET, ts, body, signature, 300, now_s=now + 301)
    assert not verify(SECRET, ts, body, signature, 300, now_s=now - 301)


@given(st.binary(max_size=512), st.integers(min_value=0, max_value=2**40))
def test_verify_accepts_exactly_what_sign_produces(body: bytes, ts: int) -> None:
    signature = sign(SECRET, ts, body)
    assert verify(SECRET, ts, body, signature, tolerance_s=1, now_s=float(ts))
    assert not verify(SECRET, ts, body + b" ", signature, tolerance_s=1, now_s=float(ts))


def test_severity_ladder() -> None:
    assert meets_severity({"severity": "crisis"}, "warning")
    assert meets_severity({"severity": "warning"}, "warning")
    assert not meets_severity({"severity": "watch"}, "warning")
    assert meets_severity({"severity": "watch"}, "watch")
    assert not meets_severity({"severity": "bogus"}, "watch")
    assert not meets_severity({}, "watch")


def test_sink_filters_by_severity_without_counting_a_drop(alert: dict[str, Any]) -> None:
    drops: list[tuple[str, str]] = []
    sink = ChatWebhookSink(ChatWebhookConfig(url="https://hooks.example/x", min_severity="crisis"),
                           DeliveryCallbacks(on_dropped=lambda s, r: drops.append((s, r))))
    assert not sink.accepts(alert)
    assert sink.submit(alert) is False and sink.pending == 0 and drops == []
    assert sink.submit({**alert, "severity": "crisis"}) is True and sink.pending == 1


def test_secrets_are_masked_in_repr_and_str() -> None:
    configs = [
        SignedWebhookConfig(url="https://user:pw-in-url@hooks.example/in?token=qtok",
                            secret="hmac-secret-value"),
        GrafanaConfig(url="http://grafana:3000", token="glsa_token_value"),
        ChatWebhookConfig(url="https://hooks.slack.com/services/T000/B000/slackpathsecret"),
    ]
    for config in configs:
        for shown in (repr(config), str(config), f"{config}", str(config.masked())):
            for secret in ("hmac-secret-value", "glsa_token_value", "slackpathsecret",
                           "pw-in-url", "qtok"):
                assert secret not in shown
            assert "***" in shown
    assert "grafana:3000" in repr(configs[1]) and "hooks.slack.com" in repr(configs[2])


@pytest.mark.parametrize("kwargs", [
    {"url": "ftp://x"}, {"url": "https://x", "min_severity": "high"},
    {"url": "https://x", "max_attempts": 0}, {"url": "https://x", "queue_size": 0},
    {"url": "https://x", "timeout_s": 0}, {"url": "https://x", "max_backoff_s": 0.1},
    {"url": "https://x", "flavor": "irc"},
])
def test_invalid_chat_config_is_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ChatWebhookConfig(**kwargs)


def test_signed_webhook_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        SignedWebhookConfig(url="https://x.example")


def test_grafana_point_annotation_for_open_alert(alert: dict[str, Any]) -> None:
    body = annotation_payload(alert, ("vigie",), "dash-uid")
    assert body["time"] == int(datetime(2024, 6, 3, 6, 15, tzinfo=UTC).timestamp() * 1000)
    assert "timeEnd" not in body
    assert body["tags"] == ["vigie", "volume_spike", "warning", "societe_generale", "open"]
    assert body["text"] == alert["summary"] and body["dashboardUID"] == "dash-uid"


def test_grafana_region_for_resolved_incident() -> None:
    resolved = load("volume-spike-resolved")
    body = annotation_payload(resolved)
    assert body["time"] == int(datetime(2024, 6, 3, 6, 10, tzinfo=UTC).timestamp() * 1000)
    assert body["timeEnd"] == int(datetime(2024, 6, 3, 9, 50, tzinfo=UTC).timestamp() * 1000)
    assert body["tags"][-1] == "resolved" and "dashboardUID" not in body
    del resolved["resolved_at"]  # unknown end: a point at the event time
    point = annotation_payload(resolved)
    assert "timeEnd" not in point and point["time"] == body["timeEnd"]


def test_grafana_request_has_bearer_token_and_path(alert: dict[str, Any]) -> None:
    sink = GrafanaAnnotationSink(GrafanaConfig(url="http://grafana:3000/sub/", token="tok"))
    request = sink.build_request(alert)
    assert request.url == "http://grafana:3000/sub/api/annotations"
    assert request.headers["Authorization"] == "Bearer tok"
    assert orjson.loads(request.body)["tags"][0] == "vigie"


def test_retry_after_parsing() -> None:
    now = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now_s=now.timestamp()) == pytest.approx(30.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@given(st.integers(min_value=1, max_value=40))
def test_backoff_grows_exponentially_with_jitter_and_is_capped(attempt: int) -> None:
    rng = random.Random(attempt)
    wait = backoff_s(attempt, base_s=0.5, max_s=30.0, rng=rng)
    ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
    assert ceiling / 2 <= wait <= ceiling
