"""What rendered mode learns about a page, as plain frozen data (no Playwright types).

Static facts (what the server sent, what social crawlers read) and rendered facts (what a browser
shows a first-time visitor) are kept side by side; neither replaces the other:

* `RenderedPage` is what the page rules see as `ctx.rendered`: the rendered DOM's PageFacts, one
  `ViewportView` per viewport (per-button geometry and visibility) and what scripts changed.
* The report page's `render` object (report/model.py `PageRender`) is its serialised form.

Every page of a rendered-mode audit says how it got its rendered facts: `rendered` (this page was
opened in Chromium), `inherited` (another page of the same template with the same controls was,
named in `from_url`) or `static-only` (not rendered: `reason` says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from smo_audit.extract.facts import PageFacts

RenderStatus = Literal["rendered", "inherited", "static-only"]

TAP_MINIMUM = 24.0  # WCAG 2.2 SC 2.5.8 Target Size (Minimum), CSS px
TAP_RECOMMENDED = 44.0  # WCAG 2.2 SC 2.5.5 (AAA), Apple HIG and Material: touch targets on phones


@dataclass(frozen=True, slots=True)
class Box:
    """A bounding box in CSS px, in page coordinates (the page scrolled to the top)."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class ButtonView:
    """One share button as one viewport shows it.

    `visible` means a person could see it by scrolling: in the DOM, displayed, larger than 1x1,
    not `visibility:hidden`, opacity above 0, not clipped away by an ancestor and not off the
    page. Being covered by another element (`covered_by`) is reported apart from it.
    """

    network: str
    selector: str
    href: str
    found: bool  # the element is in this viewport's rendered DOM
    visible: bool
    displayed: bool = False
    visibility: str = ""
    opacity: float = 0.0
    clipped: bool = False
    offscreen: bool = False
    fixed: bool = False  # position fixed or sticky (itself or an ancestor): follows the reader
    in_first_viewport: bool = False  # visible without scrolling
    box: Box | None = None
    covered_by: str | None = None  # the element found at the button's centre, when not the button
    accessible_name: str = ""
    hidden_because: tuple[str, ...] = ()  # "display:none", "visibility:hidden", "zero size", ...
    in_static_html: bool = True  # False: the button exists only after JavaScript ran
    tap_ok: bool = False  # at least TAP_MINIMUM x TAP_MINIMUM CSS px
    tap_recommended: bool = False  # at least TAP_RECOMMENDED x TAP_RECOMMENDED CSS px


@dataclass(frozen=True, slots=True)
class ViewportView:
    """One viewport's view of the rendered page."""

    name: str  # desktop | mobile
    width: int
    height: int
    buttons: tuple[ButtonView, ...] = ()
    page_height: int = 0
    screenshot: str | None = None  # path of the JPEG, when --screenshots was given
    scale: float = 1.0  # initial zoom: below 1 on a phone page laid out wider than the screen


@dataclass(frozen=True, slots=True)
class ScriptChanges:
    """What JavaScript changed between the HTML the server sent and the rendered DOM."""

    tags_added: tuple[str, ...] = ()  # og:/twitter: keys present only after rendering
    tags_changed: tuple[str, ...] = ()  # og:/twitter: keys whose content a script changed
    title: tuple[str | None, str | None] | None = None  # (raw, rendered) when a script changed it
    canonical: tuple[str | None, str | None] | None = None
    share_buttons_added: tuple[str, ...] = ()  # "network (provider): selector"
    share_widgets_added: tuple[str, ...] = ()  # provider ids whose buttons appeared by script
    sign_in_added: tuple[str, ...] = ()  # "provider (mechanism): evidence"

    @property
    def any(self) -> bool:
        return bool(self.tags_added or self.tags_changed or self.title or self.canonical
                    or self.share_buttons_added or self.share_widgets_added or self.sign_in_added)


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """The rendered facts of one page, as page rules see them (`ctx.rendered`).

    For an inherited page, `facts` are the sample page's rendered facts with this page's static
    buttons matched onto them, and `viewports` are the sample's views of the matching buttons.
    """

    status: RenderStatus
    facts: PageFacts | None = None
    viewports: tuple[ViewportView, ...] = ()
    changes: ScriptChanges = field(default_factory=ScriptChanges)
    from_url: str | None = None  # inherited: the page that was rendered for this one
    template: str | None = None  # the template signature (see templates.py)
    reason: str | None = None  # static-only: why
    script_errors: tuple[str, ...] = ()  # uncaught exceptions the page's scripts threw
    notes: tuple[str, ...] = ()  # load event late, navigation blocked, popups closed, ...
    static: PageFacts | None = None  # the page's own static facts (rules see effective facts)
    # inherited: what the sample's scripts changed on the sample itself (its title, canonical), for
    # the rules that compare a page with itself; `changes` keeps only what carries to this page
    sample_changes: ScriptChanges | None = None

    def viewport(self, name: str) -> ViewportView | None:
        return next((v for v in self.viewports if v.name == name), None)


@dataclass(frozen=True, slots=True)
class RenderSummary:
    """The report's top-level `render` object: how rendered mode ran."""

    mode: Literal["auto", "all"]
    viewports: list[str]
    rendered: int = 0
    inherited: int = 0
    static_only: int = 0
    templates: int = 0
    browser_restarts: int = 0
