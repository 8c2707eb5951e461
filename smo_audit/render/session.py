"""Rendered mode as the pipeline sees it: one call per page -> RenderedPage (+ an error or none).

`Renderer` owns the audit's browser session and the template sampler; for each page it decides
(with `--render auto`) whether to render it or let it inherit a sample's facts, renders it in
every viewport, and turns the captures into a RenderedPage. A page that cannot be rendered keeps
its static results and gets a `render-timeout` / `render-crash` / `render-error` entry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from smo_audit.crawl.models import RawPage
from smo_audit.extract import Extractor
from smo_audit.extract.decode import decode_html
from smo_audit.extract.facts import PageFacts, ShareButton
from smo_audit.extract.workers import ProcessingTimeout, WorkerCrashed
from smo_audit.render.browser import BrowserSession, RenderFailure, ViewportCapture
from smo_audit.render.compare import (
    button_keys,
    pair_buttons,
    script_changes,
    visibility_by_key,
    with_visibility,
)
from smo_audit.render.facts import RenderedPage, RenderSummary
from smo_audit.render.settings import RenderSettings
from smo_audit.render.templates import (
    TemplateSampler,
    controls_signature,
    layout_signature,
    share_position,
)


@dataclass(frozen=True, slots=True)
class RenderError:
    url: str
    kind: str
    message: str


# (rendered HTML, page URL) -> (facts, notes): the audit's worker pool, so that a rendered DOM is
# parsed where a page budget can stop it and the crawl's event loop never waits on it.
ExtractText = Callable[[str, str], Awaitable[tuple[PageFacts, tuple[str, ...]]]]


class Renderer:
    """`async with Renderer(settings, extractor) as renderer: await renderer.page(raw, static_facts)`.

    With `extract_text` (ExtractionPool.extract_text) the rendered DOMs are extracted there; a DOM
    whose extraction goes over the page budget leaves the page its static results and an error of
    kind `processing-timeout`. Without it they are extracted here, in the crawl's process."""

    def __init__(self, settings: RenderSettings, extractor: Extractor, extract_text: ExtractText | None = None) -> None:
        self.settings = settings
        self.extractor = extractor
        self.extract_text = extract_text
        self.session = BrowserSession(settings)  # raises ChromiumNotFound when there is none
        self.sampler = TemplateSampler(settings.samples) if settings.mode == "auto" else None
        self.counts = {"rendered": 0, "inherited": 0, "static-only": 0}

    async def __aenter__(self) -> Renderer:
        if self.settings.screenshots is not None:
            self.settings.screenshots.mkdir(parents=True, exist_ok=True)
        await self.session.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    def summary(self) -> RenderSummary:
        return RenderSummary(
            mode=self.settings.mode, viewports=list(self.settings.viewports), rendered=self.counts["rendered"],
            inherited=self.counts["inherited"], static_only=self.counts["static-only"],
            templates=len(self.sampler.layouts) if self.sampler else 0, browser_restarts=self.session.restarts,
        )

    async def page(self, raw: RawPage, static: PageFacts) -> tuple[RenderedPage, RenderError | None]:
        if self.sampler is None:
            return await self._counted(self._render(raw, static, None))
        html = decode_html(raw.response.body, raw.response.charset)[0]
        layout = layout_signature(html)
        controls = f"{controls_signature(static)}+{share_position(html, static)}"
        del html
        decision = await self.sampler.decide(layout, controls)
        if decision.render:
            outcome: tuple[RenderedPage, RenderError | None] | None = None
            try:
                outcome = await self._counted(self._render(raw, static, f"{layout}/{controls}"))
            finally:
                sample = outcome[0] if outcome is not None and outcome[0].status == "rendered" else None
                await self.sampler.done(layout, controls, raw.final_url, sample)
            return outcome
        assert decision.sample is not None and decision.sample_url is not None
        self.counts["inherited"] += 1
        return inherit(decision.sample, decision.sample_url, static, raw.final_url), None

    async def _counted(self, rendering: Awaitable[tuple[RenderedPage, RenderError | None]]
                       ) -> tuple[RenderedPage, RenderError | None]:
        rendered, error = await rendering
        self.counts[rendered.status] += 1
        return rendered, error

    async def _render(self, raw: RawPage, static: PageFacts, template: str | None) -> tuple[RenderedPage, RenderError | None]:
        url = raw.final_url
        seen: dict[str, PageFacts] = {}  # the viewports' DOMs are most often the same: extract it once
        notes: list[str] = []  # a rendered DOM cut at the DOM caps says so

        async def extract(html: str) -> PageFacts:
            facts = seen.get(html)
            if facts is None:
                if self.extract_text is None:
                    extracted = self.extractor.extract_text(html, url)
                    facts, cut = extracted.facts, extracted.notes
                else:
                    try:
                        facts, cut = await self.extract_text(html, url)
                    except ProcessingTimeout as exc:
                        raise RenderFailure("processing-timeout", f"the rendered DOM: {exc}") from None
                    except WorkerCrashed as exc:
                        raise RenderFailure("processing", f"the rendered DOM: {exc}") from None
                seen[html] = facts
                notes.extend(f"rendered DOM: {note}" for note in cut if f"rendered DOM: {note}" not in notes)
            return facts

        try:
            captures = await self.session.render(raw.response, extract)
        except RenderFailure as failure:
            return (RenderedPage("static-only", template=template, reason=f"{failure.kind}: {failure.message}"),
                    RenderError(raw.url, failure.kind, failure.message))
        rendered = assemble(captures, static, template)
        if notes:
            rendered = replace(rendered, notes=tuple(dict.fromkeys((*notes, *rendered.notes)))[:20])
        return rendered, None


def assemble(captures: list[ViewportCapture], static: PageFacts, template: str | None) -> RenderedPage:
    """One RenderedPage from the viewports' captures: the first viewport's DOM is the rendered
    facts (buttons only another viewport has are added), `visible` = visible in any viewport."""
    primary = captures[0].facts
    keys_per_view = [button_keys(c.facts.share_buttons) for c in captures]
    known = set(keys_per_view[0])
    extra: list[ShareButton] = []
    for capture, keys in zip(captures[1:], keys_per_view[1:], strict=True):
        for button, key in zip(capture.facts.share_buttons, keys, strict=True):
            if key not in known:
                known.add(key)
                extra.append(button)
    visible = visibility_by_key([c.view for c in captures], keys_per_view)
    buttons = with_visibility((*primary.share_buttons, *extra), visible)
    facts = replace(primary, share_buttons=buttons)
    views = []
    for capture in captures:
        in_html = set(pair_buttons(static.share_buttons, capture.facts.share_buttons))
        views.append(replace(capture.view, buttons=tuple(replace(v, in_static_html=i in in_html)
                                                         for i, v in enumerate(capture.view.buttons))))
    errors = tuple(dict.fromkeys(e for c in captures for e in c.script_errors))
    notes = tuple(dict.fromkeys(n for c in captures for n in c.notes))
    return RenderedPage("rendered", facts=facts, viewports=tuple(views), changes=script_changes(static, facts),
                        template=template, script_errors=errors[:20], notes=notes[:20])


def inherit(sample: RenderedPage, sample_url: str, static: PageFacts, url: str) -> RenderedPage:
    """This page's rendered facts, carried over from a sample of its template and controls.

    The page's own share buttons (from its HTML) take the sample's measurements; buttons the
    sample's scripts drew, or pointed at the sample's own address, are taken from the sample, with
    share URLs that named the sample's address moved to this page's. Title and canonical stay this page's own.
    """
    assert sample.facts is not None
    own = dict(zip(button_keys(static.share_buttons, portable=True), static.share_buttons, strict=True))
    buttons: list[ShareButton] = []
    for button, key in zip(sample.facts.share_buttons, button_keys(sample.facts.share_buttons, portable=True),
                           strict=True):
        mine = own.get(key)
        if mine is None or (button.shares_url == sample_url and mine.shares_url != url):
            # drawn by the sample's scripts, or given its page's URL by them (`u=` + location.href):
            # those scripts do the same here
            buttons.append(_moved(button, sample_url, url))
        else:
            buttons.append(replace(mine, visible=button.visible))
    facts = replace(sample.facts, share_buttons=tuple(buttons), title=static.title, canonical=static.canonical,
                    open_graph=static.open_graph | {k: v for k, v in sample.facts.open_graph.items()
                                                    if k not in static.open_graph},
                    twitter=static.twitter | {k: v for k, v in sample.facts.twitter.items() if k not in static.twitter})
    return RenderedPage("inherited", facts=facts, viewports=sample.viewports,
                        changes=replace(sample.changes, title=None, canonical=None),
                        from_url=sample_url, template=sample.template, sample_changes=sample.changes)


def _moved(button: ShareButton, old: str, new: str) -> ShareButton:
    if button.shares_url != old:
        return button
    return replace(button, shares_url=new, href=button.href.replace(old, new))
