"""A page that breaks never raises the site score.

The site score is a mean over pages: a weak page that starts answering 500 or 404 would leave the
mean and lift it. A page the site fails to deliver counts as a page scoring 0 instead, so the site
scores lower broken than weak, and mending it never lowers the score.
"""

from __future__ import annotations

import asyncio

import pytest

from smo_audit.config import AuditConfig
from smo_audit.pipeline import Audit, Target
from smo_audit.report.model import Report
from tests.support.scripted_server import Reply, ScriptedServer, html

TAGGED = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{t}</title>
<meta name="description" content="About {t}."><meta property="og:title" content="{t}">
<meta property="og:description" content="About {t}."><meta property="og:type" content="article">
<meta name="twitter:card" content="summary"></head><body><h1>{t}</h1>{links}</body></html>"""
WEAK = "<!doctype html><html><head><title>c</title></head><body><p>weak</p></body></html>"


def _audit(c: Reply) -> Report:
    routes = {"/": html(TAGGED.format(t="Home", links="<a href='/a'>a</a> <a href='/b'>b</a> <a href='/c'>c</a>")),
              "/a": html(TAGGED.format(t="A", links="")), "/b": html(TAGGED.format(t="B", links="")), "/c": c}
    with ScriptedServer(routes) as server:
        url = server.url("/")
        config = AuditConfig(max_pages=20, timeout=5, retries=0, quiet=True, workers=0)
        return asyncio.run(Audit(Target(url, url=url), config).run())


@pytest.mark.parametrize(("reply", "kind"), [
    (Reply(500, {"content-type": "text/html"}, "<p>broken</p>"), "http-status"),
    (Reply(404, {"content-type": "text/html"}, "<p>broken</p>"), "http-status"),
    (Reply(drop=True), "protocol"),  # the server hangs up without answering
], ids=["500", "404", "hang-up"])
def test_a_page_that_breaks_lowers_the_site_score(reply: Reply, kind: str) -> None:
    weak = _audit(html(WEAK))
    broken = _audit(reply)
    assert len(weak.pages) == 4 and len(broken.pages) == 3
    assert [e.kind for e in broken.errors if e.url.endswith("/c")] == [kind]
    assert weak.score is not None and broken.score is not None
    assert broken.score < weak.score, (broken.score, weak.score)  # mending it raises it back
    assert broken.score_basis is not None and broken.score_basis.page_min == 0
