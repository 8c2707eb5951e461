"""A wrong canonical never raises the score: a page whose canonical names a page with another title
is a page with a wrong canonical, not that page under another name (a duplicate, which leaves the
score). Audited for real: the blog fixture site, copied and edited, as a folder over loopback.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smo_audit.cli import app

BLOG = Path(__file__).resolve().parents[2] / "fixtures" / "metamorphic" / "blog"
HOME = "https://blog.example/"


def _site(tmp_path: Path, name: str, *, canonical: str | None, title: str | None = None) -> Path:
    """The blog with a weak about page (no preview tags), its canonical and title as given."""
    root = tmp_path / name
    shutil.copytree(BLOG, root)
    about = root / "about.html"
    html = re.sub(r'<meta (property|name)="(og|twitter):[^>]*>\n', "", about.read_text(encoding="utf-8"))
    if canonical is not None:
        html = re.sub(r'<link rel="canonical" href="[^"]*">', f'<link rel="canonical" href="{canonical}">', html)
    if title is not None:
        html = re.sub(r"<title>[^<]*</title>", f"<title>{title}</title>", html)
    about.write_text(html, encoding="utf-8")
    return root


def _audit(root: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["audit", str(root), "--format", "json", "--quiet", "--workers", "0"])
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _about(report: dict[str, Any]) -> dict[str, Any]:
    page: dict[str, Any] = next(p for p in report["pages"] if p["url"].endswith("/about.html"))
    return page


@pytest.mark.parametrize("target", [HOME, HOME + "posts/cold-brew.html"])
def test_a_canonical_naming_a_page_with_another_title_is_judged_not_hidden(tmp_path: Path, target: str) -> None:
    own = _audit(_site(tmp_path, "own", canonical=None))
    wrong = _audit(_site(tmp_path, "wrong", canonical=target))
    assert _about(wrong)["duplicate_of"] is None  # still a page of the site
    failed = {f["rule"] for f in _about(wrong)["findings"] if f["status"] == "fail"}
    assert "canonical-host" in failed  # "points at another page"
    assert wrong["score"] <= own["score"], (wrong["score"], own["score"])
    assert _about(wrong)["score"] <= _about(own)["score"]


def test_a_page_shared_alike_is_the_duplicate_it_says_it_is(tmp_path: Path) -> None:
    """The home page under another URL (an old URL, a print version with its own <title>), naming
    the home page as canonical: counted once."""
    root = tmp_path / "alias"
    shutil.copytree(BLOG, root)
    home = (BLOG / "index.html").read_text(encoding="utf-8")
    (root / "about.html").write_text(re.sub(r"<title>([^<]*)</title>", r"<title>\1 (print)</title>", home),
                                     encoding="utf-8")
    assert _about(_audit(root))["duplicate_of"] == HOME


def test_one_title_for_every_page_does_not_make_a_wrong_canonical_a_duplicate(tmp_path: Path) -> None:
    """A site with one <title> everywhere (a review's repro: the weak about page naming the home
    page then left the score, 88.5 -> 100): what the pages show when shared still differs."""
    home_title = re.search(r"<title>([^<]*)</title>", (BLOG / "index.html").read_text(encoding="utf-8"))
    assert home_title is not None
    own = _audit(_site(tmp_path, "own", canonical=None, title=home_title.group(1)))
    wrong = _audit(_site(tmp_path, "wrong", canonical=HOME, title=home_title.group(1)))
    assert _about(wrong)["duplicate_of"] is None
    assert wrong["score"] <= own["score"], (wrong["score"], own["score"])
