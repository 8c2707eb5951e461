"""Naming a sign-in button after its provider, as sign-in-accessible-name asks of a bare "Sign in",
never lowers the score. On a passwordless login page that only its <title> calls one, a
btn-google labelled "Sign in" was counted as Google sign-in while the same button labelled
"Google" or "Use Google" vanished, and the site scored lower for the better label (a review:
29.0 -> 24.5). Audited for real, as folders over loopback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smo_audit.cli import app

HOME = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme: tools for teams</title>'
        '<meta property="og:title" content="Acme"><meta property="og:description" content="Tools for teams">'
        '<link rel="canonical" href="https://acme.example/"></head><body><a href="/welcome/">Log in</a></body></html>')
WELCOME = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in to Acme</title></head><body>'
           '<main><h1>Welcome back</h1><button type="button" class="btn btn-google">{label}</button>'
           '<form action="/magic-link" method="post"><input type="email" name="email"><button>Email me a link</button>'
           '</form></main></body></html>')


def _audit(root: Path, label: str) -> dict[str, Any]:
    (root / "welcome").mkdir(parents=True)
    (root / "index.html").write_text(HOME, encoding="utf-8")
    (root / "welcome" / "index.html").write_text(WELCOME.format(label=label), encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", str(root), "--base-url", "https://acme.example", "--format", "json",
                                      "--quiet", "--workers", "0"])
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize("better", ["Google", "Use Google"])
def test_naming_the_provider_never_lowers_the_score(tmp_path: Path, better: str) -> None:
    worse = _audit(tmp_path / "worse", "Sign in")
    named = _audit(tmp_path / "better", better)
    assert named["score"] >= worse["score"], (worse["score"], named["score"])
    page = next(p for p in named["pages"] if p["url"].endswith("/welcome/"))
    assert [(s["provider"], s["mechanism"]) for s in page["facts"]["sign_in"]] == [("google", "control")]
