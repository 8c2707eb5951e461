"""Fetch fixture pages over real loopback HTTP and run the real Extractor on them.

Used by the profile, sign-in and social-widget extraction tests: the page goes through the same
folder server, fetcher, decoder and single DOM pass as in an audit, so what the tests prove is
what an audit sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smo_audit.crawl.fetcher import DEFAULT_USER_AGENT, Fetcher, FetchLimits
from smo_audit.crawl.local_server import serve_folder
from smo_audit.crawl.models import RawPage
from smo_audit.extract import ExtractedPage, Extractor

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"
_EXTRACTOR = Extractor()


@pytest.fixture(scope="module")
def rules_site() -> Iterator[str]:
    """fixtures/rules/ served on 127.0.0.1; yields the base URL ("http://127.0.0.1:PORT/")."""
    with serve_folder(FIXTURES) as server:
        yield server.base_url


async def extract(base_url: str, path: str) -> ExtractedPage:
    """Fetch `path` under `base_url` over HTTP and extract it."""
    url = base_url.rstrip("/") + "/" + path.lstrip("/")
    async with Fetcher(DEFAULT_USER_AGENT, FetchLimits(total_timeout=10)) as fetcher:
        response = await fetcher.fetch(url, html_only=True)
    assert response.status == 200, f"{url} answered {response.status}"
    return _EXTRACTOR.extract(RawPage(response))
