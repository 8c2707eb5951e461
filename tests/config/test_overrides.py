"""Per-URL-pattern overrides and the gate settings, through a real audit of a folder.

The folder is served on 127.0.0.1 by smo-audit itself; the config file sits in the working
directory, found the way a user's would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:title" content="{title}"><meta property="og:type" content="article">
<link rel="canonical" href="{canonical}"><meta property="og:url" content="{canonical}">
</head><body><h1>{title}</h1><a href="/legal/terms.html">terms</a> <a href="/docs/guide.html">guide</a></body></html>"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run([sys.executable, "-m", "smo_audit", *args], capture_output=True, text=True, timeout=120,
                          check=False, cwd=cwd, env=env)


def _site(root: Path) -> None:
    pages = {"index.html": ("Home", "https://www.example.com/"),
             "legal/terms.html": ("Terms", "https://www.example.com/legal/terms.html"),
             "docs/guide.html": ("Guide", "https://docs.example.com/docs/guide.html")}
    for name, (title, canonical) in pages.items():
        path = root / "site" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PAGE.format(title=title, canonical=canonical))


def _findings(report: dict, source: str) -> dict[str, str]:
    page = next(p for p in report["pages"] if p["source_path"] == source)
    return {f["rule"]: f["status"] for f in page["findings"]}


def test_overrides_change_rules_and_base_url_for_matching_pages_only(tmp_path: Path) -> None:
    _site(tmp_path)
    (tmp_path / "smo-audit.toml").write_text("""
select = ["share-coverage", "canonical-host", "og-title", "og-image"]

[[overrides]]
paths = ["/legal/*"]
ignore = ["share-buttons"]
rules = { og-image = "off" }

[[overrides]]
paths = ["docs/*.html"]          # a source-file pattern
base-url = "https://docs.example.com"
""")
    result = _cli("audit", "site", "--base-url", "https://www.example.com", "-f", "json", "-o", "r.json", "--quiet",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    home, legal, docs = (_findings(report, s) for s in ("index.html", "legal/terms.html", "docs/guide.html"))
    assert "share-coverage" in home and "og-image" in home
    assert "share-coverage" not in legal and "og-image" not in legal and "og-title" in legal
    # The docs page names docs.example.com: wrong for the site's base URL, right for its override.
    (tmp_path / "plain.toml").write_text('select = ["canonical-host"]\n')
    base_only = _cli("audit", "site", "--base-url", "https://www.example.com", "-f", "json", "-o", "b.json", "--quiet",
                     "--config", "plain.toml", cwd=tmp_path)
    assert base_only.returncode == 0, base_only.stderr
    plain = _findings(json.loads((tmp_path / "b.json").read_text()), "docs/guide.html")
    assert plain["canonical-host"] in ("fail", "warn"), plain
    assert docs["canonical-host"] == "pass", docs


def test_config_thresholds_gate_the_audit(tmp_path: Path) -> None:
    _site(tmp_path)
    (tmp_path / "smo-audit.toml").write_text('select = ["og-title", "og-image"]\n[max-failures]\nog-image = 0\n')
    failing = _cli("audit", "site", "-f", "json", "-o", "r.json", "--quiet", cwd=tmp_path)
    assert failing.returncode == 1, failing.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["passed"] is False
    assert report["failed_thresholds"] == ["og-image failed or warned 3 times, more than max-failures 0"]
    # The same limit raised above the count passes; a flag's fail-on adds its own condition.
    (tmp_path / "smo-audit.toml").write_text('select = ["og-title", "og-image"]\n[max-failures]\nog-image = 3\n')
    assert _cli("audit", "site", "--quiet", cwd=tmp_path).returncode == 0
    flagged = _cli("audit", "site", "--quiet", "--fail-on", "rule.og-image>=3", cwd=tmp_path)
    assert flagged.returncode == 1 and "fail-on 'rule.og-image>=3' holds" in flagged.stdout
    # A level turns the rule's failures into info: severity>=error no longer holds.
    (tmp_path / "smo-audit.toml").write_text('select = ["og-title", "og-image"]\nfail-on = "severity>=error"\n')
    assert _cli("audit", "site", "--quiet", cwd=tmp_path).returncode == 1
    (tmp_path / "smo-audit.toml").write_text('select = ["og-title", "og-image"]\nfail-on = "severity>=error"\n'
                                             '[rules]\nog-image = "info"\n')
    assert _cli("audit", "site", "--quiet", cwd=tmp_path).returncode == 0
