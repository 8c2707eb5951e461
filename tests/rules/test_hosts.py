"""off_production is a pure function of a URL and where the page came from: judged directly."""

from __future__ import annotations

from typing import Any, cast

import pytest

from rules._hosts import off_production
from smo_audit.engine.api import AuditSettings, PageContext


def _ctx(page: str, base_url: str | None = None, local_copy: bool = False) -> PageContext:
    return PageContext(url=page, final_url=page, status=200, headers={}, facts=cast(Any, None), doc=cast(Any, None),
                       options={}, settings=AuditSettings(base_url=base_url, local_copy=local_copy),
                       resources=cast(Any, None))


@pytest.mark.parametrize(("url", "page", "base_url", "local_copy", "problem"), [
    # a live site: its own host is production
    ("https://example.com/a", "https://example.com/a", None, False, None),
    ("https://staging.example.com/a", "https://example.com/a", None, False, "a staging host (staging.example.com)"),
    ("https://acme.vercel.app/a", "https://example.com/a", None, False, "a preview-deployment host"),
    ("http://localhost:1313/a", "https://example.com/a", None, False, "a local address (localhost)"),
    # the staging server audited as itself names itself: right there
    ("https://staging.example.com/a", "https://staging.example.com/a", None, False, None),
    # ... but not when --base-url says production is elsewhere
    ("https://staging.example.com/a", "https://staging.example.com/a", "https://example.com", False,
     "not the production host example.com"),
    # a build folder: production is --base-url (given or detected from the build's own tags)
    ("https://example.com/a", "http://127.0.0.1:8000/a", "https://example.com", True, None),
    ("https://staging.example.com/a", "http://127.0.0.1:8000/a", "https://staging.example.com", True,
     "a staging host (staging.example.com)"),
    ("http://localhost:1313/a", "http://127.0.0.1:8000/a", None, True, "a local address"),
    ("https://acme.vercel.app/a", "http://127.0.0.1:8000/a", None, True, None),  # production unknown
    # a local dev server audited as the site, production unknown: not judged
    ("http://localhost:3000/a", "http://127.0.0.1:3000/a", None, False, None),
])
def test_off_production(url: str, page: str, base_url: str | None, local_copy: bool, problem: str | None) -> None:
    found = off_production(url, _ctx(page, base_url, local_copy))
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
