"""Site rules that judge a sample of the pages pick the same sample whatever order the pages were
audited in. bot-cloaking took the start page and the next pages in completion order, which
differs from run to run and between one process and a merge of shards (a review's site scored
61.0 in one process and 48.2 merged). Here the same site is audited twice, each time with other
pages slowed down so that they finish last: the pages sampled, and the outcome, must not change.
"""

from __future__ import annotations

import asyncio

from smo_audit.config import AuditConfig
from smo_audit.pipeline import Audit, Target
from smo_audit.report.model import Finding, Report
from tests.support.scripted_server import Reply, ScriptedServer, by_user_agent

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{t}</title>
<meta property="og:title" content="{t}"><meta property="og:description" content="About {t}.">
<meta property="og:type" content="article"></head><body><h1>{t}</h1>{links}</body></html>"""
PATHS = [f"/p{n}" for n in range(1, 9)]
CLOAKED = {"/p5", "/p6", "/p7", "/p8"}  # facebookexternalhit gets another og:title there


def _reply(path: str, delay: float) -> Reply:
    links = "".join(f'<a href="{p}">{p}</a>' for p in PATHS) if path == "/" else ""
    return Reply(200, {"content-type": "text/html; charset=utf-8"},
                 PAGE.format(t=f"Page {path}", links=links), delay=delay)


def _audit(slow: set[str]) -> Finding:
    routes = {"/": _reply("/", 0.0), "/robots.txt": Reply(404)}
    for path in PATHS:
        normal = _reply(path, 0.4 if path in slow else 0.0)
        if path in CLOAKED:
            bot = Reply(200, {"content-type": "text/html; charset=utf-8"},
                        PAGE.format(t="Something else", links=""), delay=normal.delay)
            routes[path] = by_user_agent({"facebookexternalhit": bot}, normal)
        else:
            routes[path] = normal
    with ScriptedServer(routes) as server:
        url = server.url("/")
        config = AuditConfig(max_pages=20, timeout=5, retries=0, quiet=True, workers=0, concurrency=8)
        report: Report = asyncio.run(Audit(Target(url, url=url), config).run())
    return next(f for f in report.site_findings if f.rule == "bot-cloaking")


def test_bot_cloaking_samples_the_same_pages_in_any_completion_order() -> None:
    first_pages_last = _audit(slow={"/p1", "/p2", "/p3", "/p4"})  # the cloaked pages finish first
    cloaked_last = _audit(slow=CLOAKED)
    assert (first_pages_last.status, first_pages_last.message) == (cloaked_last.status, cloaked_last.message)
    assert first_pages_last.status == "pass"  # the start page, /p1 and /p2: none of them cloaked
