"""Where a run's reports go: one format to stdout or `--output`, several into `--output-dir`.

    --format json                          JSON on stdout
    --format json -o report.json           JSON in that file
    --format html,json,markdown --output-dir reports/
                                           reports/report.html, report.json, report.md
                                           (file names: smo_audit.report.formats.FILENAMES);
                                           `terminal` in the list still prints to stdout

The destinations are checked before the crawl (a bad combination or an output folder that cannot
be created is a usage error, exit 2, not a lost audit). While the crawl runs, NDJSON streams a
line per audited page and a JSON file is refreshed every few seconds, so an interrupted run
leaves its pages on disk; the final reports are written atomically at the end.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from smo_audit.errors import UsageError
from smo_audit.report.formats import FILENAMES

if TYPE_CHECKING:
    from smo_audit.engine.api import Rule
    from smo_audit.report.model import Report
    from smo_audit.report.ndjson import NdjsonStream
    from smo_audit.report.spool import PageEntry
    from smo_audit.report.writers import RenderContext

SNAPSHOT_SECONDS = 2.0


class ReportSource(Protocol):
    """A run whose pages are on a spool (pipeline.Audit): reports stream instead of loading it."""

    def summary(self, *, finished: bool = False) -> Report: ...
    def page_lines(self) -> Iterator[str]: ...
    def snapshot(self, *, finished: bool = False) -> Report: ...


@dataclass(frozen=True)
class Destination:
    format: str
    path: Path | None  # None: stdout


@dataclass(frozen=True)
class OutputPlan:
    formats: tuple[str, ...]
    output: Path | None = None
    output_dir: Path | None = None
    show: str = "summary"  # terminal layout (--show)

    def destinations(self) -> list[Destination]:
        if self.output_dir is not None:
            return [Destination(f, None if f == "terminal" else self.output_dir / FILENAMES[f]) for f in self.formats]
        return [Destination(self.formats[0], self.output)]

    @property
    def stdout_format(self) -> str | None:
        """The format printed on stdout, if any (used to keep stdout clean for machine formats)."""
        return next((d.format for d in self.destinations() if d.path is None), None)

    def check(self) -> None:
        """Refuse, before anything is crawled, destinations the run could not write."""
        files = [f for f in self.formats if f != "terminal"]
        if self.output is not None and self.output_dir is not None:
            raise UsageError("give either --output FILE (one format) or --output-dir DIR (any formats), not both")
        if self.output_dir is None and len(self.formats) > 1:
            raise UsageError(f"several formats ({', '.join(self.formats)}) need --output-dir DIR: each is written "
                             "there as report.<ext>")
        if self.output_dir is not None:
            if self.output_dir.exists() and not self.output_dir.is_dir():
                raise UsageError(f"--output-dir {self.output_dir} is a file, not a folder")
            if files:
                _check_folder(self.output_dir, "--output-dir")
        if self.output is not None:
            check_output_file(self.output, output_dir_hint=True)


# How each report format of ours starts: a file that starts otherwise is not ours to replace.
_OUR_REPORT_STARTS = (
    b'{\n  "schema_version":',  # JSON
    b'{"type":"page","url":', b'{"type":"summary",',  # NDJSON
    b"page_url,source_path,page_score,",  # CSV
    b"## smo-audit",  # Markdown
)
_OUR_REPORT_NAMES = (b'"name": "smo-audit"', b'<testsuites name="smo-audit',  # SARIF, JUnit
                     b'<meta name="generator" content="smo-audit')  # HTML


def check_outside(plan: OutputPlan, folder: Path) -> None:
    """Refuse, before the crawl, a report written into the folder being audited over one of its
    files (`-o public/index.html` replaced the page with the report), or as an HTML file there,
    which the next audit of the folder would audit as one of its pages. A report of ours is
    replaced as usual: `audit . -o report.json` can be run again."""
    from smo_audit.crawl.folder import HTML_SUFFIXES  # the files a folder audit audits

    root = folder.resolve()
    for destination in plan.destinations():
        if destination.path is None:
            continue
        path = destination.path.resolve()
        if not path.is_relative_to(root):
            continue
        shown = destination.path
        if path.is_file() and not _is_our_report(path):
            raise UsageError(f"the {destination.format} report would replace {shown}, a file of the folder being "
                             "audited: write it elsewhere")
        if path.name.lower().endswith(HTML_SUFFIXES):
            raise UsageError(f"the {destination.format} report {shown} would be inside the folder being audited, "
                             "where the next audit would take it for one of the site's pages: write it elsewhere")


def _is_our_report(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return not head or head.startswith(_OUR_REPORT_STARTS) or (
        head.lstrip().startswith((b"{", b"<")) and any(name in head for name in _OUR_REPORT_NAMES))


def check_output_file(path: Path, option: str = "--output", *, output_dir_hint: bool = False) -> None:
    """`--output FILE` (or another file a command writes, named by `option`: --comment-body,
    $GITHUB_STEP_SUMMARY) must be a file we can create or replace (or a device/pipe we can open).
    `output_dir_hint`: the command also has --output-dir (audit, report), which the error suggests."""
    from smo_audit.report.json_writer import is_special

    if path.is_dir():
        example = f" (e.g. {path / 'report.json'})" if option == "--output" else ""
        raise UsageError(f"{option} {path} is a folder: give a file name{example}"
                         f"{', or use --output-dir' if output_dir_hint else ''}")
    if is_special(path):  # not opened here: opening a named pipe waits for (and spends) its reader
        if not os.access(path, os.W_OK):
            raise UsageError(f"cannot write the report to {path}: permission denied")
        return
    for parent in (path.parent, *path.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"cannot write the report to {path}: {parent} is a file, not a folder")
            break
    _check_folder(path.parent, option)


def _check_folder(folder: Path, option: str) -> None:
    """Create `folder` if needed and prove a file can be created in it (then remove the probe)."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=".smo-audit-probe.", dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write reports in {folder} ({option}): {reason(exc)}") from None


def reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class OutputFailed(UsageError):
    """A report could not be written at the end of the run (disk full, the folder vanished)."""


@dataclass
class ReportOutputs:
    """Writes one run's reports: streaming parts during the crawl, everything at the end."""

    plan: OutputPlan
    rules: Callable[[], Mapping[str, Rule]]
    snapshot: Callable[[], Report] | None = None
    source: ReportSource | None = None  # set: JSON streams from the spool, partial reports paced
    _pacing: PartialReportPacing = field(default_factory=lambda: PartialReportPacing())
    _stream: NdjsonStream | None = None
    _stream_file: IO[str] | None = None
    _stdout: IO[str] | None = None  # NDJSON on stdout: a UTF-8 writer for the whole run
    _last_snapshot: float = field(default_factory=time.monotonic)
    written: list[Path] = field(default_factory=list)

    def start(self) -> None:
        """Open the NDJSON stream (when asked for) before the first page arrives."""
        for destination in self.plan.destinations():
            if destination.format == "ndjson":
                from smo_audit.report.ndjson import NdjsonStream

                if destination.path is None:
                    self._stdout = utf8_stdout_stream()
                    self._stream = NdjsonStream(self._stdout)
                else:
                    destination.path.parent.mkdir(parents=True, exist_ok=True)
                    self._stream_file = destination.path.open("w", encoding="utf-8")
                    self._stream = NdjsonStream(self._stream_file)

    def on_page(self, entry: PageEntry) -> None:
        if self._stream is not None:
            try:
                self._stream.page(entry.page())
            except BrokenPipeError:  # NDJSON on stdout and its reader went away (`| head`)
                self._stream = None
                silence_stdout()
        if self.source is not None:
            json_files = _snapshot_files(self.plan)
            if json_files and self._pacing.due():
                from smo_audit.report.json_writer import write_report_atomic

                with self._pacing.timed():
                    head = self.source.summary()
                    for path in json_files:
                        write_report_atomic(path, head, self.source.page_lines())
            return
        if self.snapshot is None or time.monotonic() - self._last_snapshot < SNAPSHOT_SECONDS:
            return
        json_files = _snapshot_files(self.plan)
        if json_files:
            from smo_audit.report.json_writer import to_json, write_atomic

            self._last_snapshot = time.monotonic()
            text = to_json(self.snapshot())
            for path in json_files:
                write_atomic(path, text)

    def finish(self, head: Report, *, stdout: bool = True) -> None:
        """Write every requested format of the final (or partial) report.

        With a `source`, `head` is the report without its pages: JSON streams the pages from the
        spool (flat memory); other formats load the whole report once, only if they are asked for.
        `stdout=False` writes the files only: a run that audited nothing replaces the reports of
        an earlier run (which would otherwise look current) but prints nothing but its error.
        """

        whole: list[Report] = [] if self.source is not None else [head]
        contexts: list[RenderContext] = []
        failures: list[str] = []
        for destination in self.plan.destinations():
            if destination.path is None and not stdout:
                continue
            try:
                self._write(destination, head, whole, contexts)
            except BrokenPipeError:
                if destination.path is not None:
                    raise
                silence_stdout()  # the reader of stdout went away (`| head`): the files still get written
            except OSError as exc:  # disk full, file too large, the folder went away: go on with the others
                if destination.path is None:
                    silence_stdout()  # a full disk behind stdout: nothing more goes there, not even at exit
                failures.append(f"{destination.path or 'standard output'}: {reason(exc)}")
        if failures:
            kept = f" ({', '.join(str(p) for p in self.written)} written)" if self.written else ""
            raise OutputFailed(f"could not write the report to {'; '.join(failures)}{kept}")

    def _write(self, destination: Destination, head: Report, whole: list[Report],
               contexts: list[RenderContext]) -> None:
        """One destination of `finish` (`whole` and `contexts` are built once, on first need)."""
        from smo_audit.report.json_writer import write_atomic, write_report, write_report_atomic
        from smo_audit.report.writers import RenderContext, render_report

        if destination.format == "json" and self.source is not None:
            if destination.path is None:
                with utf8_stdout() as out:
                    write_report(out, head, self.source.page_lines())
            else:
                write_report_atomic(destination.path, head, self.source.page_lines())
                self.written.append(destination.path)
            return
        if not whole:
            assert self.source is not None
            whole.append(self.source.snapshot(finished=True))
        report = whole[0]
        if not contexts:
            contexts.append(RenderContext(rules=self.rules(), source_root=source_root(report)))
        ctx = contexts[0]
        if destination.format == "terminal":
            self._terminal(report, ctx.rules or {}, destination.path)
            return
        if destination.format == "ndjson" and self._stream is not None:
            self._stream.finish(report)
            if self._stream_file is not None:
                self._stream_file.close()
                self.written.append(destination.path)  # type: ignore[arg-type]
            return
        text = render_report(destination.format, report, replace(ctx, output=destination.path))
        if destination.path is None:
            with utf8_stdout() as out:
                out.write(text if text.endswith("\n") else text + "\n")
        else:
            write_atomic(destination.path, text)
            self.written.append(destination.path)

    def close(self) -> None:
        if self._stream_file is not None and not self._stream_file.closed:
            self._stream_file.close()
        if self._stdout is not None:
            _release(self._stdout)
            self._stdout = None

    def _terminal(self, report: Report, rules: Mapping[str, Rule], path: Path | None) -> None:
        from rich.console import Console

        from smo_audit.report.terminal import render

        if path is not None:
            with path.open("w", encoding="utf-8") as handle:
                render(report, rules, Console(file=handle, width=120, color_system=None), show=self.plan.show)
            self.written.append(path)
        else:
            console = Console(file=sys.stdout, highlight=False)
            # rich's own answer to a closed stdout is SystemExit(1), which would skip the file reports.
            setattr(console, "on_broken_pipe", silence_stdout)  # noqa: B010
            render(report, rules, console, show=self.plan.show)


def silence_stdout() -> None:
    """The reader of stdout is gone (`smo-audit ... | head`): like other Unix tools, stop writing
    there without a word. stdout is pointed at /dev/null so that no later write or the final
    flush at exit raises again; reports written to files are not affected."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (a test runner's capture)
        pass


def _snapshot_files(plan: OutputPlan) -> list[Path]:
    """JSON files refreshed during the crawl: regular files only (a pipe gets the final report once)."""
    from smo_audit.report.json_writer import is_special

    return [d.path for d in plan.destinations() if d.format == "json" and d.path is not None and not is_special(d.path)]


def utf8_stdout_stream() -> IO[str]:
    """stdout as UTF-8 text whatever its locale: JSON and the other file formats are UTF-8 by
    contract, and an ASCII or Latin-1 stdout (LANG=C, a Windows console) must not make them fail
    or come out as something else. Release with `_release`."""
    sys.stdout.flush()
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("_", "-")
    buffer = getattr(sys.stdout, "buffer", None)
    if encoding in ("utf-8", "utf8") or buffer is None:
        return sys.stdout
    return io.TextIOWrapper(buffer, encoding="utf-8", newline="\n")


def _release(stream: IO[str]) -> None:
    stream.flush()
    if stream is not sys.stdout and isinstance(stream, io.TextIOWrapper):
        stream.detach()  # leaves sys.stdout's buffer open


@contextmanager
def utf8_stdout() -> Iterator[IO[str]]:
    stream = utf8_stdout_stream()
    try:
        yield stream
    finally:
        _release(stream)


def source_root(report: Report) -> Path | None:
    """The target folder of a folder audit (SARIF reads it for line numbers), else None."""
    if not any(page.source_path for page in report.pages[:20]):
        return None
    folder = Path(report.target).expanduser()
    return folder if folder.is_dir() else None


class PartialReportPacing:
    """When to rewrite partial reports: at least MIN_INTERVAL apart, and RATIO x the last write.

    A fixed "every 2 s" turns quadratic once a write takes longer than 2 s (the report was then
    rewritten after every page); this way partial reports cost at most ~1/RATIO of the audit.
    """

    MIN_INTERVAL = 2.0
    RATIO = 10.0

    def __init__(self) -> None:
        self.interval = self.MIN_INTERVAL
        self.next_at = time.monotonic() + self.MIN_INTERVAL

    def due(self) -> bool:
        return time.monotonic() >= self.next_at

    def schedule(self, took: float) -> None:
        self.interval = max(self.MIN_INTERVAL, self.RATIO * took)
        self.next_at = time.monotonic() + self.interval

    @contextmanager
    def timed(self) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.schedule(time.monotonic() - started)
