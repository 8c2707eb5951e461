"""The two calls the pipeline makes into rendered mode (kept here so pipeline.py only wires).

Imported only when rendering is on: Playwright is imported here, never in static mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Literal

from smo_audit.config import AuditConfig
from smo_audit.crawl.models import RawPage
from smo_audit.crawl.policy import FetchPolicy
from smo_audit.errors import UsageError
from smo_audit.extract import Extractor
from smo_audit.extract.facts import PageFacts
from smo_audit.render.chromium import INSTALL_HINT, ChromiumNotFound
from smo_audit.render.facts import RenderedPage
from smo_audit.render.settings import RenderSettings, is_local_url
from smo_audit.report import model as rm

try:  # Playwright is the optional `render` extra: without it, one readable sentence
    from smo_audit.render.browser import RenderFailure
    from smo_audit.render.session import ExtractText, Renderer
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    _IMPORT_ERROR: ImportError | None = exc
else:
    _IMPORT_ERROR = None


def render_settings(config: AuditConfig, start_url: str, *, folder: bool) -> RenderSettings:
    mode: Literal["auto", "all"] = "all" if config.render == "all" else "auto"
    return RenderSettings(
        mode=mode, viewports=tuple(config.viewports), concurrency=config.render_concurrency,
        samples=config.render_samples, page_timeout=config.render_timeout,
        navigation_timeout=min(15.0, config.render_timeout), screenshots=config.screenshots,
        chromium=config.chromium, local_target=is_local_url(start_url), only_local=folder,
    )


@asynccontextmanager
async def open_renderer(config: AuditConfig, extractor: Extractor, start_url: str, *,
                        folder: bool, policy: FetchPolicy | None = None,
                        extract_text: ExtractText | None = None) -> AsyncIterator[Renderer]:
    """The audit's renderer, or one sentence (exit 2) when rendered mode cannot run here.

    With `policy`, every request the browser makes for a page passes the audit's fetch policy;
    with `extract_text` (the worker pool's), rendered DOMs are extracted within the page budget."""
    if _IMPORT_ERROR is not None:
        raise UsageError(f"rendered mode needs Playwright, which is not installed ({_IMPORT_ERROR}): {INSTALL_HINT}")
    settings = render_settings(config, start_url, folder=folder)
    if policy is not None:
        # the address rule is applied by the browser's proxy to the address it connects to
        settings = replace(settings, check_url=policy.refusal, addresses=policy.addresses)
    try:
        renderer = Renderer(settings, extractor, extract_text)
    except ChromiumNotFound as exc:
        raise UsageError(f"rendered mode (--render) needs Chromium: {exc}") from None
    try:
        await renderer.__aenter__()
    except RenderFailure as exc:  # the browser given (--chromium, SMO_AUDIT_CHROMIUM) does not run
        raise UsageError(f"rendered mode (--render) could not start Chromium: {exc.message}") from None
    except OSError as exc:  # --screenshots names a file, or a folder that cannot be made
        raise UsageError(f"--screenshots {config.screenshots}: the folder cannot be made "
                         f"({exc.strerror or type(exc).__name__})") from None
    try:
        yield renderer
    finally:
        await renderer.__aexit__(None, None, None)


async def render_page(renderer: Renderer, raw: RawPage, static: PageFacts
                      ) -> tuple[RenderedPage, PageFacts, PageFacts, rm.CrawlError | None]:
    """(rendered facts, facts the rules judge, facts the report keeps, render error or None)."""
    from smo_audit.render.compare import effective_facts, static_with_visibility

    rendered, error = await renderer.page(raw, static)
    rendered = replace(rendered, static=static)
    failure = None if error is None else rm.CrawlError(url=error.url, kind=error.kind, message=error.message)
    return rendered, effective_facts(static, rendered), static_with_visibility(static, rendered), failure
