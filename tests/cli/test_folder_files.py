"""Build folders with files the folder server cannot serve as they are: each is skipped or served,
said in the report and on stderr, and never ends the audit with a traceback. Real audits through
the CLI of folders written to tmp_path."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smo_audit.cli import app

PAGE = ('<!doctype html><html lang="en"><head><title>{title}</title><meta property="og:title" content="{title}">'
        "</head><body>{body}</body></html>")


def _write(path: Path, title: str, body: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PAGE.format(title=title, body=body))


def _audit(folder: Path, *args: str) -> tuple[int, dict[str, Any] | None, str]:
    result = CliRunner().invoke(app, ["audit", str(folder), "--format", "json", "--workers", "0", *args])
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    report = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, report, result.stderr


def _sources(report: dict[str, Any]) -> set[str]:
    return {p["source_path"] for p in report["pages"] if p["duplicate_of"] is None}


def test_a_symlink_loop_named_like_a_page_is_skipped_and_reported(tmp_path: Path) -> None:
    _write(tmp_path / "index.html", "Home", '<a href="/about.html">About</a>')
    _write(tmp_path / "about.html", "About")
    (tmp_path / "a.html").symlink_to("b.html")
    (tmp_path / "b.html").symlink_to("a.html")
    code, report, stderr = _audit(tmp_path)
    assert code == 0, stderr
    assert report is not None and _sources(report) == {"index.html", "about.html"}
    skipped = [e for e in report["errors"] if e["kind"] == "unreadable"]
    assert sorted(e["url"] for e in skipped) == ["/a.html", "/b.html"]
    assert all("symbolic link" in e["message"] for e in skipped)
    folder = report["folder"]
    assert (folder["html_files"], folder["audited_files"], folder["not_audited"]) == (4, 2, 2)
    assert "skipped 2 files the folder server cannot serve" in stderr


def test_a_backslash_in_a_file_name_names_no_other_file(tmp_path: Path) -> None:
    # 'note\\x41.html' with a real backslash was read as the escape of 'noteA.html': that file was
    # audited in its place (or a 404 scored as a broken page). The server does not serve a path
    # with a backslash: the file is skipped and said so, and noteA.html is audited once, as itself.
    _write(tmp_path / "index.html", "Home", '<a href="/noteA.html">A</a>')
    _write(tmp_path / "noteA.html", "Note A")
    _write(tmp_path / "note\\x41.html", "Backslashed")
    code, report, stderr = _audit(tmp_path)
    assert code == 0, stderr
    assert report is not None and _sources(report) == {"index.html", "noteA.html"}
    assert [p["facts"]["title"] for p in report["pages"]].count("Note A") == 1
    (skipped,) = [e for e in report["errors"] if e["kind"] == "unreadable"]
    assert "backslash" in skipped["message"] and not report["errors"][1:]
    assert report["folder"]["not_audited"] == 1


def test_a_file_name_that_is_not_utf8_is_served_and_audited(tmp_path: Path) -> None:
    _write(tmp_path / "index.html", "Home")
    # Latin-1 bytes, as an old build or a zip made on another system leaves them
    (tmp_path / os.fsdecode(b"caf\xe9.html")).write_text(PAGE.format(title="Cafe", body=""))
    code, report, stderr = _audit(tmp_path)
    assert code == 0, stderr
    assert report is not None
    (cafe,) = [p for p in report["pages"] if p["facts"]["title"] == "Cafe"]
    assert cafe["url"] == "/caf%E9.html", "the file system's bytes, percent-encoded: the URL a host serves it at"
    assert cafe["source_path"] == "caf\\xe9.html", "named printably: the byte that is not UTF-8 shown as an escape"
    assert report["errors"] == [] and report["folder"]["not_audited"] == 0


def _cli_without_root_powers(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess; as root, with the capabilities that read any folder dropped
    (capsh), so a chmod 000 folder is unreadable as for any CI user."""
    command = [sys.executable, "-m", "smo_audit", *args]
    if os.geteuid() == 0:
        capsh = shutil.which("capsh")
        if capsh is None:
            pytest.skip("running as root without capsh: a chmod 000 folder stays readable")
        command = [capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c", shlex.join(command)]
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env)


def test_an_unreadable_folder_is_reported_not_silently_dropped(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _write(site / "index.html", "Home")
    _write(site / "drafts" / "post.html", "Draft")
    (site / "drafts").chmod(0)
    try:
        result = _cli_without_root_powers("audit", str(site), "--format", "json", "--workers", "0")
    finally:
        (site / "drafts").chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert _sources(report) == {"index.html"}
    (error,) = report["errors"]
    assert (error["kind"], error["url"]) == ("unreadable", "/drafts/")
    assert "drafts/ was not audited: the folder cannot be read (Permission denied)" in error["message"]
    assert "could not read 1 folder: drafts/ (Permission denied); its files were not audited" in result.stderr


def test_a_folder_that_cannot_be_read_at_all_is_named_so(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _write(site / "index.html", "Home")
    site.chmod(0o300)  # can enter, cannot list
    try:
        result = _cli_without_root_powers("audit", str(site), "--format", "json")
    finally:
        site.chmod(0o755)
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert f"the folder {site} cannot be read (Permission denied)" in result.stderr


def test_a_start_page_that_cannot_be_read_is_that_pages_error_and_the_rest_is_audited(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _write(site / "index.html", "Home", "<p>" + "x" * 8000 + "</p>")  # past the config's cap below
    _write(site / "about.html", "About")
    _write(site / "blog" / "post.html", "Post")
    config = tmp_path / "smo-audit.toml"
    config.write_text("max-body-bytes = 4096\n")
    code, report, stderr = _audit(site, "--config", str(config), "--base-url", "https://acme.dev")
    assert code == 0, stderr
    assert report is not None and _sources(report) == {"about.html", "blog/post.html"}
    (error,) = report["errors"]
    assert (error["kind"], error["url"]) == ("too-large", "https://acme.dev/")
    assert "127.0.0.1" not in json.dumps(report) and "127.0.0.1" not in stderr
    assert report["folder"]["not_audited"] == 1
