"""Reports of real audits (fixture folders served on loopback), shared by the writer tests."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smo_audit.cli import app
from smo_audit.engine.api import Rule
from smo_audit.engine.registry import load_rules
from smo_audit.report.model import Report

ROOT = Path(__file__).resolve().parents[2]
XSS_SITE = ROOT / "fixtures" / "report" / "xss"
DEMO_SITE = ROOT / "fixtures" / "demo" / "site"
DEMO_BASE = "https://northwind-coffee.example"


def audit_json(target: Path, *extra: str) -> dict[str, Any]:
    # In a thread of its own: Playwright's sync API keeps an event loop running in the test's
    # thread while a browser is open, and the audit starts its own loop.
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(CliRunner().invoke, app, ["audit", str(target), "--format", "json", "--quiet", *extra]).result()
    assert result.exit_code in (0, 1), result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="session")
def rules() -> dict[str, Rule]:
    return load_rules().by_id()


@pytest.fixture(scope="session")
def demo_report() -> Report:
    return Report.model_validate(audit_json(DEMO_SITE, "--base-url", DEMO_BASE))


@pytest.fixture(scope="session")
def xss_report() -> Report:
    return Report.model_validate(audit_json(XSS_SITE))
