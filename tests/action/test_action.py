"""The GitHub Action, run as GitHub would run it: action.yml's steps, in order, in a subprocess.

A simulated runner: GITHUB_STEP_SUMMARY, GITHUB_OUTPUT (one file per step, as the runner does),
GITHUB_WORKSPACE, GITHUB_EVENT_PATH and RUNNER_TEMP point at temporary files; `${{ ... }}`
expressions are filled in from the inputs, the action's path and earlier steps' outputs; a fake
`gh` on PATH records its arguments and plays the GitHub API for the comment: it lists the
comments of a state file in two pages and runs the action's own `--jq` filter on each with jq, as
gh does. smo-audit is
installed by the action's own install step from a copy of this checkout into a fresh virtualenv
(offline: pip's --no-index/--no-deps via its environment; the dependencies are this test
environment's own). `actions/setup-python` is the one step that cannot run here: the test checks
it is there and uses the fresh virtualenv's Python instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from smo_audit.gate.github import comment_marker

ROOT = Path(__file__).resolve().parents[2]
ACTION = YAML(typ="safe").load((ROOT / "action.yml").read_text())
MARKER = "<!-- smo-audit-report "
BASH = shutil.which("bash") or "/bin/bash"
JQ = shutil.which("jq")  # `make test` installs it: the fake gh runs the action's --jq filter with it

FAKE_GH = """#!{python}
import json, os, subprocess, sys
args = sys.argv[1:]
state = os.environ["FAKE_GH_STATE"]
body = None
for i, arg in enumerate(args):
    if arg == "-F" and args[i + 1].startswith("body=@"):
        body = open(args[i + 1][len("body=@"):], encoding="utf-8").read()
with open(os.path.join(state, "calls.jsonl"), "a", encoding="utf-8") as log:
    log.write(json.dumps({{"args": args, "body": body, "token": os.environ.get("GH_TOKEN")}}) + "\\n")
viewer = os.path.join(state, "viewer")  # the login behind a personal token; an app's token has none
if args[:2] == ["api", "user"]:
    if not os.path.exists(viewer):
        sys.exit("gh: Resource not accessible by integration (HTTP 403)")
    sys.stdout.write(open(viewer, encoding="utf-8").read().strip() + "\\n")
    sys.exit(0)
refused = os.path.join(state, "refuse")  # a method the token may not use, e.g. POST on a fork's pull request
if os.path.exists(refused) and open(refused).read().strip() in args + (["GET"] if "--paginate" in args else []):
    sys.exit("gh: Resource not accessible by integration (HTTP 403)")
comments = os.path.join(state, "comments.json")
if "--paginate" in args and os.path.exists(comments):
    listed = json.load(open(comments, encoding="utf-8"))
    for page in (listed[:1], listed[1:]):
        jq = subprocess.run([{jq!r}, "-r", args[args.index("--jq") + 1]], input=json.dumps(page), text=True,
                            capture_output=True, check=False)
        sys.stdout.write(jq.stdout)
        if jq.returncode:
            sys.exit(jq.stderr)
"""


def _page(title: str, *, og_title: bool = True, share: bool = False) -> str:
    og = f'<meta property="og:title" content="{title}">' if og_title else ""
    button = '<a href="https://www.facebook.com/sharer/sharer.php?u=https://site.example/">Share</a>' if share else ""
    return textwrap.dedent(f"""\
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>{title}</title>
        {og}
        <meta property="og:description" content="A page about {title} that is long enough to be a description.">
        </head>
        <body><h1>{title}</h1>{button}<a href="/">home</a></body>
        </html>
        """)


@pytest.fixture(scope="module")
def runner_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A copy of the action's checkout, a fresh venv with smo-audit installed by the action's own
    install step, a fake gh, and a workspace with a built site."""
    base = tmp_path_factory.mktemp("action")
    action_path = base / "action"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for name in files:
        source = ROOT / name
        if source.is_file():
            target = action_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=180)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # pip, setuptools and the dependencies come from this test environment as a plain path (its .pth files, the
    # editable install's finder among them, are not run), so smo_audit comes from the install.
    Path(purelib, "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    bin_dir = base / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH.format(python=sys.executable, jq=JQ or "jq"))
    (bin_dir / "gh").chmod(0o755)
    paths = {"base": base, "action": action_path, "venv": venv, "bin": bin_dir}
    steps = ACTION["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    install = next(s for s in steps if s.get("name") == "Install smo-audit")
    run = Runner(paths, inputs={"target": "site"}, workspace=base / "unused")
    result = run.step(install)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^smo-audit \d", result.stdout, re.M), result.stdout
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import smo_audit; print(smo_audit.__file__)"],
                           capture_output=True, text=True, check=True, env=run.env(), cwd=base).stdout
    assert where.startswith(str(venv)), where  # installed by the step, not borrowed from the checkout
    return paths


@dataclass
class Runner:
    paths: dict[str, Path]
    inputs: dict[str, str]
    workspace: Path
    event: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: bool = False

    def __post_init__(self) -> None:
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.temp = Path(tempfile.mkdtemp(prefix="runner-", dir=self.workspace.parent))  # one per job
        self.summary = self.temp / "step-summary.md"
        self.event_path = self.temp / "event.json"
        self.event_path.write_text(json.dumps(self.event))
        self.state = self.temp / "gh"
        self.state.mkdir(exist_ok=True)
        defaults = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
        defaults["github-token"] = "fake-token"
        self.values = {**defaults, **self.inputs}

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR")}
        return {
            **keep,
            "PATH": f"{self.paths['venv'] / 'bin'}:{self.paths['bin']}:/usr/bin:/bin",
            "GITHUB_ACTIONS": "true", "CI": "true",
            "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_EVENT_PATH": str(self.event_path), "GITHUB_REPOSITORY": "acme/site",
            "RUNNER_TEMP": str(self.temp), "FAKE_GH_STATE": str(self.state),
            # Offline install of the checkout: no index, no dependencies, no isolated build env.
            "PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1", "PIP_NO_BUILD_ISOLATION": "0",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }

    def expand(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            expr = match.group(1).strip()
            if expr.startswith("inputs."):
                return self.values[expr[len("inputs."):]]
            if expr == "github.action_path":
                return str(self.paths["action"])
            if expr == "github.token":
                return "fake-token"
            step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
            assert step, f"expression the simulated runner does not know: {expr}"
            return self.outputs.get(step.group(1), {}).get(step.group(2), "")
        return re.sub(r"\$\{\{(.*?)\}\}", value, text)

    def condition(self, step: dict[str, Any]) -> bool:
        text = step.get("if")
        if text is None:
            return not self.failed
        result = True
        for term in (t.strip() for t in str(text).split("&&")):
            if term == "always()":
                continue
            compared = re.fullmatch(r"inputs\.([\w-]+) == '([^']*)'", term)
            assert compared, f"condition the simulated runner does not know: {term}"
            result = result and self.values[compared.group(1)] == compared.group(2)
        return result

    def step(self, step: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        output = self.temp / f"output-{step.get('id', 'step')}"
        output.write_text("")
        env = {**self.env(), "GITHUB_OUTPUT": str(output)}
        env.update({k: self.expand(str(v)) for k, v in (step.get("env") or {}).items()})
        assert step["shell"] == "bash"
        result = subprocess.run([BASH, "--noprofile", "--norc", "-eo", "pipefail", "-c", self.expand(step["run"])],
                                cwd=self.workspace, env=env, capture_output=True, text=True, timeout=300, check=False)
        values = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if "id" in step:
            self.outputs[step["id"]] = values
        if result.returncode != 0:
            self.failed = True
        return result

    def run(self) -> tuple[int, str]:
        """Every step after the install, in order; the job's exit code and everything printed."""
        printed = ""
        code = 0
        for step in ACTION["runs"]["steps"]:
            if "uses" in step or step.get("name") == "Install smo-audit":
                continue
            if not self.condition(step):
                continue
            result = self.step(step)
            printed += result.stdout + result.stderr
            code = code or result.returncode
        return code, printed

    def action_outputs(self) -> dict[str, str]:
        return {name: self.expand(spec["value"]) for name, spec in ACTION["outputs"].items()}

    def gh_calls(self) -> list[dict[str, Any]]:
        log = self.state / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _workspace(path: Path) -> Path:
    site = path / "site"
    (site / "posts").mkdir(parents=True)
    (site / "index.html").write_text(_page("Home", share=True))
    for n in range(12):  # twelve pages without og:title: more errors than GitHub shows per step
        (site / "posts" / f"p{n}.html").write_text(_page(f"Post {n}", og_title=False))
    links = "".join(f'<a href="/posts/p{n}.html">p{n}</a>' for n in range(12))
    (site / "index.html").write_text(_page("Home", share=True).replace("<a href=\"/\">home</a>", links))
    return path


PR_EVENT = {"pull_request": {"number": 42}}


def test_a_failing_threshold_fails_the_job_with_summary_outputs_annotations_and_comment(runner_env, tmp_path) -> None:
    workspace = _workspace(tmp_path / "ws")
    # The repository's own modules named like standard ones (the steps run in its checkout) are
    # never imported: `python -P` leaves the working directory off sys.path.
    for name in ("contextlib.py", "json.py", "socketserver.py"):
        (workspace / name).write_text('raise SystemExit("planted module imported from the checkout")\n')
    run = Runner(runner_env, {"target": "site", "fail-under": "99", "base-url": "https://site.example",
                              "comment": "true", "max-pages": "50"}, workspace, event=PR_EVENT)
    code, printed = run.run()
    assert code == 1, printed
    outputs = run.action_outputs()
    assert outputs["report-path"], printed
    report = json.loads(Path(outputs["report-path"]).read_text())
    assert outputs["passed"] == "false" and report["passed"] is False
    assert float(outputs["score"]) == report["score"] < 99
    assert Path(outputs["sarif-path"]).is_file() and json.loads(Path(outputs["sarif-path"]).read_text())["version"] == "2.1.0"
    summary = run.summary.read_text()
    assert f"{report['score']:g}/100" in summary and "below the threshold 99" in summary
    # Annotations: on the source file and line, at most 10 errors per step, then a notice.
    errors = [line for line in printed.splitlines() if line.startswith("::error ")]
    assert 1 <= len(errors) <= 10
    og_title = [line for line in errors if "og-title" in line]
    assert og_title and all(re.match(r"::error file=site/posts/p\d+\.html,line=\d+,title=smo-audit%3A og-title::", e)
                            for e in og_title), og_title
    assert re.search(r"^::notice title=smo-audit::\d+ more findings? not annotated", printed, re.M), printed
    # The comment: created once, with the hidden marker, through the job's token.
    calls = run.gh_calls()
    posts = [c for c in calls if "POST" in c["args"]]
    assert len(posts) == 1 and posts[0]["args"][3] == "repos/acme/site/issues/42/comments"
    assert posts[0]["body"].startswith(MARKER) and f"{report['score']:g}/100" in posts[0]["body"]
    assert posts[0]["token"] == "fake-token"


def _comments(run: Runner, *comments: tuple[int, str, str] | tuple[int, str, str, str]) -> None:
    """The pull request's comments the fake gh lists: (id, user type, body[, user login])."""
    listed = [{"id": c[0], "user": {"type": c[1], "login": c[3] if len(c) > 3 else c[1].lower()}, "body": c[2]}
              for c in comments]
    (run.state / "comments.json").write_text(json.dumps(listed))


def test_a_passing_threshold_passes_and_updates_the_existing_comment(runner_env, tmp_path) -> None:
    workspace = _workspace(tmp_path / "ws")
    run = Runner(runner_env, {"target": "site", "fail-under": "10", "base-url": "https://site.example",
                              "comment": "true"}, workspace, event=PR_EVENT)
    _comments(run, (777, "Bot", f"{comment_marker('site')}\n## smo-audit: 50/100"))
    code, printed = run.run()
    assert code == 0, printed
    outputs = run.action_outputs()
    assert outputs["passed"] == "true" and 10 <= float(outputs["score"]) <= 100
    assert "passed (threshold 10)" in run.summary.read_text()
    calls = run.gh_calls()
    assert not [c for c in calls if "POST" in c["args"]]
    (patch,) = [c for c in calls if "PATCH" in c["args"]]
    assert patch["args"][3] == "repos/acme/site/issues/comments/777" and patch["body"].startswith(MARKER)


def test_the_comment_updated_is_a_bots_comment_about_the_same_target(runner_env, tmp_path) -> None:
    """Two jobs of one pull request audit two folders: each updates its own comment. A person's
    comment that starts with (or quotes) a marker is never edited: the token could rewrite it."""
    workspace = _workspace(tmp_path / "ws")
    shutil.copytree(workspace / "site", workspace / "docs")
    site, docs = comment_marker("site"), comment_marker("docs")
    assert site != docs
    comments = [(1, "User", f"{site}\n> <!-- smo-audit-report --> copied from the bot"),
                (2, "Bot", f"{docs}\n## smo-audit: 40/100"), (3, "Bot", "an unrelated bot"),
                (4, "Bot", f"{site}\n## smo-audit: 40/100")]
    for target, expected in (("site", 4), ("docs", 2)):
        run = Runner(runner_env, {"target": target, "comment": "true"}, workspace, event=PR_EVENT)
        _comments(run, *comments)
        code, printed = run.run()
        assert code == 0, printed
        writes = [c for c in run.gh_calls() if "PATCH" in c["args"] or "POST" in c["args"]]
        assert [c["args"][3] for c in writes] == [f"repos/acme/site/issues/comments/{expected}"], writes
        assert writes[0]["body"].startswith(comment_marker(target) + "\n")
    alone = Runner(runner_env, {"target": "docs", "comment": "true"}, workspace, event=PR_EVENT)
    _comments(alone, comments[0], comments[3])  # only a person's comment and another target's: a new one
    code, printed = alone.run()
    assert code == 0, printed
    (post,) = [c for c in alone.gh_calls() if "POST" in c["args"] or "PATCH" in c["args"]]
    assert "POST" in post["args"] and post["body"].startswith(docs)


def test_a_personal_tokens_own_comment_is_updated_not_another_persons(runner_env, tmp_path) -> None:
    """With a personal access token the comments are that user's, not a bot's: before, every run
    posted a new one (the filter took bots only). Another person's comment quoting the marker is
    still never edited."""
    workspace = _workspace(tmp_path / "ws")
    marker = comment_marker("site")
    run = Runner(runner_env, {"target": "site", "comment": "true"}, workspace, event=PR_EVENT)
    _comments(run, (5, "User", f"{marker}\n> quoted", "someone-else"), (6, "User", f"{marker}\n## smo-audit", "octo-dev"))
    (run.state / "viewer").write_text("octo-dev")
    code, printed = run.run()
    assert code == 0, printed
    writes = [c for c in run.gh_calls() if "PATCH" in c["args"] or "POST" in c["args"]]
    assert [c["args"][3] for c in writes] == ["repos/acme/site/issues/comments/6"], writes


@pytest.mark.parametrize("refused", ["POST", "GET"])
def test_a_comment_that_cannot_be_written_is_a_warning_not_a_failed_job(runner_env, tmp_path, refused: str) -> None:
    """A fork's pull request runs with a read-only token: the comment's 403 must not fail a job
    whose audit passed (the README: the job fails exactly when the audit fails or cannot run)."""
    workspace = _workspace(tmp_path / "ws")
    run = Runner(runner_env, {"target": "site", "fail-under": "10", "comment": "true"}, workspace, event=PR_EVENT)
    (run.state / "refuse").write_text(refused)
    code, printed = run.run()
    assert code == 0, printed
    assert "HTTP 403" in printed and re.search(r"^::warning title=smo-audit::no pull-request comment written", printed, re.M)
    assert run.action_outputs()["passed"] == "true"


def test_fail_on_and_no_comment_outside_pull_requests(runner_env, tmp_path) -> None:
    workspace = _workspace(tmp_path / "ws")
    run = Runner(runner_env, {"target": "site", "fail-on": "severity>=error", "comment": "true",
                              "formats": "markdown"}, workspace, event={"push": {}})
    code, printed = run.run()
    assert code == 1, printed
    outputs = run.action_outputs()
    assert outputs["passed"] == "false" and outputs["sarif-path"] == ""  # no sarif asked for
    assert Path(outputs["report-path"]).is_file()  # json is always written
    assert "fail-on 'severity>=error' holds" in run.summary.read_text().replace("\\", "")  # Markdown-escaped
    assert run.gh_calls() == [] and "no pull request in this event" in printed


def test_a_usage_error_fails_the_job_without_a_report(runner_env, tmp_path) -> None:
    workspace = _workspace(tmp_path / "ws")
    run = Runner(runner_env, {"target": "site", "fail-on": "score<<3"}, workspace)
    code, printed = run.run()
    assert code == 2, printed
    assert "fail-on" in printed and "the audit wrote no report" in printed


def test_a_run_publishes_only_what_it_wrote_in_a_reused_output_folder(runner_env, tmp_path) -> None:
    """Three jobs, one output folder (a self-hosted runner's workspace is kept): the second asks
    for no SARIF and must not point sarif-path at the first one's; the third stops on a usage
    error and must publish no summary, score or comment from the second one's report."""
    from smo_audit.report.formats import FILENAMES

    workspace = _workspace(tmp_path / "ws")
    first = Runner(runner_env, {"target": "site", "output-dir": "reports"}, workspace)
    assert first.run()[0] == 0
    out = workspace / "reports"
    for name in FILENAMES.values():  # every file a run may leave, whatever the first one asked for
        if not (out / name).exists():
            (out / name).write_text("stale")
    second = Runner(runner_env, {"target": "site", "output-dir": "reports", "formats": "markdown", "fail-under": "10",
                                 "comment": "true"}, workspace, event=PR_EVENT)
    code, printed = second.run()
    assert code == 0, printed
    assert second.action_outputs()["sarif-path"] == "", "no SARIF asked for: none published"
    assert sorted(p.name for p in out.iterdir()) == ["comment.md", "report.json", "report.md"]
    third = Runner(runner_env, {"target": "site", "output-dir": "reports", "fail-on": "score<<3", "comment": "true"},
                   workspace, event=PR_EVENT)
    code, printed = third.run()
    assert code == 2, printed
    outputs = third.action_outputs()
    assert outputs["score"] == outputs["passed"] == outputs["sarif-path"] == "", outputs
    assert not third.summary.exists() or "/100" not in third.summary.read_text()
    assert [c for c in third.gh_calls() if "POST" in c["args"] or "PATCH" in c["args"]] == []
    assert list(out.iterdir()) == [] and "the audit wrote no report" in printed
    closed = Runner(runner_env, {"target": "http://127.0.0.1:9/", "output-dir": "reports"}, workspace)
    code, printed = closed.run()  # nothing listens on port 9: exit 3, with a report that says so
    assert code == 3, printed
    outputs = closed.action_outputs()
    assert outputs["score"] == outputs["passed"] == "" and outputs["report-path"] == "reports/report.json"
    assert "the audit did not finish (exit 3" in printed and not closed.summary.exists()


def test_a_baseline_from_main_fails_on_a_new_failure_and_the_summary_shows_the_diff(runner_env, tmp_path) -> None:
    workspace = _workspace(tmp_path / "ws")
    main = Runner(runner_env, {"target": "site", "output-dir": "main-report"}, workspace)
    code, printed = main.run()
    assert code == 0, printed  # no threshold: nothing judged
    assert main.action_outputs()["passed"] == ""
    (workspace / "baseline.json").write_bytes((workspace / "main-report" / "report.json").read_bytes())
    # The pull request drops the home page's og:title.
    home = workspace / "site" / "index.html"
    home.write_text(home.read_text().replace('<meta property="og:title" content="Home">', ""))
    pr = Runner(runner_env, {"target": "site", "baseline": "baseline.json", "tolerance": "50",
                             "output-dir": "pr-report"}, workspace)
    code, printed = pr.run()
    assert code == 1, printed
    assert pr.action_outputs()["passed"] == "false"
    summary = pr.summary.read_text().replace("\\", "")
    assert summary.startswith("## smo-audit: ") and "❌ failed the thresholds" in summary.split("\n", 1)[0]
    assert "## smo-audit baseline: ❌ regressed" in summary and re.search(r"\d+ new failures? \([^)]*og-title", summary)
    assert "og-title on index.html: pass -> fail" in summary


def test_render_installs_the_render_extra_and_chromium_only_when_missing(runner_env, tmp_path) -> None:
    """With `render: true` the install step asks for smo-audit[render], and runs `playwright install`
    only when no Chromium is on PATH. A fake `playwright` module on PYTHONPATH (the step runs
    `python -P`, which leaves the working directory, the repository's checkout, off sys.path)
    records the call instead of downloading a browser."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    fake = tmp_path / "fake-modules" / "playwright"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text("import os, sys\nopen(os.path.join(os.getcwd(), 'playwright-called'), 'w')"
                                      ".write(' '.join(sys.argv[1:]))\n")
    install = next(s for s in ACTION["runs"]["steps"] if s.get("name") == "Install smo-audit")
    bare = tmp_path / "bare-bin"  # a PATH with no Chromium on it
    bare.mkdir()
    run = Runner(runner_env, {"target": "site", "render": "true"}, workspace)
    pip_report = tmp_path / "pip-report.json"  # pip's own record of what was asked for
    env = {"PATH": f"{runner_env['venv'] / 'bin'}:{bare}", "PIP_REPORT": str(pip_report),
           "PYTHONPATH": str(fake.parent)}
    result = run.step({**install, "env": {**install["env"], **env}})
    assert result.returncode == 0, result.stdout + result.stderr
    (requested,) = [i for i in json.loads(pip_report.read_text())["install"] if i["metadata"]["name"] == "smo-audit"]
    assert requested["requested_extras"] == ["render"]
    assert (workspace / "playwright-called").read_text() == "install --with-deps chromium"
    # Chromium available (here: SMO_AUDIT_CHROMIUM): no browser download.
    (workspace / "playwright-called").unlink()
    result = run.step({**install, "env": {**install["env"], **env, "SMO_AUDIT_CHROMIUM": "/usr/bin/chromium"}})
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (workspace / "playwright-called").exists()
