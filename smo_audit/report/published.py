"""How a folder audit names what it saw: the loopback server's URLs become production URLs.

Used where a page's report entry is made: the crawl process, or a parse worker (which gets it in
its PageAuditSpec), so it lives apart from the pipeline.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from smo_audit.report import model as rm
from smo_audit.report.spool import page_json


@dataclass(frozen=True)
class Published:
    """How a folder audit names what it saw: the loopback server's URLs become production URLs.

    The local server listens on an ephemeral port, so `http://127.0.0.1:41234/post/` would differ
    between two runs of the same build and mean nothing to a dashboard. The report says
    `https://example.com/post/` instead (the production base URL, given or detected), or the
    site path `/post/` when no production origin is known. The port is unique to this run, so a
    plain text replacement over a page's JSON cannot touch anything else.
    """

    served: str  # "http://127.0.0.1:PORT/"
    public: str  # "https://example.com/blog/" or "/"

    def text(self, value: str, *, in_json: bool = False) -> str:
        """`value` with the served URLs named as published; `in_json`: `value` is JSON text, into
        which the published URL goes JSON-escaped (a detected origin comes from a page's og:url or
        canonical, and `https://ex"ample.com/` made the page's JSON invalid: the page was lost)."""
        if "127.0.0.1" not in value:
            return value
        served = self.served.rstrip("/") + "/"
        bare = served[:-1]
        public, root = self.public, self.public.rstrip("/") or "/"
        if in_json:
            public, root = (json.dumps(v, ensure_ascii=False)[1:-1] for v in (public, root))
        value = value.replace(served, public)
        return value.replace(bare, root) if bare in value else value

    def page(self, page: rm.Page) -> rm.Page:
        text = page_json(page)
        public = self.text(text, in_json=True)
        return page if public is text else rm.Page.model_validate_json(public)

    def finding(self, finding: rm.Finding) -> rm.Finding:
        data = finding.data
        if data is not None:
            data = json.loads(self.text(json.dumps(data), in_json=True))
        return dataclasses.replace(finding, message=self.text(finding.message),
                                   evidence=[self.text(e) for e in finding.evidence], data=data)
