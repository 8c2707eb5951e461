"""Preview-image fetching as a whole: every link-preview fixture page audited with every
link-preview rule never requests anything outside 127.0.0.1, and an image fetch is bounded in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from smo_audit.config import AuditConfig
from smo_audit.crawl.local_server import serve_folder
from smo_audit.engine.resources import ResourceCache
from smo_audit.pipeline import Audit, Target
from smo_audit.report.model import Report
from tests.rules.link_preview_sites import preview_page
from tests.support.scripted_server import Reply, html

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"
PAGES = sorted(str(p.relative_to(FIXTURES)) for family in ("link_preview", "open_graph")
               for p in (FIXTURES / family).glob("*.html"))
CATEGORIES = ["open-graph", "twitter-card", "preview-image", "crawler-access", "identity"]


def _run(url: str, **config: Any) -> Report:
    settings = AuditConfig(max_pages=1, use_sitemaps=False, retries=0, quiet=True, debug=True,
                           **{"timeout": 10, **config})
    return asyncio.run(Audit(Target(url, url=url), settings).run())


@pytest.fixture(scope="module")
def fixture_site() -> Iterator[str]:
    with serve_folder(FIXTURES) as server:
        yield server.base_url.rstrip("/")


@pytest.fixture
def requested(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL a rule or a preview card asks the ResourceCache for (the call still goes through)."""
    seen: list[str] = []
    original = ResourceCache._load

    async def spy(self: ResourceCache, url: str, *args: Any) -> Any:
        seen.append(url)
        return await original(self, url, *args)

    monkeypatch.setattr(ResourceCache, "_load", spy)
    return seen


def test_fixture_pages_are_found() -> None:
    assert len(PAGES) > 40 and "open_graph/full.html" in PAGES


@pytest.mark.parametrize("page", PAGES)
def test_fixture_audits_never_leave_loopback(page: str, fixture_site: str, requested: list[str]) -> None:
    report = _run(f"{fixture_site}/{page}", select=CATEGORIES)
    assert report.pages and not [f for f in report.pages[0].findings if f.status == "error"]
    outside = [u for u in requested if urlsplit(u).hostname != "127.0.0.1"]
    assert outside == [], f"{page} made requests outside loopback"


def test_a_slow_image_fails_within_the_time_limit(scripted_server) -> None:
    server = scripted_server({"/img/slow.png": Reply(200, {"content-type": "image/png"}, b"", delay=5)})
    server.routes["/"] = html(preview_page(server.base_url, "/", image="/img/slow.png"))
    started = time.monotonic()
    report = _run(server.url("/"), select=["og-image-reachable"], timeout=1)
    assert time.monotonic() - started < 4
    [finding] = [f for f in report.pages[0].findings if f.rule == "og-image-reachable"]
    assert finding.status == "fail" and "cannot be loaded" in finding.message
    assert finding.data is not None and finding.data["kind"] == "timeout"
    assert report.pages[0].preview["facebook"].verdict == "broken"
