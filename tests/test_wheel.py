"""A plain, non-editable wheel must carry the built-in rules, the catalogue, the scoring profile,
the templates and the demo site, under their unique import names (never a bare `rules`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=300, cwd=out,
    )
    # Setup output stays clean: a data folder missing from [tool.setuptools] packages makes
    # setuptools warn (and, in a future version, leave the folder out of the wheel).
    assert "Warning" not in build.stderr, build.stderr
    (built,) = out.glob("smo_audit-*.whl")
    return built


def test_wheel_contains_rules_catalogue_templates_and_demo(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "smo_audit_rules/open_graph.py" in names
    assert "smo_audit_rules/scoring.toml" in names
    assert any(n.startswith("smo_audit_rules/catalogue/") and n.endswith(".toml") for n in names)
    assert "smo_audit_templates/__init__.py" in names
    assert "smo_audit_demo/site/index.html" in names and "smo_audit_demo/site/blog/first-crack.html" in names
    assert "smo_audit_demo/site/images/og-home.png" in names
    assert not any(n.startswith(("rules/", "tests/", "fixtures/")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "builtin = smo_audit_rules" in text and "smo-audit = smo_audit.cli:main" in text


def test_wheel_installs_into_a_fresh_venv_and_runs_the_demo(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    site_packages = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        check=True, capture_output=True, text=True).stdout.strip())
    # Dependencies come from the test venv's site-packages, added as a plain path: its .pth files
    # (including the editable install's finder) are not executed, so smo_audit comes from the wheel.
    (site_packages / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run(
        [str(python), "-c", "import smo_audit, smo_audit_rules; print(smo_audit.__file__); print(smo_audit_rules.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=env,
    ).stdout.split()
    assert all(path.startswith(str(site_packages)) for path in where), where
    result = subprocess.run([str(venv / "bin" / "smo-audit"), "demo", "--format", "json", "--quiet"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["pages"]) >= 7
    assert any(f["rule"] == "og-image" for page in report["pages"] for f in page["findings"])
    rules = subprocess.run([str(venv / "bin" / "smo-audit"), "rules"], capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=60)
    assert rules.returncode == 0 and "og-title" in rules.stdout
