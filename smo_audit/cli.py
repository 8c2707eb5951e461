"""The command line: it only wires options into the pipeline and writers.

Imports of httpx, pydantic models, rich and friends happen inside the commands, so that
`smo-audit --help` stays well under half a second.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from smo_audit import __version__
from smo_audit.errors import (
    EXIT_BELOW_THRESHOLD,
    EXIT_INTERRUPTED,
    EXIT_PASSED,
    EXIT_TERMINATED,
    InternalError,
    SmoAuditError,
    TargetError,
    UsageError,
    printable,
)
from smo_audit.tuning import tune_gc

if TYPE_CHECKING:
    from smo_audit.config import AuditConfig, Settings
    from smo_audit.engine.registry import LoadedRules
    from smo_audit.pipeline import Audit, Target
    from smo_audit.report.model import Report
    from smo_audit.report.outputs import OutputPlan, ReportOutputs

app = typer.Typer(
    name="smo-audit",
    help="Audit a website's social media optimisation: link previews, share buttons, social sign-in, profiles.",
    rich_markup_mode=None,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _fail(error: SmoAuditError) -> NoReturn:
    sys.stderr.write(f"smo-audit: error: {printable(str(error))}\n")
    raise typer.Exit(error.exit_code)


def _safe_streams() -> None:
    """A terminal report on a stdout that cannot encode it (LANG=C) shows '?' instead of crashing;
    the file formats write UTF-8 bytes whatever the locale (report/outputs.py)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        if reconfigure is not None and encoding not in ("utf-8", "utf8"):
            reconfigure(errors="replace" if stream is sys.stdout else "backslashreplace")


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"smo-audit {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """smo-audit: how well is a website prepared for social media?"""
    _safe_streams()


DEMO_BASE_URL = "https://northwind-coffee.example"  # the demo site's production address (reserved TLD)

FormatOpt = Annotated[str | None, typer.Option(
    "--format", "-f", metavar="FORMAT[,FORMAT...]",
    help="Report formats: terminal, json, html, markdown, sarif, junit, csv, ndjson (several need --output-dir).")]
OutputDirOpt = Annotated[Path | None, typer.Option(
    "--output-dir", metavar="DIR", help="Write each format there as report.json, report.html, report.md, report.sarif, "
    "report.junit.xml, report.csv, report.ndjson.")]
ShowOpt = Annotated[str | None, typer.Option("--show", metavar="summary|pages|rules|all",
                                             help="Terminal report: also list every page, every rule's problems, or both.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file instead of stdout.")]
FailUnderOpt = Annotated[float | None, typer.Option("--fail-under", metavar="N", help="Exit 1 when the site score is below N (0-100).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Re-raise rule errors instead of reporting them.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", metavar="FILE", help="Config file (default: nearest smo-audit.toml or pyproject.toml [tool.smo-audit]).")]
RulesDirOpt = Annotated[list[Path] | None, typer.Option("--rules-dir", metavar="DIR", help="Folder of local rule modules (repeatable).")]
SkipBrokenOpt = Annotated[bool, typer.Option("--skip-broken-plugins", help="Report a rule plugin or --rules-dir module that fails to load and go on without it (default: exit 2).")]


EXIT_CODES_HELP = (
    "\b\nExit codes: 0 ok (or no threshold), 1 score below --fail-under or another threshold failed\n"
    "(--fail-on, the config's thresholds, a regression against --baseline), 2 usage/config error,\n"
    "3 target not auditable, 4 internal error, 130 interrupted (Ctrl-C), 143 terminated."
)


@app.command(epilog=EXIT_CODES_HELP)
def audit(
    target: Annotated[str, typer.Argument(metavar="TARGET", help="A URL (https://example.com) or a folder with a built site (./public).")],
    format: FormatOpt = None,
    output: OutputOpt = None,
    output_dir: OutputDirOpt = None,
    show: ShowOpt = None,
    fail_under: FailUnderOpt = None,
    fail_on: Annotated[str | None, typer.Option("--fail-on", metavar="EXPR", help="Exit 1 when any condition holds: "
                                                "'score<90, category.preview-image<80, rule.og-image>0, severity>=error'.")] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", metavar="REPORT.json", help="Compare with an earlier "
                                                  "JSON report: exit 1 on new failures or a score drop beyond --tolerance.")] = None,
    tolerance: Annotated[float | None, typer.Option("--tolerance", metavar="POINTS", help="Score points (site and "
                                                    "category) a --baseline comparison forgives (default 0).")] = None,
    max_pages: Annotated[int | None, typer.Option("--max-pages", metavar="N", help="Stop after N pages (default 500).")] = None,
    max_depth: Annotated[int | None, typer.Option("--max-depth", metavar="N", help="Follow links at most N levels deep (default 10).")] = None,
    scope: Annotated[str | None, typer.Option("--scope", metavar="host|domain|prefix", help="host (default), domain or prefix.")] = None,
    include: Annotated[list[str] | None, typer.Option("--include", metavar="GLOB", help="Only crawl paths matching this glob (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", metavar="GLOB", help="Never crawl paths matching this glob (repeatable).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", metavar="N", help="Requests in flight (default 8).")] = None,
    ignore_robots: Annotated[bool | None, typer.Option("--ignore-robots", help="Crawl pages robots.txt disallows.")] = None,
    user_agent: Annotated[str | None, typer.Option("--user-agent", metavar="UA", help="User-Agent header for the crawl.")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", metavar="SECONDS", help="Seconds one fetch may take (default 30).")] = None,
    check_profiles: Annotated[bool | None, typer.Option("--check-profiles", help="Request each social profile URL once to verify it exists.")] = None,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="Allow requests to private, loopback and link-local addresses even when the target is public.")] = False,
    block_private: Annotated[bool, typer.Option("--block-private", help="Refuse requests to private, loopback and link-local addresses even when the target is one.")] = False,
    shard: Annotated[str | None, typer.Option("--shard", metavar="K/N", help="Audit partition K of N of the site's URLs into one NDJSON part (-o FILE); merge the parts with `smo-audit report --merge`.")] = None,
    dask: Annotated[str | None, typer.Option("--dask", metavar="tcp://HOST:PORT|local:N", help="Run the shards (one per worker thread) on a Dask distributed cluster, or on N local worker processes, then merge them into one report (needs smo-audit[dask]).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", metavar="N", help="Worker processes that parse pages (default 2; 0 parses in-process).")] = None,
    page_budget: Annotated[float | None, typer.Option("--page-budget", metavar="SECONDS", help="Parsing time one page may cost before it is skipped (default 20).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", metavar="URL", help="The production URL (og:url/canonical must live under it).")] = None,
    select: Annotated[list[str] | None, typer.Option("--select", metavar="RULE|CATEGORY", help="Only these rules or categories (repeatable).")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", metavar="RULE|CATEGORY", help="Skip these rules or categories (repeatable).")] = None,
    rules_dir: RulesDirOpt = None,
    skip_broken_plugins: SkipBrokenOpt = False,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    render: Annotated[str | None, typer.Option("--render", metavar="[auto|all|off]", help="Render pages in headless Chromium: auto (a few pages per template; what a bare --render means), all, or off.")] = None,
    viewports: Annotated[str | None, typer.Option("--viewports", metavar="LIST", help="Rendered viewports, comma-separated: desktop (1366x768), mobile (390x844). Default both.")] = None,
    render_concurrency: Annotated[int | None, typer.Option("--render-concurrency", metavar="N", help="Browser contexts open at once (default 2; a multiple of the number of viewports).")] = None,
    render_samples: Annotated[int | None, typer.Option("--render-samples", metavar="N", help="--render auto: pages rendered per template (default 2).")] = None,
    screenshots: Annotated[Path | None, typer.Option("--screenshots", metavar="DIR", help="Save a JPEG per rendered page and viewport, share buttons outlined.")] = None,
    chromium: Annotated[str | None, typer.Option("--chromium", metavar="PATH", help="The Chromium binary for rendered mode.")] = None,
) -> None:
    """Audit a site (URL) or a static build folder and print a scored report."""
    flags: dict[str, Any] = {
        "format": format, "output": output, "output_dir": output_dir, "show": show, "fail_under": fail_under,
        "fail_on": fail_on, "baseline": baseline, "tolerance": tolerance,
        "max_pages": max_pages,
        "max_depth": max_depth, "scope": scope, "include": include, "exclude": exclude,
        "concurrency": concurrency, "ignore_robots": ignore_robots, "user_agent": user_agent,
        "timeout": timeout, "base_url": base_url, "check_profiles": check_profiles, "select": select, "ignore": ignore,
        "rules_dirs": rules_dir, "skip_broken_plugins": skip_broken_plugins or None,
        "quiet": quiet or None, "debug": debug or None,
        "workers": workers, "page_budget": page_budget, "shard": shard, "dask": dask,
        "render": render, "viewports": viewports, "render_concurrency": render_concurrency,
        "render_samples": render_samples, "screenshots": screenshots, "chromium": chromium,
        "private_addresses": _private_mode(allow_private, block_private),
    }
    _run(target, flags, config)


def _private_mode(allow: bool, block: bool) -> str | None:
    if allow and block:
        _fail(UsageError("--allow-private and --block-private contradict each other: give one of them"))
    return "allow" if allow else "block" if block else None


@app.command()
def demo(
    format: FormatOpt = None,
    output: OutputOpt = None,
    output_dir: OutputDirOpt = None,
    show: ShowOpt = None,
    fail_under: FailUnderOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Audit the bundled demo website (served on 127.0.0.1) to see what a report looks like."""
    from importlib import resources

    site = resources.files("smo_audit_demo").joinpath("site")
    flags: dict[str, Any] = {"format": format, "output": output, "output_dir": output_dir, "show": show,
                             "fail_under": fail_under, "quiet": quiet or None, "base_url": DEMO_BASE_URL}
    _run(str(site), flags, None, use_config_files=False)


class _Stage:
    """How far an audit got, for the sentence of a signal that ends it before the audit handles it."""

    def __init__(self) -> None:
        self.reports_opened = False  # from here on the audit writes its (partial) reports itself

    @property
    def nothing_written(self) -> str:
        return "" if self.reports_opened else " before the audit started; no report was written"


def _run(target: str, flags: dict[str, Any], config_path: Path | None, *, use_config_files: bool = True,
         settings: Settings | None = None) -> None:
    from smo_audit.interrupt import Stopper, Terminated

    stage = _Stage()
    try:
        with Stopper().installed():  # SIGTERM before or after the crawl ends like Ctrl-C
            code = _audit(target, flags, config_path, use_config_files, settings, stage)
    except SmoAuditError as error:
        _fail(error)
    except KeyboardInterrupt:
        sys.stderr.write(f"smo-audit: interrupted{stage.nothing_written}\n")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Terminated:
        sys.stderr.write(f"smo-audit: terminated{stage.nothing_written}\n")
        raise typer.Exit(EXIT_TERMINATED) from None
    except Exception as exc:
        if flags.get("debug"):
            raise
        _fail(_internal(exc))
    raise typer.Exit(code)


def run_shard_request(request: dict[str, Any]) -> int:
    """One shard of a `--dask` audit, in a worker's child process (smo_audit/distributed.py).

    The client resolved the settings; they arrive as the effective config, so no config file is
    read here. Returns the exit code, after the same one-sentence errors as `audit --shard`.
    """
    from pydantic import ValidationError

    from smo_audit.config import AuditConfig, Settings

    try:
        try:
            config = AuditConfig.model_validate(request.get("config") or {})
        except ValidationError as exc:
            _fail(UsageError(f"the client sent settings this smo-audit cannot read ({exc.errors()[0]['msg']}): "
                             "install the same smo-audit version on the client and every worker"))
        flags = {"shard": str(request.get("shard", "")), "workers": config.workers, "debug": config.debug}
        _run(str(request.get("target", "")), flags, None, settings=Settings(config))
    except typer.Exit as done:
        return int(done.exit_code)
    return EXIT_PASSED


def _internal(exc: BaseException, pages: int | None = None) -> InternalError:
    """One sentence for a bug (exit 4): what broke, what was kept, how to see the details."""
    detail = " ".join(str(exc).split())[:300]
    kept = "" if pages is None else f"; {_plural(pages, 'page')} audited so far {'was' if pages == 1 else 'were'} written"
    return InternalError(
        f"internal error ({type(exc).__name__}{': ' + detail if detail else ''}){kept}; rerun with --debug for details"
    )


def _plural(count: int, word: str) -> str:
    from smo_audit.report.wording import plural

    return plural(count, word)


def _audit(target_text: str, flags: dict[str, Any], config_path: Path | None, use_config_files: bool,
           settings: Settings | None = None, stage: _Stage | None = None) -> int:
    import asyncio

    if flags.get("workers") != 0 and not flags.get("debug") and flags.get("dask") is None:  # --dask parses nothing here
        from smo_audit.extract.workers import prestart

        prestart()  # the parse workers' imports overlap this process's own (see prestart)

    from smo_audit.config import check_rules, load_settings
    from smo_audit.engine.scoring import ScoringProfile
    from smo_audit.interrupt import Stopper, Terminated, exit_code
    from smo_audit.pipeline import Audit, resolve_target
    from smo_audit.report.outputs import OutputPlan, ReportOutputs
    from smo_audit.shard import check_shard_run, parse_shard, part_outputs

    shard_text = flags.pop("shard", None)
    shard = None if shard_text is None else parse_shard(shard_text)
    dask_text = flags.pop("dask", None)
    if dask_text is not None and shard is not None:
        raise UsageError("--dask runs every shard itself: leave out --shard")
    if settings is None:
        settings = load_settings(Path.cwd(), config_path, flags, use_files=use_config_files)
    cfg = settings.config
    loaded = _load_rules(cfg.rules_dirs, cfg.skip_broken_plugins)
    profile = ScoringProfile.load()
    check_rules(settings, loaded.rules, profile.categories)
    baseline = None
    if cfg.baseline is not None:
        from smo_audit.report.load import load_report

        baseline = load_report(cfg.baseline)  # a bad baseline stops the run before the crawl (exit 2)
    plan = OutputPlan(tuple(cfg.format), cfg.output, cfg.output_dir, cfg.show)
    if target_text.strip() and Path(target_text.strip()).is_dir():
        from smo_audit.report.outputs import check_outside

        check_outside(plan, Path(target_text.strip()))  # before check(), which creates the output folder
    plan.check()
    target = resolve_target(target_text)
    if dask_text is not None:
        return _audit_on_dask(dask_text, target_text, target, cfg, plan, baseline)
    if shard is not None:
        check_shard_run(shard, target, cfg.output, cfg.render, cfg.format)
    progress = _Progress(enabled=not cfg.quiet and sys.stderr.isatty() and not os.environ.get("CI"))
    from smo_audit.report.spool import PageSpool

    # Pages go to an on-disk spool as they are audited; JSON reports stream from it (flat memory).
    with PageSpool() as spool:
        run = Audit(target, cfg, rules=loaded, profile=profile, on_progress=progress.update, spool=spool,
                    on_notice=None if cfg.quiet else _notice, shard=shard)
        outputs = ReportOutputs(plan, rules=run.loaded.by_id, source=run) if shard is None else \
            part_outputs(cfg.output, run, shard)  # type: ignore[arg-type]  # checked: -o is given
        run.on_page_done = outputs.on_page
        # SIGINT/SIGTERM cancel the audit (fetches, site rules, parsing, the browser) and mark it
        # partial; the pages audited so far are written below and the exit code is 130/143.
        stopper = Stopper(on_stop=run.stop)
        try:
            with progress:
                try:
                    # Inside the try: a signal here (start() truncates an NDJSON file, tune_gc
                    # collects) still writes the partial report, never an empty stream beside
                    # an earlier run's JSON that looks current.
                    if stage is not None:
                        stage.reports_opened = True
                    outputs.start()
                    tune_gc()
                    asyncio.run(stopper.run(run.execute()))  # returns None: a big result would be repr'd on exit
                except KeyboardInterrupt:  # a signal before the event loop took over
                    run.stop("interrupted")
                except Terminated:
                    run.stop("terminated")
                except TargetError as error:
                    # Nothing auditable: a report from an earlier run must not look current.
                    run.fail(str(error))
                    with contextlib.suppress(SmoAuditError):  # the target's sentence is the one to print
                        outputs.finish(run.summary(finished=True), stdout=False)
                    raise
                except SmoAuditError:
                    raise
                except Exception as exc:
                    if cfg.debug:
                        raise
                    # Whatever broke, the pages already audited are not lost.
                    run.stop("crashed")
                    if run.audited:
                        _write_report(run, outputs, cfg.quiet)
                    raise _internal(exc, run.primaries) from None
            stopped = exit_code(run.stop_reason)
            if baseline is not None and run.audited and stopped is None:
                _compare_baseline(run, baseline, cfg.tolerance, cfg.quiet)
            report = run.summary(finished=True)
            if not run.audited and stopped is None and shard is not None and run.empty_partition_ok:
                # The site answered and another shard audits its start page; none of the pages this
                # shard could reach (the sitemap's) is in its partition. An empty part, not a
                # failure: in a CI matrix a failed job would stop the merge.
                if not cfg.quiet:
                    _notice(f"shard {shard} owns none of the pages it could reach; its part holds no pages")
            elif not run.audited and stopped is None:
                reason = report.errors[0].message if report.errors else "no page could be fetched"
                _write_report(run, outputs, cfg.quiet)
                raise TargetError(f"nothing could be audited at {target_text}: {reason}")
            _write_report(run, outputs, cfg.quiet)
        finally:
            outputs.close()
    if stopped is not None or report.stop_reason == "cancelled":
        sys.stderr.write(f"smo-audit: {report.stop_reason}; the partial report of {_plural(run.primaries, 'page')} "
                         "was written\n")
        return stopped or EXIT_INTERRUPTED
    if shard is not None:
        # A part's score leaves out the site rules and the pages handed over to the merge: the
        # thresholds travel in the part and the merge judges them (in a CI matrix a failed shard
        # job would stop the merge from running at all).
        return EXIT_PASSED
    return EXIT_BELOW_THRESHOLD if report.passed is False else EXIT_PASSED


def _audit_on_dask(address_text: str, target_text: str, target: Target, cfg: AuditConfig, plan: OutputPlan,
                   baseline: Report | None) -> int:
    """`--dask`: the shards run on the cluster (smo_audit/distributed.py), then merge here."""
    import tempfile

    from smo_audit.distributed import parse_address, require_distributed, run_shards, shard_config
    from smo_audit.interrupt import exit_code

    address = parse_address(address_text)
    require_distributed()
    if target.url is None:
        raise UsageError("--dask splits the crawl of a site by URL: audit a folder in one run")
    if cfg.render != "off":
        raise UsageError("--dask audits in static mode: leave out --render")
    with tempfile.TemporaryDirectory(prefix="smo-audit-dask-") as tmp:
        done = run_shards(address, target_text, shard_config(cfg.model_dump(mode="json")), Path(tmp),
                          notice=None if cfg.quiet else _notice)
        stopped = exit_code(done.stop_reason)
        if not done.parts:
            sys.stderr.write(f"smo-audit: {done.stop_reason} before any shard finished; no report was written\n")
            return stopped or EXIT_INTERRUPTED
        report, signalled, pages = _write_merged(done.parts, plan, baseline, cfg.tolerance, cfg.quiet,
                                                 stop_reason=done.stop_reason, warn=not cfg.quiet)
    if stopped is not None:  # a signal's exit code wins over the start page's exit 3, as in one process
        sys.stderr.write(f"smo-audit: {done.stop_reason}; the partial report of {len(done.parts)} of "
                         f"{done.count} shards was written\n")
        return stopped
    if signalled is not None:
        sys.stderr.write(f"smo-audit: {signalled} while merging; the partial report was written\n")
        return exit_code(signalled) or EXIT_INTERRUPTED
    _refuse_not_auditable(report, pages)
    return EXIT_BELOW_THRESHOLD if report.passed is False else EXIT_PASSED


def _write_merged(paths: list[Path], plan: OutputPlan, baseline: Report | None = None, tolerance: float = 0.0,
                  quiet: bool = True, stop_reason: str | None = None,
                  warn: bool = True) -> tuple[Report, str | None, int]:
    """Merge shard parts (the site rules run over all their pages) and write the report.

    `stop_reason`: the signal that stopped a `--dask` run (its shards say "terminated": the
    client stopped them), so the report names what the user did. `warn`: say on stderr what the
    merge crawls, its progress, and when the report is partial (a part missing, links dropped). Also returns the signal that stopped the merge itself (its crawl of the
    pages no shard reached, or the site rules): the report is written all the same; and the
    number of pages in it."""
    from smo_audit.report.outputs import ReportOutputs
    from smo_audit.report.spool import PageSpool
    from smo_audit.shard import merge_parts

    # The merge's own crawl (pages no shard reached) shows its progress like an audit's.
    progress = _Progress(enabled=warn and sys.stderr.isatty() and not os.environ.get("CI"))
    with PageSpool() as spool:
        with progress:
            run, signalled = merge_parts(paths, spool, notice=_notice if warn else None, on_progress=progress.update)
        if stop_reason is not None:
            run.stop(stop_reason)
        if baseline is not None and run.audited:
            _compare_baseline(run, baseline, tolerance, quiet)
        outputs = ReportOutputs(plan, rules=run.loaded.by_id, source=run)
        try:
            outputs.start()
            _write_report(run, outputs, quiet)
            report = run.summary(finished=True)
        finally:
            outputs.close()
    if warn:  # the report says so too; a CI log that only shows stderr should as well
        for error in report.errors:
            if error.kind in ("shard-missing", "shard-links-dropped"):
                sys.stderr.write(f"smo-audit: partial report: {printable(error.message)}\n")
    return report, signalled, run.primaries


def _compare_baseline(run: Audit, baseline: Report, tolerance: float, quiet: bool) -> None:
    """New failures or a score drop beyond the tolerance fail the run; the changes go to stderr."""
    from smo_audit.gate.diff import diff_reports
    from smo_audit.gate.diff_render import to_terminal
    from smo_audit.report.model import Page

    # The audited pages stream from the spool into small per-page views, never all at once.
    pages = (Page.model_validate_json(text) for text in run.page_lines())
    diff = diff_reports(baseline, run.summary(finished=True), tolerance=tolerance, new_pages=pages)
    run.baseline_reasons = tuple(diff.reasons)
    if not quiet:
        sys.stderr.write(to_terminal(diff))


def _notice(text: str) -> None:
    """A fact about the run the user should know as it happens (a detected production origin)."""
    safe = "".join(ch if ch.isprintable() else " " for ch in text)  # it quotes the build's own tags
    sys.stderr.write(f"smo-audit: {safe}\n")


def _write_report(run: Audit, outputs: ReportOutputs, quiet: bool) -> None:
    report = run.summary(finished=True)
    outputs.finish(report)
    if not quiet and outputs.plan.stdout_format != "terminal":
        from smo_audit.report.wording import plural, score_text, verdict_text

        audited = run.primaries
        judged = verdict_text(report.passed, report.fail_under, report.failed_thresholds)
        where = f" -> {printable(', '.join(str(p) for p in outputs.written))}" if outputs.written else ""
        sys.stderr.write(
            f"smo-audit: {plural(audited, 'page')}, {plural(len(report.errors), 'crawl error')}, "
            f"score {score_text(report.score)}/100{', ' + judged if judged else ''}"
            f"{' (partial)' if report.partial else ''}{where}\n"
        )


class _Progress:
    """A rich progress line on stderr for interactive terminals; silent in CI and with --quiet."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                console=Console(file=sys.stderr), transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("starting", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)

    def update(self, info: Any) -> None:
        if self._progress is not None:
            self._progress.update(
                self._task,
                description=f"{info.done} pages · {info.queued} queued · {info.errors} errors · {info.pages_per_second:.0f} pages/s",
            )


def _load_rules(rules_dirs: list[Path] | None, skip_broken: bool = False, *, metadata_only: bool = False) -> LoadedRules:
    from smo_audit.engine.registry import load_rules

    return load_rules(rules_dirs=rules_dirs or [], skip_broken=skip_broken, metadata_only=metadata_only)


@app.command("rules")
def list_rules(rules_dir: RulesDirOpt = None, skip_broken_plugins: SkipBrokenOpt = False) -> None:
    """List every rule with its id, category, severity and scope."""
    try:
        loaded = _load_rules(rules_dir, skip_broken_plugins, metadata_only=True)
    except SmoAuditError as error:
        _fail(error)
    ordered = sorted(loaded.rules, key=lambda r: (r.category, r.id))
    try:
        with _stdout_guard():
            _print_rules(ordered)
    except SmoAuditError as error:
        _fail(error)
    for _source, problem in loaded.problems:
        sys.stderr.write(f"smo-audit: warning: {printable(problem)}\n")


def _print_rules(ordered: list[Any]) -> None:
    if not sys.stdout.isatty():
        # Piped: one tab-separated line per rule, nothing cut, easy to grep and cut.
        for rule in ordered:
            sys.stdout.write("\t".join((rule.id, rule.category, rule.severity.value, rule.scope, rule.needs, rule.title)) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("Rule", "Category", "Severity", "Scope", "Needs"):
        table.add_column(column, no_wrap=True)  # ids are what people copy into --select
    table.add_column("Title")
    for rule in ordered:
        table.add_row(rule.id, rule.category, rule.severity.value, rule.scope, rule.needs, rule.title)
    _quiet_console(Console(file=sys.stdout)).print(table)


@app.command()
def explain(
    rule_id: Annotated[str, typer.Argument(metavar="RULE", help="A rule id, e.g. og-image.")],
    rules_dir: RulesDirOpt = None,
    skip_broken_plugins: SkipBrokenOpt = False,
) -> None:
    """Explain a rule: what it checks, why it matters, how to fix it."""
    try:
        loaded = _load_rules(rules_dir, skip_broken_plugins, metadata_only=True)
    except SmoAuditError as error:
        _fail(error)
    from smo_audit.engine.docs import rule_markdown

    rule = loaded.by_id().get(rule_id)
    if rule is None:
        _fail(UsageError(f"no rule named {rule_id!r} (see `smo-audit rules`)"))
    try:
        with _stdout_guard():
            sys.stdout.write(rule_markdown(rule) + "\n")
    except SmoAuditError as error:
        _fail(error)


@app.command("report")
def report_command(
    report_files: Annotated[list[Path], typer.Argument(metavar="REPORT", help="A JSON (or NDJSON) report written by smo-audit; with --merge, the shard parts.")],
    page: Annotated[str | None, typer.Option("--page", metavar="URL", help="Show one page in full (its URL or source file).")] = None,
    rule: Annotated[str | None, typer.Option("--rule", metavar="ID", help="Show every page's result for one rule.")] = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    output_dir: OutputDirOpt = None,
    show: ShowOpt = None,
    rules_dir: RulesDirOpt = None,
    merge: Annotated[bool, typer.Option("--merge", help="Merge the parts of a sharded audit (audit --shard K/N): audit the pages they link to that no shard reached, run the site rules over all the pages and write the report.")] = False,
) -> None:
    """Show or re-render a saved report without re-crawling: drill into a page or a rule, or
    write it in other formats (--format html,markdown --output-dir reports/)."""
    try:
        if merge:
            code = _merge(report_files, format, output, output_dir, show)
            raise typer.Exit(code)
        if len(report_files) != 1:
            raise UsageError("give one report (several only with --merge)")
        _report(report_files[0], page, rule, format, output, output_dir, show, rules_dir)
    except SmoAuditError as error:
        _fail(error)


def _refuse_not_auditable(report: Report, pages: int) -> None:
    """A merged report whose start page its shard could not audit exits 3, as one process would
    (the report, written already, keeps the `pages` the other shards audited)."""
    if report.stop_reason != "not-auditable":
        return
    reason = next((e.message for e in report.errors if e.kind == "not-auditable"), "the start page could not be audited")
    if pages:
        reason += f" (the merged report keeps the {_plural(pages, 'page')} the other shards audited)"
    raise TargetError(reason)


def _merge(paths: list[Path], formats: str | None, output: Path | None, output_dir: Path | None, show: str | None) -> int:
    from smo_audit.interrupt import exit_code
    from smo_audit.report.formats import parse_formats
    from smo_audit.report.outputs import OutputPlan

    try:
        names = parse_formats(formats or "terminal")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    plan = OutputPlan(tuple(names), output, output_dir, show or "summary")
    plan.check()
    report, signalled, pages = _write_merged(paths, plan)
    if signalled is not None:  # the merge's own crawl was stopped: the signal's exit code wins
        sys.stderr.write(f"smo-audit: {signalled}; the partial merged report was written\n")
        return exit_code(signalled) or EXIT_INTERRUPTED
    _refuse_not_auditable(report, pages)
    return EXIT_BELOW_THRESHOLD if report.passed is False else EXIT_PASSED


def _report(path: Path, page_key: str | None, rule_id: str | None, formats: str | None, output: Path | None,
            output_dir: Path | None, show: str | None, rules_dirs: list[Path] | None) -> None:
    from rich.console import Console

    from smo_audit.report.formats import parse_formats
    from smo_audit.report.load import load_report
    from smo_audit.report.outputs import OutputPlan, ReportOutputs
    from smo_audit.report.terminal import SHOW_CHOICES, find_page, render_page, render_rule

    if show is not None and show not in SHOW_CHOICES:
        raise UsageError(f"--show must be one of {', '.join(SHOW_CHOICES)}, not {show!r}")
    try:
        names = parse_formats(formats or "terminal")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    plan = OutputPlan(tuple(names), output, output_dir, show or "summary")
    if (page_key or rule_id) and (names != ["terminal"] or output_dir is not None):
        raise UsageError("--page and --rule print to the terminal: leave out --format and --output-dir")
    plan.check()
    report = load_report(path)
    # Rule docs come from the installed rules; a plugin that no longer loads only loses its docs.
    rules = _load_rules(rules_dirs, skip_broken=True).by_id()
    if page_key is not None or rule_id is not None:
        found = find_page(report, page_key) if page_key is not None else None
        if page_key is not None and found is None:
            raise UsageError(f"no page {page_key!r} in {path} (give its URL or source file)")
        with _stdout_guard():  # a reader that goes away is quiet, a full stdout one sentence (exit 2)
            console = _quiet_console(Console(file=sys.stdout, highlight=False))
            if found is not None:
                render_page(report, found, rules, console)
            if rule_id is not None and not render_rule(report, rule_id, rules, console):
                raise UsageError(f"no rule {rule_id!r} in {path} (see `smo-audit rules`)")
        return
    outputs = ReportOutputs(plan, rules=lambda: rules)
    outputs.finish(report)


@app.command("compare")
def compare_command(
    reports: Annotated[list[Path], typer.Argument(metavar="A.json B.json [C.json ...]",
                                                  help="Saved reports of two or more sites; the first is the reference.")],
    format: Annotated[str | None, typer.Option("--format", "-f", metavar="terminal|markdown|html",
                                               help="terminal (default), markdown or html.")] = None,
    output: OutputOpt = None,
) -> None:
    """Compare sites side by side from their saved reports: scores, share networks, profiles,
    preview completeness, sign-in providers, feeds, and what each does that the first does not."""
    try:
        _compare(reports, format or "terminal", output)
    except SmoAuditError as error:
        _fail(error)


def _compare(paths: list[Path], fmt: str, output: Path | None) -> None:
    from smo_audit.report.compare import compare, render_terminal, to_html, to_markdown
    from smo_audit.report.json_writer import write_atomic
    from smo_audit.report.load import load_report
    from smo_audit.report.outputs import check_output_file

    if fmt not in ("terminal", "markdown", "html"):
        raise UsageError(f"compare writes terminal, markdown or html, not {fmt!r}")
    if len(paths) < 2:
        raise UsageError("compare needs at least two reports (the first is the reference)")
    if output is not None:
        check_output_file(output)
    comparison = compare([load_report(path) for path in paths])
    if fmt == "terminal":
        from rich.console import Console

        if output is not None:
            with _file_guard(output), output.open("w", encoding="utf-8") as handle:
                render_terminal(comparison, Console(file=handle, width=100, color_system=None))
        else:
            with _stdout_guard():
                render_terminal(comparison, _quiet_console(Console(file=sys.stdout, highlight=False)))
        return
    text = to_markdown(comparison) if fmt == "markdown" else to_html(comparison)
    if output is not None:
        with _file_guard(output):
            write_atomic(output, text)
    else:
        _print_file_format(text)


@app.command("config", epilog=EXIT_CODES_HELP)
def config_command(
    show: Annotated[bool, typer.Option("--show", help="Print the effective config and where each value came from "
                                       "(default, preset, file or flag).")] = True,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON: {key: {value, source}}.")] = False,
    rules_dir: RulesDirOpt = None,
) -> None:
    """Check the configuration (the nearest smo-audit.toml or pyproject.toml [tool.smo-audit], or --config)
    and print the effective settings with their sources; a bad config exits 2 naming the file and key."""
    try:
        _config_show(config, as_json, rules_dir)
    except SmoAuditError as error:
        _fail(error)


def _config_show(config_path: Path | None, as_json: bool, rules_dirs: list[Path] | None) -> None:
    from smo_audit.config import check_rules, effective_values, load_settings
    from smo_audit.engine.scoring import ScoringProfile

    settings = load_settings(Path.cwd(), config_path, {"rules_dirs": rules_dirs})
    loaded = _load_rules(settings.config.rules_dirs, settings.config.skip_broken_plugins)
    check_rules(settings, loaded.rules, ScoringProfile.load().categories)
    rows = effective_values(settings)
    with _stdout_guard():
        _print_config(settings, rows, as_json)


def _print_config(settings: Settings, rows: list[tuple[str, Any, str]], as_json: bool) -> None:
    import json

    from smo_audit.config import toml_value

    if as_json:
        document = {"file": str(settings.path) if settings.path else None,
                    "settings": {key: {"value": value, "source": source} for key, value, source in rows}}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    def safe_text(text: str) -> str:
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)

    sys.stdout.write(f"# effective smo-audit config; file: {safe_text(str(settings.path)) if settings.path else 'none found'}\n")
    lines = [(f"{key} = {toml_value(value)}", source) for key, value, source in rows]
    width = min(max(len(text) for text, _ in lines), 60)
    for text, source in lines:
        sys.stdout.write(f"{safe_text(text).ljust(width)}  # {safe_text(source)}\n")


@app.command("diff", epilog="\b\nExit codes: 0 no regression, 1 regressed (a new failure, or a score drop beyond\n"
             "--tolerance), 2 a report cannot be read.")
def diff_command(
    old: Annotated[Path, typer.Argument(metavar="OLD.json", help="The earlier report (the baseline).")],
    new: Annotated[Path, typer.Argument(metavar="NEW.json", help="The later report.")],
    format: Annotated[str, typer.Option("--format", "-f", metavar="terminal|markdown|json",
                                        help="terminal (default), markdown or json.")] = "terminal",
    tolerance: Annotated[float, typer.Option("--tolerance", metavar="POINTS", min=0, max=100,
                                             help="Score points (site and category) forgiven (default 0).")] = 0.0,
    output: OutputOpt = None,
) -> None:
    """What got worse and what got better between two saved reports of a site: pages matched by
    source file or URL, rule by rule; exit 1 on a regression."""
    try:
        code = _diff(old, new, format, tolerance, output)
    except SmoAuditError as error:
        _fail(error)
    raise typer.Exit(code)


def _diff(old_path: Path, new_path: Path, fmt: str, tolerance: float, output: Path | None) -> int:
    from smo_audit.gate.diff import diff_reports
    from smo_audit.gate.diff_render import to_json, to_markdown, to_terminal
    from smo_audit.report.json_writer import write_atomic
    from smo_audit.report.load import load_report
    from smo_audit.report.outputs import check_output_file

    writers = {"terminal": to_terminal, "markdown": to_markdown, "json": to_json}
    if fmt not in writers:
        raise UsageError(f"diff writes terminal, markdown or json, not {fmt!r}")
    if output is not None:
        check_output_file(output)
    diff = diff_reports(load_report(old_path), load_report(new_path), tolerance=tolerance)
    text = writers[fmt](diff)
    if output is not None:
        with _file_guard(output):
            write_atomic(output, text)
    elif fmt == "terminal":
        with _stdout_guard():
            sys.stdout.write(text)
    else:
        _print_file_format(text)
    return EXIT_BELOW_THRESHOLD if diff.regressed else EXIT_PASSED


@app.command("github")
def github_command(
    report_file: Annotated[Path, typer.Argument(metavar="REPORT.json", help="The JSON report of the audit.")],
    sarif: Annotated[Path | None, typer.Option("--sarif", metavar="FILE", help="The SARIF report, for the sarif-path output.")] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", metavar="REPORT.json", help="Add the diff against this earlier report to the summary.")] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", metavar="POINTS", min=0, max=100, help="As for audit --baseline.")] = 0.0,
    comment_body: Annotated[Path | None, typer.Option("--comment-body", metavar="FILE", help="Write the pull-request comment body here.")] = None,
) -> None:
    """Publish a saved report in a GitHub Actions job (what action.yml runs): Markdown to
    $GITHUB_STEP_SUMMARY, ::error/::warning annotations, outputs to $GITHUB_OUTPUT, a comment body."""
    try:
        _github(report_file, sarif, baseline, tolerance, comment_body)
    except SmoAuditError as error:
        _fail(error)


def _github(path: Path, sarif: Path | None, baseline: Path | None, tolerance: float, body: Path | None) -> None:
    from smo_audit.gate import github
    from smo_audit.gate.diff import diff_reports
    from smo_audit.report.json_writer import write_atomic
    from smo_audit.report.load import load_report
    from smo_audit.report.outputs import check_output_file

    env = github.environment()
    summary, outputs = env.get("GITHUB_STEP_SUMMARY"), env.get("GITHUB_OUTPUT")
    # Every file is checked before anything is published: a job is not left half-reported.
    for option, destination in (("$GITHUB_STEP_SUMMARY", summary), ("$GITHUB_OUTPUT", outputs),
                                ("--comment-body", body)):
        if destination:
            check_output_file(Path(destination), option)
    report = load_report(path)
    diff = diff_reports(load_report(baseline), report, tolerance=tolerance) if baseline is not None else None
    rules = _load_rules(None, skip_broken=True).by_id()
    markdown = github.summary_markdown(report, rules, diff)
    with _file_guard(summary or ""):
        github.append(summary, markdown)
    workspace = Path(env["GITHUB_WORKSPACE"]) if env.get("GITHUB_WORKSPACE") else None
    _print_file_format("".join(line + "\n" for line in github.workflow_commands(github.find_annotations(report, workspace))))
    pr = github.pull_request_number(env.get("GITHUB_EVENT_PATH"))
    with _file_guard(outputs or ""):
        github.write_outputs(outputs, github.outputs(report, path, sarif, pr))
    if body is not None:
        with _file_guard(body):
            write_atomic(body, github.comment_body(report, rules, diff, github.comment_marker(report.target)))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the JSON report."""
    import json

    from smo_audit.report.model import json_schema

    try:
        with _stdout_guard():
            sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    except SmoAuditError as error:
        _fail(error)


RENDER_MODES = ("auto", "all", "off")


def normalise_render_flag(args: list[str]) -> list[str]:
    """A bare `--render` means `--render auto` (click options cannot take an optional value).

    The word after it is then the target, unless the command names a URL elsewhere and the word
    could be neither a URL nor a path: `--render bogus` is a wrong mode, said as such,
    not click's "unexpected extra argument"."""
    result: list[str] = []
    for index, arg in enumerate(args):
        result.append(arg)
        if arg == "--":
            result.extend(args[index + 1:])
            break
        if arg == "--render" and (index + 1 >= len(args) or args[index + 1].lower() not in RENDER_MODES):
            if index + 1 < len(args) and _wrong_render_mode(args[index + 1], args[:index] + args[index + 2:]):
                raise UsageError(f"--render takes {', '.join(RENDER_MODES)} (a bare --render means auto), "
                                 f"not {args[index + 1]!r}")
            result.append("auto")
    return result


def _wrong_render_mode(word: str, others: list[str]) -> bool:
    """`word` follows --render: a mistyped mode when it cannot be a target and a URL is given.

    Only a URL counts as the target given elsewhere: an existing file may be an option's value
    (-o report.json, --baseline), and `audit --render localhost` audits localhost."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", word) or word.startswith("-") or Path(word).exists():
        return False
    return any("://" in other for other in others[1:])


def _fast_metadata_command(args: list[str]) -> int | None:
    """`smo-audit rules` and `smo-audit explain ID` without options, run without typer's parsing.

    typer builds a pydantic validator for every parameter of the command it runs (about 0.1 s of
    imports); these two commands only print rule metadata and must start in under 0.15 s. Any
    option (or --help) takes the normal path; both paths call the same functions.
    """
    if args == ["rules"]:
        call: Any = lambda: list_rules(None, False)  # noqa: E731
    elif len(args) == 2 and args[0] == "explain" and not args[1].startswith("-"):
        call = lambda: explain(args[1], None, False)  # noqa: E731
    else:
        return None
    try:
        call()
    except typer.Exit as done:
        return done.exit_code
    return 0


def _print_file_format(text: str) -> None:
    """Markdown, HTML, JSON (and GitHub's workflow commands) on stdout: UTF-8 bytes whatever the
    locale, as in a file; a Latin-1 or ASCII stdout would turn every other character into '?'."""
    from smo_audit.report.outputs import utf8_stdout

    if not text:
        return
    with _stdout_guard(), utf8_stdout() as out:
        out.write(text if text.endswith("\n") else text + "\n")


@contextlib.contextmanager
def _stdout_guard() -> Iterator[None]:
    """What a command prints on stdout, written (and flushed) as `audit` writes its report there:
    a reader that went away (`| head`) ends the output quietly; any other failure (a full disk
    behind stdout) is one sentence and exit 2, and nothing more goes to stdout, not even at exit."""
    from smo_audit.report.outputs import OutputFailed, reason, silence_stdout

    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except OSError as exc:
        silence_stdout()
        raise OutputFailed(f"could not write the report to standard output: {reason(exc)}") from None


@contextlib.contextmanager
def _file_guard(path: Path | str) -> Iterator[None]:
    """A file a command writes (checked beforehand with check_output_file): a write that fails
    anyway (disk full, permission) is one sentence and exit 2, as for audit's reports."""
    from smo_audit.report.outputs import OutputFailed, reason

    try:
        yield
    except OSError as exc:
        raise OutputFailed(f"could not write the report to {path}: {reason(exc)}") from None


def _quiet_console(console: Any) -> Any:
    """A rich Console on stdout whose closed pipe silences stdout (rich's own answer is SystemExit(1))."""
    from smo_audit.report.outputs import silence_stdout

    setattr(console, "on_broken_pipe", silence_stdout)  # noqa: B010
    return console


# Options after which `audit` may run without the parse workers: the normal path decides.
_MAYBE_NO_WORKERS = ("--workers", "--debug", "--dask", "--help", "-h")


def wants_early_workers(args: list[str]) -> bool:
    """True for an `audit` whose options cannot turn the parse workers off (see main)."""
    return args[:1] == ["audit"] and not any(arg.startswith(_MAYBE_NO_WORKERS) for arg in args)


def _prestart_workers(args: list[str]) -> None:
    """Boot the parse workers' fork server before typer is even imported, for a plain `audit`.

    The fork server spends about half a second importing the page stage; started here, on the
    other core, it is ready by the time this process has parsed its options, loaded the rules
    and fetched robots.txt, instead of the first page waiting for it. A config file may still
    say `workers = 0`: then the idle fork server is simply never used.
    """
    if wants_early_workers(args):
        from smo_audit.extract.workers import prestart

        with contextlib.suppress(OSError):  # only a head start: the pool starts (and reports) on its own
            prestart()


def main() -> None:
    _safe_streams()  # the fast path below skips the typer callback that does it for other commands
    try:
        fast = _fast_metadata_command(sys.argv[1:])
        if fast is not None:
            sys.exit(fast)
        _prestart_workers(sys.argv[1:])  # inside: a Ctrl-C during it exits 130 like any other
        app(args=normalise_render_flag(sys.argv[1:]))
    except SmoAuditError as error:  # pragma: no cover - commands handle their own
        sys.stderr.write(f"smo-audit: error: {printable(str(error))}\n")
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("smo-audit: interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        sys.stderr.write(f"smo-audit: error: {_internal(exc)}\n")
        sys.exit(InternalError.exit_code)


__all__ = ["app", "main"]
