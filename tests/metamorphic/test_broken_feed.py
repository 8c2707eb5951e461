"""A feed link to a feed that cannot be read never scores above no feed link.

feed-discoverable passed for any advertised feed while feed-valid failed it, so a bare page that
gained a link to a 404 feed got a Content distribution category at 0.5, above its own mean (a
review: 10.0 -> 12.5). Only a feed that loads counts as advertised now.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smo_audit.cli import app

FEED_LINK = '<link rel="alternate" type="application/rss+xml" title="Feed" href="/feed.xml">'


def _audit(root: Path, head: str, og_type: str) -> dict[str, Any]:
    root.mkdir()
    meta = f'<meta property="og:type" content="{og_type}">' if og_type else ""
    (root / "index.html").write_text(f"<!doctype html><html><head><title>Home</title>{head}</head><body>"
                                     '<a href="/post.html">post</a></body></html>')
    (root / "post.html").write_text(f"<!doctype html><html><head><title>Post</title>{meta}{head}</head>"
                                    "<body><p>Text.</p></body></html>")
    result = CliRunner().invoke(app, ["audit", str(root), "--format", "json", "--quiet", "--workers", "0"])
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize("og_type", ["", "article"], ids=["pages-of-no-type", "an-article"])
def test_a_link_to_a_missing_feed_never_scores_above_no_link(tmp_path: Path, og_type: str) -> None:
    without = _audit(tmp_path / "without", "", og_type)
    broken = _audit(tmp_path / "broken", FEED_LINK, og_type)  # /feed.xml does not exist: 404
    assert broken["score"] <= without["score"], (broken["score"], without["score"])
    discoverable = next(f for f in broken["site_findings"] if f["rule"] == "feed-discoverable")
    assert discoverable["status"] in ("warn", "fail") and "cannot be read" in discoverable["message"]
