"""The hostile suite's harness: a small site with one hostile part, audited through the real CLI.

Every case serves a normal site on a scripted loopback server: `/` links to `/a`, to the hostile
URL and to `/b`, and `/a` and `/b` are plain pages with Open Graph tags. The case replaces or adds
routes (the hostile page, a hostile og:image, a hostile robots.txt ...). `run_site` audits it
in-process through the CLI entry point (typer's runner, in a worker thread so a hang fails the
test at its time bound instead of hanging the suite) and returns the exit code, the parsed JSON
report and stderr. `assert_siblings_audited` checks that the rest of the crawl survived, and
`assert_case` makes the assertions every hostile case owes: the exit code, the plain pages in
pages[] with their facts, the hostile page in pages[] or not, and errors[] exactly as expected
(the time bound is run_site's).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from smo_audit.cli import app
from tests.support.scripted_server import Reply, Route, ScriptedServer, html, png

PLAIN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:title" content="{title}"><meta property="og:description" content="About {title}.">
<meta property="og:image" content="/og.png"></head><body><p>{title}</p></body></html>"""


def home(*links: str) -> str:
    anchors = "".join(f'<a href="{link}">{link}</a> ' for link in links)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Home</title>'
            f'<meta property="og:title" content="Home"></head><body>{anchors}</body></html>')


def plain(title: str) -> Reply:
    return html(PLAIN.format(title=title))


def site_routes(hostile_path: str = "/hostile", **extra: Route) -> dict[str, Route]:
    """A home page linking /a, the hostile path and /b; robots.txt allows everything."""
    routes: dict[str, Route] = {
        "/": html(home("/a", hostile_path, "/b")),
        "/a": plain("Page A"),
        "/b": plain("Page B"),
        "/og.png": png(1200, 630),
        "/robots.txt": Reply(200, {"content-type": "text/plain"}, "User-agent: *\nAllow: /\n"),
    }
    routes.update(extra)
    return routes


@dataclass
class Outcome:
    code: int
    report: dict[str, Any]
    stdout: str
    stderr: str
    seconds: float
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> page
    errors: list[dict[str, Any]] = field(default_factory=list)

    base: str = ""  # the server's base URL: pages and errors are keyed by what follows it

    def error_kinds(self, path: str | None = None) -> list[str]:
        return [e["kind"] for e in self.errors if path is None or e["url"].endswith(path)]

    def errors_by_path(self) -> dict[str, list[str]]:
        """errors[] as {path (or whole URL off this server): sorted kinds}."""
        found: dict[str, list[str]] = {}
        for error in self.errors:
            url = error["url"]
            key = (url[len(self.base):] or "/") if self.base and url.startswith(self.base) else url
            found.setdefault(key, []).append(error["kind"])
        return {key: sorted(kinds) for key, kinds in found.items()}


def run_cli(args: list[str], *, bound: float, env: Mapping[str, str] | None = None) -> tuple[int, str, str, float]:
    """Invoke the CLI in a worker thread; fail if it has not returned within `bound` seconds."""
    result: dict[str, Any] = {}

    def target() -> None:
        runner = CliRunner()
        result["r"] = runner.invoke(app, args, env=dict(env or {}), catch_exceptions=True)

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(bound)
    seconds = time.monotonic() - started
    assert not thread.is_alive(), f"smo-audit {' '.join(args)} still running after {bound} s"
    r = result["r"]
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"uncaught {type(r.exception).__name__}: {r.exception}") from r.exception
    return r.exit_code, r.stdout, r.stderr, seconds


def run_site(server: ScriptedServer, *extra_args: str, path: str = "/", bound: float = 20.0,
             output: Path | None = None, env: Mapping[str, str] | None = None, host: str | None = None) -> Outcome:
    """Audit the server's site as JSON and parse the report (from stdout or `output`); `host`
    names the server another way (a numeric form of its address)."""
    base = server.base_url if host is None else f"http://{host}:{server.port}"
    args = ["audit", base + path, "--format", "json", "--quiet", "--timeout", "5", "--max-pages", "20",
            *extra_args]
    if output is not None:
        args += ["--output", str(output)]
    code, out, err, seconds = run_cli(args, bound=bound, env=env)
    text = output.read_text(encoding="utf-8") if output is not None and output.exists() else out
    report = json.loads(text) if text.strip() else {}
    pages = {p["url"][len(base):] or "/": p for p in report.get("pages", []) if p["url"].startswith(base)}
    return Outcome(code, report, out, err, seconds, pages, list(report.get("errors", [])), base)


def assert_siblings_audited(outcome: Outcome, *paths: str) -> None:
    """The plain pages of the crawl were audited with their facts, whatever the hostile part did."""
    for path in paths or ("/", "/a", "/b"):
        assert path in outcome.pages, f"{path} missing from pages[] ({sorted(outcome.pages)}; errors {outcome.errors})"
        page = outcome.pages[path]
        assert page["status"] == 200 and page["facts"]["title"], page
    assert outcome.code in (0, 1), (outcome.code, outcome.stderr)
    assert "Traceback" not in outcome.stderr


def assert_case(outcome: Outcome, errors: Mapping[str, Sequence[str]], *, audited: Sequence[str] = (),
                not_audited: Sequence[str] = ("/hostile",), siblings: Sequence[str] = ("/", "/a", "/b"),
                code: int = 0) -> None:
    """What every hostile case asserts about its run (its time bound is run_site's):

    - the exit code (0: no threshold is set, so a finished audit passes);
    - the sibling pages of the crawl are in pages[], fetched (200) and with their facts;
    - the pages in `audited` are in pages[] too (the hostile page, cut or clipped but kept), those
      in `not_audited` are not (skipped, refused, failed);
    - errors[] is exactly `errors` ({path: kinds}, whole URLs for other hosts), and none of it is
      about a sibling page.
    """
    assert outcome.code == code, (outcome.code, outcome.stderr)
    assert "Traceback" not in outcome.stderr
    assert_siblings_audited(outcome, *siblings)
    for path in audited:
        assert path in outcome.pages, f"{path} missing from pages[] ({sorted(outcome.pages)}; errors {outcome.errors})"
    for path in not_audited:
        assert path not in outcome.pages, f"{path} should not be in pages[]"
    assert outcome.errors_by_path() == {path: sorted(kinds) for path, kinds in errors.items()}, outcome.errors
