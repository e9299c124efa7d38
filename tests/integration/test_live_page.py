"""The worker's live page in a real headless Chromium, during the demo's bad buzz.

A real stack (Tansu, redis-server, a `vigie worker` process) replays the `bank-bad-buzz`
scenario up to the middle of the surge, so the incident is open. Chromium (Debian's package,
installed here when missing) renders /live after its JavaScript ran: the dumped DOM must show
the open incident, the trending hashtags and the last alerts; the screenshot must be a real
picture of them, not a blank page.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import time
import urllib.request
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from streams.dev import scenarios, simulate
from tests.integration.harness import batched, produce, stack

PACKAGES = ("chromium", "fonts-liberation")  # fonts: text must be drawn in the screenshot
WINDOW = (1400, 1000)
# colours of live.html's stylesheet (--bg, --panel and the severity badges)
BACKGROUND, PANEL = (0x0F, 0x14, 0x19), (0x18, 0x20, 0x29)
SEVERITY_RGB = {"watch": (0xE0, 0xC3, 0x41), "warning": (0xF0, 0x8A, 0x24),
                "crisis": (0xE5, 0x48, 0x4D)}


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _ensure_chromium() -> str:
    """Debian's chromium package renders the page; install it (as root, with apt) if missing."""
    found = _chromium()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("chromium is missing and cannot be installed (the test setup needs root "
                    "and apt-get to install Debian's chromium package)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends",
               "-o", "DPkg::Lock::Timeout=600", *PACKAGES]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q", "-o", "DPkg::Lock::Timeout=600"], env=env,
                       capture_output=True, check=True)
        r = subprocess.run(install, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            pytest.fail(f"apt-get install {' '.join(PACKAGES)} failed:\n{r.stdout}\n{r.stderr}")
    found = _chromium()
    if not found:
        pytest.fail("chromium was installed but no chromium binary is on PATH")
    return found


def _state(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=5) as r:
        return dict(json.loads(r.read()))


def _fingerprint(s: dict[str, Any]) -> Any:
    return ([(a["alert_id"], a["sequence"]) for a in s["alerts"]],
            [(w["watch"], w["level"], w["situation"] and [
                (g["type"], g["subject"], g["status"], g["severity"])
                for g in w["situation"]["signals"]]) for w in s["watches"]])


@dataclass
class Page:
    """What Chromium rendered, and the worker state it rendered."""

    state: dict[str, Any]
    dom: str
    screenshot: Path


@pytest.fixture(scope="module")
def chromium() -> str:
    return _ensure_chromium()


@pytest.fixture(scope="module")
def page(chromium: str, tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Page:
    tmp = tmp_path_factory.mktemp("live")
    # The replay stops 30 minutes into the surge (the scenario's onset is 3 h before its end),
    # and that moment is now: when the input goes idle the watermark follows the wall clock,
    # which is then the surge's own time, so the incident stays open while Chromium looks.
    cut = datetime.now(UTC).replace(second=0, microsecond=0)
    sc = scenarios.bank_bad_buzz(end=cut + timedelta(hours=2, minutes=30), days=1.5)
    lines = [orjson.dumps(ev) for ev in simulate.generate(sc, seed=5)
             if datetime.fromisoformat(ev["created_at"]) < cut]
    with stack(tmp, redis_server.url, f"it-live-{tmp.name[-6:]}") as st:
        st.start_worker()
        produce(st.broker.bootstrap, batched(lines))
        state = _wait_for_incident(st.port, timeout_s=90.0)
        shot = tmp / "live.png"
        url = f"http://127.0.0.1:{st.port}/live"
        for _ in range(3):  # the DOM is compared with a state that held during the whole render
            _run_chromium(chromium, tmp, [f"--screenshot={shot}", url])
            dom = _run_chromium(chromium, tmp, ["--dump-dom", url])
            after = _state(st.port)
            if _fingerprint(after) == _fingerprint(state):
                return Page(state, dom, shot)
            state = _wait_for_incident(st.port, timeout_s=30.0)
        pytest.fail("the worker state kept changing while Chromium rendered the page")


def _wait_for_incident(port: int, timeout_s: float) -> dict[str, Any]:
    """The worker's state once an incident is open and the state has settled for 3 s."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    s: dict[str, Any] = {}
    since = time.monotonic()
    while time.monotonic() < deadline:
        s = _state(port)
        fp = _fingerprint(s)
        if fp != last:
            last, since = fp, time.monotonic()
        ready = any(w["situation"] for w in s["watches"]) and s["alerts"] and s["trending"]
        if ready and time.monotonic() - since >= 3.0:
            return s
        time.sleep(0.5)
    pytest.fail(f"no settled open incident within {timeout_s:.0f}s: {json.dumps(s)[:2000]}")


def _run_chromium(binary: str, tmp: Path, args: list[str]) -> str:
    cmd = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--hide-scrollbars", f"--user-data-dir={tmp / 'chromium-profile'}",
           f"--window-size={WINDOW[0]},{WINDOW[1]}", "--virtual-time-budget=8000", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, (cmd, r.returncode, r.stderr[-3000:])
    return r.stdout


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def all_text(self) -> str:
        return " ".join(" ".join(self.text + [c.all_text() for c in self.children]).split())

    def find(self, pred: Any) -> Iterator[_Node]:
        if pred(self):
            yield self
        for c in self.children:
            yield from c.find(pred)


class _Tree(HTMLParser):
    """A small DOM of Chromium's dump (it serialises well-formed HTML)."""

    VOID: ClassVar[frozenset[str]] = frozenset(
        {"meta", "br", "img", "input", "link", "hr", "polyline", "path", "circle", "rect"})

    def __init__(self) -> None:
        super().__init__()
        self.root = _Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].text.append(data)


def _dom(html: str) -> _Node:
    t = _Tree()
    t.feed(html)
    return t.root


def _by_id(root: _Node, ident: str) -> _Node:
    found = list(root.find(lambda n: n.attrs.get("id") == ident))
    assert len(found) == 1, f"#{ident}: {len(found)} elements"
    return found[0]


def _classes(n: _Node) -> set[str]:
    return set(n.attrs.get("class", "").split())


def test_the_page_shows_one_card_per_open_situation_with_its_signals(page: Page) -> None:
    root = _dom(page.dom)
    cards = _by_id(root, "situations")
    shown = {n.attrs["data-situation"]: n
             for n in cards.find(lambda n: "data-situation" in n.attrs)}
    open_ = [w for w in page.state["watches"] if w["situation"]]
    assert open_ and len(shown) == len(open_)
    for w in open_:
        sit = w["situation"]
        node = shown.get(sit["situation_id"])
        assert node is not None, (sit["situation_id"], sorted(shown))
        text = node.all_text()
        assert w["name"] in text, text
        assert sit["severity"] in _classes(node)
        # the card's first badge is the situation's severity, the one the watches table shows
        badges = [b.all_text() for b in node.find(lambda n: "lvl" in _classes(n))]
        assert badges[0] == sit["severity"] == w["level"], (badges, sit["severity"])
        items = [li for li in node.find(lambda n: n.tag == "li")]
        assert len(items) == len(sit["signals"])
        for li, g in zip(items, sit["signals"], strict=True):
            assert g["type"].replace("_", " ") in li.all_text(), (g, li.all_text())
    socgen = next(w for w in page.state["watches"] if w["watch"] == "socgen")
    assert socgen["situation"], "the bad buzz is on Société Générale"
    assert [w["watch"] for w in open_] == ["socgen"], "and nothing else is a situation"


def test_the_situation_shows_its_story_and_evidence(page: Page) -> None:
    root = _dom(page.dom)
    newest: dict[str, Any] = {}
    for a in page.state["alerts"]:
        if a["situation_id"] not in newest or newest[a["situation_id"]]["sequence"] < \
                a["sequence"]:
            newest[a["situation_id"]] = a
    socgen = next(w for w in page.state["watches"] if w["watch"] == "socgen")
    sit = socgen["situation"]
    alert = newest.get(sit["situation_id"])
    assert alert is not None, "the worker's last messages hold the open situation"
    node = next(_by_id(root, "situations").find(
        lambda n: n.attrs.get("data-situation") == sit["situation_id"]))
    text = node.all_text()
    assert " ".join(alert["summary"].split()) in text
    posts = alert["evidence"]["top_posts"][:3]
    assert posts
    for p in posts:
        assert f"@{p['author']}" in text, (p["author"], text)


def test_the_page_shows_trending_hashtags_and_last_alerts(page: Page) -> None:
    root = _dom(page.dom)
    items = [n.all_text() for n in _by_id(root, "trending").children if n.tag == "li"]
    assert len(items) == len(page.state["trending"])
    for li, tag in zip(items, page.state["trending"], strict=True):
        assert li.startswith(f"#{tag['tag']}"), (li, tag)
    rows = [n for n in _by_id(root, "alerts").children if "msg" in _classes(n)]
    assert len(rows) == min(15, len(page.state["alerts"]))
    for row, a in zip(rows, page.state["alerts"], strict=False):
        text = row.all_text()
        assert a["status"] in text and a["watch"]["name"] in text and a["severity"] in text, \
            text
    # the watches table: one row per watch, with its level and a sparkline
    trs = [n for n in _by_id(root, "watches").children if n.tag == "tr"]
    assert [tr.all_text().split()[0] for tr in trs] == \
        [w["name"].split()[0] for w in page.state["watches"]]
    assert all(list(tr.find(lambda n: n.tag == "polyline")) for tr in trs)
    status = _by_id(root, "status").all_text()
    assert status.startswith("updated") and f"{len(page.state['watches'])} watches" in status


def test_the_screenshot_is_a_picture_of_the_page(page: Page,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\nlive page screenshot: {page.screenshot}")
    data = page.screenshot.read_bytes()
    assert len(data) > 20_000, len(data)
    width, height, pixels = _decode_png(data)
    assert (width, height) == WINDOW, (width, height)
    colours = Counter(pixels)
    assert len(colours) > 50, len(colours)  # text, badges, sparklines: not a blank page
    top = colours.most_common(3)
    assert {BACKGROUND, PANEL} <= {c for c, _ in top}, top  # the page's own stylesheet
    assert top[0][1] < 0.8 * width * height, top
    socgen = next(w for w in page.state["watches"] if w["watch"] == "socgen")
    # the situation's severity badge is drawn in its colour
    assert colours[SEVERITY_RGB[socgen["situation"]["severity"]]] > 100, socgen["situation"]


def _decode_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit RGB/RGBA non-interlaced PNG (stdlib only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    pos, idat, ihdr = 8, bytearray(), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, ihdr
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    assert len(raw) == height * (stride + 1)
    prev = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for y in range(height):
        f = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        _unfilter(f, row, prev, bpp)
        pixels += zip(row[0::bpp], row[1::bpp], row[2::bpp], strict=True)
        prev = row
    return width, height, pixels


def _unfilter(f: int, row: bytearray, prev: bytearray, bpp: int) -> None:
    n = len(row)
    if f == 0:
        return
    if f == 1:
        for i in range(bpp, n):
            row[i] = (row[i] + row[i - bpp]) & 0xFF
    elif f == 2:
        for i in range(n):
            row[i] = (row[i] + prev[i]) & 0xFF
    elif f == 3:
        for i in range(n):
            left = row[i - bpp] if i >= bpp else 0
            row[i] = (row[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif f == 4:
        for i in range(n):
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    else:
        raise AssertionError(f"bad PNG filter {f}")
