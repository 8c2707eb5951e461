"""Sites past one machine: `audit --shard K/N` audits one partition, `report --merge` joins them.

A million-page site is not crawled by one process. Each shard runs the same command with
`--shard K/N` (a GitHub Actions matrix job, a Dask task, a machine): it reads robots.txt and the
sitemaps like any audit, but fetches only the URLs its partition owns (a stable hash of the
normalised URL, so every shard agrees without talking to the others) and follows the links of
its own pages within that partition. A URL owned by another shard is never fetched here, so no
page is fetched twice (a redirect onto one is not followed either). The shard writes one NDJSON
part: its pages (the report's page lines), a `shard` line (partition, effective config, robots.txt
and sitemap facts, the two page facts the site rules read that the report does not carry, and the
handover: links to other partitions' pages no sitemap lists, see crawl/handover.py) and the usual
summary line.

`smo-audit report --merge part-*.ndjson` checks that the parts belong together (same target and
config, each partition once), streams their pages into one spool, rebuilds the compact per-page
records the site rules read, audits the handed-over pages no part holds (crawling on from them,
in this process), runs the site rules once over all of them (they may fetch, like a single audit)
and scores the site: the same report a single process would have written, pages in partition
order, the merge's own last.

What the split changes, and what it leaves (benchmarks/README.md, "A million pages"): the merge
crawls what the sitemaps miss in one process; --max-depth counts hops along the links the shards
followed. A page naming another partition's page as its canonical is marked its duplicate by
the merge, as one process marks it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smo_audit.crawl.handover import NOT_FETCHED_KINDS, Handover
from smo_audit.errors import UsageError

if TYPE_CHECKING:
    from smo_audit.pipeline import Audit, Target
    from smo_audit.report.model import Report
    from smo_audit.report.outputs import ReportOutputs
    from smo_audit.report.spool import PageEntry

SHARD_LINE = "shard"
# Output options and each machine's pace differ between the parts of one audit (they change no
# finding); everything else must be the same.
_PER_PART = frozenset({"format", "output", "output_dir", "show", "quiet", "debug", "concurrency", "per_host",
                       "workers"})


@dataclass(frozen=True)
class Shard:
    """Partition `index` (1-based) of `count`."""

    index: int
    count: int

    def owns(self, url: str) -> bool:
        return partition_of(url, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def partition_of(url: str, count: int) -> int:
    """The partition (1-based) of `count` that owns the normalised `url`."""
    digest = hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count + 1


def parse_shard(text: str) -> Shard:
    """`K/N` with 1 <= K <= N, or one sentence (exit 2)."""
    match = re.fullmatch(r"\s*(\d{1,7})\s*/\s*(\d{1,7})\s*", text)
    if match is None or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise UsageError(f"--shard must be K/N with 1 <= K <= N (e.g. 2/8), not {text!r}")
    return Shard(int(match.group(1)), int(match.group(2)))


def shard_line(run: Audit, shard: Shard) -> str:
    """The part's `shard` line: what the merge needs that the page lines do not carry."""
    site = run.site_info
    records = {r.url: [r.facts.has_password_form, r.facts.is_account_page] for r in run.collected.records
               if r.facts.has_password_form or r.facts.is_account_page}
    data = {
        "type": SHARD_LINE, "shard": str(shard), "target": run.target.text,
        "config": run.config.model_dump(mode="json"),
        "site": None if site is None else {
            "start_url": site.start_url, "robots_txt": site.robots_txt, "robots_url": site.robots_url,
            "sitemaps": list(site.sitemaps), "sitemap_lastmod": [list(p) for p in site.sitemap_lastmod],
        },
        "records": records,
        "handover": None if run.handover is None else run.handover.to_json(),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def write_part(path: Path, run: Audit, shard: Shard) -> None:
    """Write the part atomically: page lines from the spool, the shard line, the summary line."""
    from smo_audit.report.json_writer import to_json
    from smo_audit.report.spool import valid_utf8_json

    head = run.summary(finished=True)
    summary = json.loads(to_json(head))
    summary.pop("pages", None)
    summary = {"type": "summary", **summary, "page_count": run.audited, "pages_amended": []}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as out:
            for line in run.page_lines_ndjson():
                out.write(line + "\n")
            out.write(valid_utf8_json(shard_line(run, shard)) + "\n")
            out.write(valid_utf8_json(json.dumps(summary, ensure_ascii=False, separators=(",", ":"))) + "\n")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


_COMPACT_OTHER = ('{"type":"shard"', '{"type":"summary"')  # its other lines, never pages


def _page_object(line: str) -> dict[str, Any] | None:
    """A page line in another JSON layout, without its "type" (None for any other line)."""
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return None  # read_part has refused the part already
    if not isinstance(data, dict) or data.get("type") != "page":
        return None
    data.pop("type")
    return data


@dataclass
class Part:
    """One part file, read once for its shard and summary lines (pages are streamed later)."""

    path: Path
    shard: Shard
    meta: dict[str, Any]
    summary: dict[str, Any]
    extras: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    handover: Handover = field(default_factory=Handover)

    def page_lines(self) -> Iterator[tuple[int, str]]:
        """(line number, page line) of every page of the part, in the shard's compact form: a
        part rewritten by another tool (jq, `json.dumps` with its spaces) keeps its pages."""
        from smo_audit.report.spool import PAGE_PREFIX

        with self.path.open("r", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.startswith(PAGE_PREFIX):
                    yield number, line.rstrip("\n")
                elif not line.startswith(_COMPACT_OTHER) and line.strip():
                    data = _page_object(line)
                    if data is not None:
                        yield number, json.dumps({"type": "page", **data}, ensure_ascii=False, separators=(",", ":"))

    def damaged(self, what: str) -> UsageError:
        """The one sentence for a part edited or cut off after its shard wrote it (exit 2)."""
        return UsageError(f"{self.path} is a damaged shard part ({what[:200]}): run shard {self.shard} again")


def read_part(path: Path) -> Part:
    from smo_audit.report.spool import PAGE_PREFIX

    meta: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    pages = 0
    try:
        with path.open("r", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.startswith(PAGE_PREFIX):
                    pages += 1
                    continue
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except RecursionError:
                    raise UsageError(f"{path} is not a shard part: line {number} is JSON nested too deep") from None
                except json.JSONDecodeError:
                    if number == 1 and line.lstrip().startswith("{"):  # a JSON report, written with -f json
                        raise UsageError(f"{path} is not a shard part: it looks like a JSON report; --merge "
                                         "reads the NDJSON parts of `smo-audit audit URL --shard K/N "
                                         "-o part-K.ndjson`") from None
                    raise UsageError(f"{path} is not a shard part: line {number} is not JSON") from None
                kind = data.get("type") if isinstance(data, dict) else None
                if kind == SHARD_LINE:
                    meta = data
                elif kind == "summary":
                    summary = data
                elif kind == "page":
                    pages += 1  # written out again by another tool: page_lines reads it too
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a shard part (not UTF-8 text)") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if meta is None and pages:
        raise UsageError(f"{path} is an unfinished or damaged shard part (page lines but no shard line): "
                         "run that shard again")
    if meta is None:
        raise UsageError(f"{path} is not a shard part (no shard line: write parts with "
                         "`smo-audit audit URL --shard K/N -o part-K.ndjson`)")
    if summary is None:
        raise UsageError(f"{path} is an unfinished shard part (no summary line): run that shard again")
    try:
        shard = parse_shard(str(meta.get("shard", "")))
    except UsageError:  # the shard line names no K/N: edited after its shard wrote it
        raise UsageError(f"{path} is a damaged shard part (its shard line says shard "
                         f"{str(meta.get('shard'))[:40]!r}, not K/N): run that shard again") from None
    part = Part(path, shard, meta, summary)
    _check_part(part)
    part.extras = {str(url): (bool(v[0]), bool(v[1])) for url, v in (meta.get("records") or {}).items()}
    part.handover = Handover.from_json(meta.get("handover"))
    return part


def _check_part(part: Part) -> None:
    """The shard and summary lines hold what the merge reads, in the shapes it reads (a part is a
    file: it can be edited or cut off after its shard wrote it)."""
    from datetime import datetime

    from pydantic import ValidationError

    from smo_audit.report.model import CrawlError

    meta, summary = part.meta, part.summary
    records = meta.get("records") or {}
    if not isinstance(records, dict) or not all(isinstance(v, list) and len(v) == 2 for v in records.values()):
        raise part.damaged("its shard line's records are not URL -> [password form, account page]")
    site = meta.get("site")
    if site is not None and not (isinstance(site, dict) and isinstance(site.get("start_url"), str)):
        raise part.damaged("its shard line's site has no start URL")
    if site is not None and not (isinstance(site.get("sitemaps") or [], list)
                                 and isinstance(site.get("sitemap_lastmod") or [], list)
                                 and all(isinstance(p, list) and len(p) == 2 for p in site.get("sitemap_lastmod") or [])):
        raise part.damaged("its shard line's sitemaps are not lists")
    if not isinstance(meta.get("config") or {}, dict):
        raise part.damaged("its shard line's config is not an object")
    errors = summary.get("errors") or []
    try:
        if not isinstance(errors, list):
            raise TypeError("not a list")
        for error in errors:
            CrawlError.model_validate(error)
        if not isinstance(summary.get("partial", False), bool):
            raise TypeError(f"partial is {summary['partial']!r:.40}, not true or false")
        if not isinstance(summary.get("stop_reason"), str | None):
            raise TypeError(f"stop_reason is {summary['stop_reason']!r:.40}, not a reason")
        started = summary.get("started_at")
        if started is not None:
            if not isinstance(started, str):
                raise TypeError(f"started_at is {started!r:.40}, not a time")
            if datetime.fromisoformat(started).tzinfo is None:  # the merge compares it with the others'
                raise ValueError(f"started_at {started!r:.40} has no time zone")
    except (ValidationError, TypeError, ValueError) as exc:
        raise part.damaged(f"its summary line: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    """What is wrong, in a few words: pydantic's first error (where, what), else the first line."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _comparable(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in _PER_PART}


def check_parts(parts: list[Part]) -> tuple[list[str], int]:
    """Refuse parts that do not belong together; return (sentences about missing partitions, N)."""
    if not parts:
        raise UsageError("--merge needs at least one shard part")
    first = parts[0]
    count = first.shard.count
    seen: dict[int, Path] = {}
    for part in parts:
        if part.shard.count != count:
            raise UsageError(f"{part.path} is shard {part.shard} but {first.path} is shard {first.shard}: "
                             "parts of one audit share N")
        if part.meta.get("target") != first.meta.get("target"):
            raise UsageError(f"{part.path} audited {part.meta.get('target')!r}, {first.path} "
                             f"{first.meta.get('target')!r}: parts of one audit have one target")
        if _comparable(part.meta.get("config") or {}) != _comparable(first.meta.get("config") or {}):
            raise UsageError(f"{part.path} ran with other settings than {first.path}: shards of one audit need "
                             "the same options and config")
        if part.shard.index in seen:
            raise UsageError(f"{part.path} and {seen[part.shard.index]} are both shard {part.shard}")
        seen[part.shard.index] = part.path
    missing = [f"shard {k}/{count} is missing from the merge: its pages are not in this report"
               for k in range(1, count + 1) if k not in seen]
    return missing, count


def merge_parts(paths: list[Path], spool: Any, notice: Callable[[str], None] | None = None,
                on_progress: Callable[[Any], None] | None = None) -> tuple[Audit, str | None]:
    """Merge shard parts into one finished Audit (pages on `spool`, site rules run).

    `notice`: told, before it starts, that the merge audits pages no shard reached (it may take a
    while); `on_progress`: that crawl's progress, as an audit's.

    Also returns "interrupted" or "terminated" when a signal stopped the merge's own crawl or its
    site rules (the Audit is then partial, and what it audited is kept), else None."""
    import asyncio
    from datetime import datetime

    from pydantic import ValidationError

    from smo_audit.config import AuditConfig
    from smo_audit.crawl.handover import resume_from
    from smo_audit.crawl.settle import other_canonicals
    from smo_audit.engine.api import SiteInfo
    from smo_audit.interrupt import Stopper, Terminated
    from smo_audit.pipeline import Audit, resolve_target
    from smo_audit.report import model as rm

    parts = sorted((read_part(path) for path in paths), key=lambda part: part.shard.index)
    missing, count = check_parts(parts)
    first = parts[0]
    try:
        config = AuditConfig.model_validate(first.meta.get("config") or {})
    except ValidationError as exc:
        raise UsageError(f"{first.path} holds settings this smo-audit cannot read ({exc.errors()[0]['msg']})") from None
    run = Audit(resolve_target(str(first.meta.get("target", ""))), config, spool=spool, on_progress=on_progress)
    run.merged_strip = tuple(dict.fromkeys((*run.merged_strip, *(p for part in parts for p in part.handover.strip))))
    started = [datetime.fromisoformat(str(p.summary["started_at"])) for p in parts if p.summary.get("started_at")]
    if started:
        run.started_at = min(started)
    seen_errors: set[tuple[str, str, str]] = set()
    reported: set[str] = set()  # URLs the parts fetched that are not pages: never fetched again
    landed = _start_landed(parts, run.target.url or "")
    for part in parts:
        for number, line in part.page_lines():
            try:
                run.add_merged_page(line, part.extras, landed)
            except ValueError as exc:  # pydantic's ValidationError too: a line cut off or edited
                raise part.damaged(f"line {number} is not a page: {_first_line(exc)}") from None
        for error in part.summary.get("errors") or []:
            key = (str(error.get("url")), str(error.get("kind")), str(error.get("message")))
            if error.get("kind") == "plugin" or key in seen_errors:
                continue  # plugin problems are the merge's own; robots/sitemap errors repeat per part
            seen_errors.add(key)
            run.collected.errors.append(rm.CrawlError.model_validate(error))
            if error.get("url") and error.get("kind") not in NOT_FETCHED_KINDS:
                reported.add(str(error["url"]))
        if part.summary.get("partial"):
            run.partial = True
            run.stop_reason = run.stop_reason or part.summary.get("stop_reason") or "partial"
    for sentence in missing:
        run.collected.errors.append(rm.CrawlError(url=run.target.text, kind="shard-missing", message=sentence))
    if any(part.summary.get("stop_reason") == "not-auditable" for part in parts):
        # The start page's shard could not audit it (as one process, which would stop there): the
        # other parts' pages are kept, nothing more is crawled or judged, and the merge exits 3.
        run.stop("not-auditable")
        _combine_repeats(run.collected.errors)
        return run, None
    if missing:
        run.stop("shards-missing")
    for part in parts:
        if part.handover.dropped:
            run.collected.errors.append(rm.CrawlError(
                url=run.target.text, kind="shard-links-dropped",
                message=f"shard {part.shard} linked to {len(part.handover.links) + part.handover.dropped:,} pages of "
                        f"other partitions that no sitemap lists and kept {len(part.handover.links):,}: pages only "
                        "the others lead to may be missing from this report (list them in a sitemap)"))
            run.partial = True
            run.stop_reason = run.stop_reason or "shard-links-dropped"
    site_data = next((p.meta["site"] for p in parts if p.meta.get("site")), None)
    if site_data is not None:
        site = SiteInfo(
            start_url=site_data["start_url"], robots_txt=site_data.get("robots_txt"),
            robots_url=site_data.get("robots_url"), sitemaps=tuple(site_data.get("sitemaps") or ()),
            sitemap_lastmod=tuple((str(a), str(b)) for a, b in site_data.get("sitemap_lastmod") or ()),
        )
        resume = None
        handovers = [part.handover for part in parts]
        if any(handover.links or handover.redirects for handover in handovers):  # else: a complete sitemap
            audited, entries = run.reached_urls()  # a map of every page: only when there is a handover
            resume = resume_from(handovers, audited, reported | entries, frozenset(other_canonicals(run.merged_canonicals, run.merged_strip)))
        if resume is not None and (resume.frontier or resume.continued) and notice is not None:
            links = len(resume.frontier) + len(resume.continued)
            notice(f"the shards' pages link to {links:,} page{'s' if links != 1 else ''} no shard audited (not in "
                   "the sitemaps): auditing them and the pages they lead to here")
        stopper = Stopper(on_stop=run.stop)
        try:
            with stopper.installed():
                asyncio.run(stopper.run(run.execute_merged(site, resume, owns=_present(parts, count))))
        except KeyboardInterrupt:  # before the event loop took over
            stopper.reason = "interrupted"
            run.stop(stopper.reason)
        except Terminated:
            stopper.reason = "terminated"
            run.stop(stopper.reason)
        _combine_repeats(run.collected.errors)
        return run, stopper.reason
    _combine_repeats(run.collected.errors)
    return run, None


_COUNTED = re.compile(r"(\d{1,12}) (link\(s\) .*)", re.DOTALL)


def _combine_repeats(errors: list[Any]) -> None:
    """One finding per trap pattern and per session-id parameter, as one process reports them.

    Each shard (and the merge's own crawl) reports its own share: "8 link(s) like /t#/ ..." and
    "10 link(s) like /t#/ ..." become "18 link(s) like /t#/ ..." (the first example kept), and a
    session-id parameter found by several shards is reported once, with the first one's example."""
    combined: list[Any] = []
    first: dict[tuple[str, str], int] = {}  # (kind, message without its count or example) -> index
    totals: dict[int, tuple[int, int]] = {}  # index of a counted finding -> (its own count, the sum)
    for error in errors:
        kind, message = str(error.kind), str(error.message)
        key: tuple[str, str] | None = None
        count = 0
        if kind in ("crawl-trap", "max-depth"):
            match = _COUNTED.fullmatch(message)
            if match is not None:
                count, key = int(match.group(1)), (kind, match.group(2))
        elif kind == "session-id":
            key = (kind, message.split(" (e.g. ", 1)[0])
        if key is None:
            combined.append(error)
        elif key in first:
            own, total = totals[first[key]]
            totals[first[key]] = (own, total + count)
        else:
            first[key] = len(combined)
            totals[len(combined)] = (count, count)
            combined.append(error)
    for (_kind, rest), index in first.items():
        own, total = totals[index]
        if total != own:
            combined[index] = combined[index].model_copy(update={"message": f"{total} {rest}"})
    errors[:] = combined


def _start_landed(parts: list[Part], start: str) -> dict[str, str]:
    """Where the start URL's redirects ended, when that is another URL (http -> https, the apex
    -> www) -> the start page's name. Its shard audited it as the start page, and if a sitemap
    lists it, its own shard audited it again. One process audits it once, as the start page (and
    the URLs redirecting there are that page's duplicates): the merge keeps that one."""
    from smo_audit.crawl.urls import DEFAULT_STRIP_PARAMS, try_normalize

    name = try_normalize(start, DEFAULT_STRIP_PARAMS)
    finals = {part.handover.start_final for part in parts} - {None, name}
    return {final: name for final in finals if final is not None and name is not None}


def _present(parts: list[Part], count: int) -> Callable[[str], bool] | None:
    """The merge's crawl leaves the URLs of a missing part alone (its shard may have fetched them)."""
    present = {part.shard.index for part in parts}
    if len(present) == count:
        return None
    return lambda url: partition_of(url, count) in present


def part_outputs(path: Path, run: Audit, shard: Shard) -> ReportOutputs:
    """What `audit --shard` writes instead of reports: the part file, once the shard is done."""
    from smo_audit.report.outputs import OutputPlan, ReportOutputs

    class PartOutputs(ReportOutputs):
        def start(self) -> None:
            pass

        def on_page(self, entry: PageEntry) -> None:
            pass

        def finish(self, head: Report, *, stdout: bool = True) -> None:
            write_part(path, run, shard)
            self.written.append(path)

    return PartOutputs(OutputPlan(("ndjson",), path, None, "summary"), rules=run.loaded.by_id)


def check_shard_run(shard: Shard, target: Target, output: Path | None, render: str, formats: list[str]) -> None:
    """A shard audits URLs of a live site, statically, into one part file: refuse anything else."""
    if target.url is None:
        raise UsageError("--shard splits the crawl of a site by URL: audit a folder in one run")
    if output is None:
        raise UsageError("--shard writes one part file: give it with -o part-K.ndjson "
                         "(then merge the parts with smo-audit report --merge part-*.ndjson)")
    if render != "off":
        raise UsageError("--shard audits in static mode: leave out --render")
    if [f for f in formats if f not in ("ndjson", "terminal")]:
        raise UsageError("--shard writes an NDJSON part; give other formats to smo-audit report --merge")
