"""Facts extracted from one page: small frozen dataclasses, cheap to build and to keep.

Two levels, so that memory stays flat while a site grows:

* `Document` holds every element fact the page rules may want (all links, scripts, forms, ...).
  It lives only while the page's rules run, then it is dropped with the DOM.
* `PageFacts` is what is kept for the report and the site rules: the contract's `facts` object
  plus the few summaries site rules need. Classifiers (share buttons, profiles, sign-in, ...)
  fill its lists from the Document.

Facts that rendered mode learns later (visibility, geometry) extend these objects; in static mode
they stay None, meaning "unknown", never "false".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class MetaTag:
    """A `<meta>` with a property/name key (lower-cased) and its content, in document order."""

    key: str
    content: str
    attribute: str  # "property" | "name" | "itemprop" | "http-equiv" | "charset"
    in_head: bool


@dataclass(frozen=True, slots=True)
class LinkTag:
    """A `<link>` element: canonical, icons, alternates (feeds, oEmbed), preloads..."""

    rel: tuple[str, ...]
    href: str
    url: str | None  # resolved against the page's base URL; None when unparsable
    type: str | None = None
    title: str | None = None
    sizes: str | None = None
    in_head: bool = True


@dataclass(frozen=True, slots=True)
class Anchor:
    """An `<a>` or `<area>` with everything the classifiers and accessibility rules look at."""

    href: str
    url: str | None  # absolute, fragment kept; None when not a fetchable/parsable URL
    text: str  # visible text, whitespace-collapsed, truncated
    rel: tuple[str, ...] = ()
    target: str | None = None
    aria_label: str | None = None
    title: str | None = None
    element_id: str | None = None
    classes: tuple[str, ...] = ()
    data: tuple[tuple[str, str], ...] = ()  # data-* attributes (name without "data-", value)
    onclick: str | None = None
    has_image: bool = False  # contains <img>/<svg>/<i>: an icon-only link needs an accessible name
    img_alt: str | None = None
    landmark: str | None = None  # header | footer | nav | main | aside | None (body)
    ancestor_classes: tuple[str, ...] = ()  # classes and #ids of enclosing elements, nearest first
    index: int = 0  # position among the page's anchors, for stable selectors
    controls: str | None = None  # aria-controls: the id of the element this link opens (a menu)
    # non-standard attributes holding a URL (<a url="/auth/facebook/login/">): scripts navigate there
    url_attrs: tuple[tuple[str, str], ...] = ()

    @property
    def accessible_name(self) -> str:
        """What a screen reader announces: aria-label, then text, then img alt, then title."""
        for candidate in (self.aria_label, self.text, self.img_alt, self.title):
            if candidate and candidate.strip():
                return candidate.strip()
        return ""

    @property
    def selector(self) -> str:
        """A short CSS selector that points a person at this link."""
        if self.element_id:
            return f"a#{self.element_id}"
        if self.classes:
            return "a." + ".".join(self.classes[:3])
        return f"a:nth-of-type({self.index + 1})" if not self.href else f'a[href="{self.href[:120]}"]'

    def data_attr(self, name: str) -> str | None:
        for key, value in self.data:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Script:
    src: str | None
    url: str | None
    type: str | None
    inline: str = ""  # inline source, truncated to a bound (see dom.MAX_INLINE_SCRIPT)
    element_id: str | None = None
    data: tuple[tuple[str, str], ...] = ()  # data-* attributes (<script type="IN/Share" data-url="...">)


@dataclass(frozen=True, slots=True)
class FormField:
    name: str | None
    type: str
    autocomplete: str | None = None


@dataclass(frozen=True, slots=True)
class Form:
    action: str | None
    method: str
    fields: tuple[FormField, ...] = ()
    element_id: str | None = None
    classes: tuple[str, ...] = ()

    @property
    def has_password(self) -> bool:
        return any(f.type == "password" for f in self.fields)


@dataclass(frozen=True, slots=True)
class Button:
    """A `<button>` (or input type=button/submit/image): share and sign-in buttons that are not links."""

    text: str
    aria_label: str | None = None
    title: str | None = None
    element_id: str | None = None
    classes: tuple[str, ...] = ()
    data: tuple[tuple[str, str], ...] = ()
    onclick: str | None = None
    has_image: bool = False
    landmark: str | None = None
    ancestor_classes: tuple[str, ...] = ()  # classes and #ids of enclosing elements, nearest first
    controls: str | None = None  # aria-controls: the id of the element this button opens (a menu)
    img_alt: str | None = None
    input_type: str | None = None  # None for a <button>; an <input>'s type (button, submit, image)

    @property
    def tag(self) -> str:
        """The element's tag: its selector (share.py) names it, so rendered mode finds an <input> too."""
        return "button" if self.input_type is None else "input"

    @property
    def accessible_name(self) -> str:
        for candidate in (self.aria_label, self.text, self.img_alt, self.title):
            if candidate and candidate.strip():
                return candidate.strip()
        return ""


@dataclass(frozen=True, slots=True)
class Image:
    src: str
    url: str | None
    alt: str | None
    width: str | None = None
    height: str | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    src: str
    url: str | None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class MarkedElement:
    """An element matching one of the catalogue's DOM signatures (`.a2a_kit`, `#disqus_thread`, ...).

    Collected in the same pass as everything else, so widget detection never re-walks the DOM.
    """

    tag: str
    element_id: str | None
    classes: tuple[str, ...]
    attrs: tuple[tuple[str, str], ...]  # all attributes, values truncated
    text: str = ""  # the first MAX_TEXT characters of its text (a bounded walk, see dom._bounded_text)
    landmark: str | None = None
    ancestor_classes: tuple[str, ...] = ()  # classes and #ids of enclosing elements, nearest first
    img_alt: str | None = None  # alt of the first <img> inside (a logo button's name)
    in_control: bool = False  # inside an <a> or <button> (an icon or label of that control, not one itself)

    def attr(self, name: str) -> str | None:
        for key, value in self.attrs:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Document:
    """Every element fact of one page. Transient: dropped once the page rules have run."""

    url: str
    base_url: str
    lang: str | None
    title: str | None
    title_count: int
    meta: tuple[MetaTag, ...]
    link_tags: tuple[LinkTag, ...]
    anchors: tuple[Anchor, ...]
    scripts: tuple[Script, ...]
    forms: tuple[Form, ...]
    buttons: tuple[Button, ...]
    images: tuple[Image, ...]
    frames: tuple[Frame, ...]
    marked: tuple[MarkedElement, ...]
    json_ld: tuple[Any, ...]  # parsed JSON values, in order
    json_ld_errors: tuple[str, ...]
    html_bytes: int
    meta_offsets: tuple[tuple[str, int], ...] = ()  # (og:/twitter: key, byte offset in the raw body)

    def meta_values(self, key: str) -> list[str]:
        key = key.lower()
        return [m.content for m in self.meta if m.key == key]

    def first_meta(self, key: str) -> str | None:
        key = key.lower()
        for m in self.meta:
            if m.key == key:
                return m.content
        return None


# ---- facts kept per page (the JSON contract's `facts`) -------------------------------------


@dataclass(frozen=True, slots=True)
class ShareButton:
    network: str
    href: str
    shares_url: str | None  # the page URL this button would share, decoded
    label: str = ""
    selector: str = ""
    visible: bool | None = None  # None in static mode: unknown
    # link | self-link | widget (a library's element) | sdk (a network's own button) |
    # web-share-api | script (a share control wired up by a script static mode cannot read)
    mechanism: str = "link"
    text: str | None = None  # a quote carried in the share text (click-to-tweet)
    target: str | None = None
    rel: tuple[str, ...] = ()
    # "<code>: <sentence>" noticed at detection: unencoded-url, template, not-absolute, no-url,
    # no-url-script, dead-service
    problems: tuple[str, ...] = ()
    source: str = ""  # the catalogue entry that matched: endpoint id, provider id, "self-link", ...
    url_source: str = ""  # where shares_url came from: "param:u", "text:body", "attr:data-href", "page"
    provider: str | None = None  # the widget provider whose script owns this button, if any
    popup: bool = False  # an onclick/window.open or the provider's script opens it in a popup


@dataclass(frozen=True, slots=True)
class ShareWidget:
    provider: str
    evidence: str
    dead: bool = False  # the provider's service is shut down: the widget shows nothing
    kind: str = "toolbar"  # toolbar | official | library | api
    dead_reason: str | None = None
    # the provider's script draws the buttons and none are in the HTML: in static mode they are
    # unknown, not absent (rendered mode sees them)
    js_only: bool = False
    has_script: bool | None = None
    has_container: bool | None = None
    networks: tuple[str, ...] = ()  # networks named in the static markup (data-services, ...)


@dataclass(frozen=True, slots=True)
class ProfileLink:
    network: str
    url: str
    handle: str
    rel_me: bool = False
    location: str = "body"  # header | footer | nav | body | head (<link rel="me">)
    label: str = ""  # accessible name of the link
    target: str | None = None
    rel: tuple[str, ...] = ()
    dead: bool = False  # the network is shut down (plus.google.com): see dead_services.toml
    selector: str = ""


@dataclass(frozen=True, slots=True)
class SignIn:
    provider: str
    mechanism: str  # sdk | oauth-link | hosted-ui | button-text | control (see rules/catalogue/sign_in.toml)
    evidence: str
    url: str | None = None
    label: str | None = None  # accessible name of the button/link; None when no element (a script)
    visible: bool | None = None
    via: str | None = None  # hosted UI or broker (auth0, firebase, clerk, ...); "site" = the site's own /auth/<provider> route
    selector: str | None = None
    dead: bool = False  # the provider is shut down (Google+): the button cannot sign anyone in


@dataclass(frozen=True, slots=True)
class SocialWidget:
    """Follow widgets, embeds and comment systems: `kind` is follow | embed | comments | video."""

    provider: str
    kind: str
    evidence: str
    has_script: bool | None = None  # None: this widget needs no script (an iframe, a native form)
    has_container: bool | None = None  # None: this widget needs no container (giscus renders in place)
    widget: str = ""  # catalogue id: facebook-page, disqus, native-comments, ...
    url: str | None = None  # the profile or post the widget shows (data-href, href, ...)
    dead: bool = False  # a retired widget (Google+ badge): renders nothing
    closed: bool = False  # comments shown as closed
    visible: bool | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    url: str
    type: str  # rss | atom | json
    title: str | None = None


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What is kept of a page after its DOM is dropped; serialised as the report's `facts`."""

    title: str | None = None
    canonical: str | None = None
    lang: str | None = None
    description: str | None = None
    open_graph: dict[str, str] = field(default_factory=dict)  # property -> first value
    twitter: dict[str, str] = field(default_factory=dict)
    share_buttons: tuple[ShareButton, ...] = ()
    share_widgets: tuple[ShareWidget, ...] = ()
    profile_links: tuple[ProfileLink, ...] = ()
    sign_in: tuple[SignIn, ...] = ()
    social_widgets: tuple[SocialWidget, ...] = ()
    feeds: tuple[Feed, ...] = ()
    json_ld_types: tuple[str, ...] = ()
    same_as: tuple[str, ...] = ()  # JSON-LD Organization/Person sameAs URLs
    has_password_form: bool = False
    is_account_page: bool = False
    page_type: str = "other"  # home | article | product | account | listing | other
    published_time: str | None = None
    modified_time: str | None = None
    # Login/sign-up pages this page links to (same site, maybe another host such as
    # auth.example.com): handed to the crawler as PageLinks.extra. Not serialised in the report.
    account_links: tuple[str, ...] = ()
