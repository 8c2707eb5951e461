"""Extraction over real HTML strings (a pure function: no server needed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smo_audit.crawl.models import RawPage, RawResponse
from smo_audit.extract import Extractor
from smo_audit.extract.decode import decode_html
from tests.support.properties import examples

URL = "https://example.com/blog/post"


def extract(body: bytes | str, content_type: str = "text/html", url: str = URL):
    data = body.encode() if isinstance(body, str) else body
    return Extractor(classifiers=[]).extract(RawPage(RawResponse(url, url, 200, {"content-type": content_type}, data)))


def test_meta_tags_property_and_name_case_and_repeats() -> None:
    page = extract("""<html><head><meta property="OG:Title" content=" First "><meta name="og:title" content="Second">
    <meta property="og:image" content="/a.png"><meta property="og:image" content="/b.png"></head>
    <body><p>x</p><meta name="twitter:card" content="summary"></body></html>""")
    doc, facts = page.document, page.facts
    assert doc.meta_values("og:title") == ["First", "Second"]
    assert facts.open_graph == {"og:title": "First", "og:image": "/a.png"}
    assert facts.twitter == {"twitter:card": "summary"}
    card = next(m for m in doc.meta if m.key == "twitter:card")
    assert card.in_head is False, "a meta after body content is moved into <body>"
    assert next(m for m in doc.meta if m.key == "og:title").in_head is True


def test_links_canonical_base_and_landmarks() -> None:
    page = extract("""<html><head><base href="https://cdn.example.com/x/"><link rel="Canonical" href="/canon">
    <link rel="alternate" type="application/rss+xml" href="/feed.xml" title="Feed"></head><body>
    <header><a href="about" aria-label="About us"><img src="i.png" alt="i"></a></header>
    <main><div class="share-box"><a href="https://facebook.com/sharer.php?u=1" target="_blank" rel="noopener NOFOLLOW" data-network="facebook">FB</a></div></main>
    <div role="contentinfo"><a href="mailto:hi@example.com">mail</a></div><a>no href</a></body></html>""")
    doc, facts = page.document, page.facts
    assert facts.canonical == "https://cdn.example.com/canon"
    assert [f.url for f in facts.feeds] == ["https://cdn.example.com/feed.xml"]
    about, share, mail, scripted = doc.anchors  # a link without href is kept: a script makes it work
    assert (scripted.href, scripted.url, scripted.text) == ("", None, "no href")
    assert about.url == "https://cdn.example.com/x/about" and about.landmark == "header"
    assert about.has_image and about.img_alt == "i" and about.accessible_name == "About us"
    assert share.landmark == "main" and share.rel == ("noopener", "nofollow") and share.target == "_blank"
    assert share.ancestor_classes[0] == "share-box" and share.data == (("network", "facebook"),)
    assert mail.landmark == "footer" and mail.url == "mailto:hi@example.com"
    assert page.links.links == ("https://cdn.example.com/x/about", "https://facebook.com/sharer.php?u=1")


def test_json_ld_graph_types_same_as_and_errors() -> None:
    page = extract("""<html><head><script type="application/ld+json">{"@graph": [
      {"@type": "Organization", "sameAs": ["https://x.com/acme", 5]}, {"@type": ["WebSite"]},
      {"@type": "BlogPosting", "datePublished": "2026-01-02"}]}</script>
    <script type="application/ld+json">{not json</script></head></html>""")
    assert page.facts.json_ld_types == ("Organization", "WebSite", "BlogPosting")
    assert page.facts.same_as == ("https://x.com/acme",)
    assert page.facts.page_type == "article" and page.facts.published_time == "2026-01-02"
    assert len(page.document.json_ld_errors) == 1


def test_forms_fields_and_password_detection() -> None:
    page = extract("""<body><form id="search"><input name="q"></form>
    <form action="/login" method="POST"><input type="email" name="e"><input type="password" name="p">
    <button type="submit">Sign in</button></form><input type="password" name="orphan"></body>""")
    search, login = page.document.forms
    assert [f.name for f in search.fields] == ["q"] and not search.has_password
    assert login.has_password and login.method == "post" and login.action == "https://example.com/login"
    assert page.facts.has_password_form and page.facts.page_type == "account"
    assert [b.text for b in page.document.buttons] == ["Sign in"]


def test_title_ignores_svg_titles_and_counts_duplicates() -> None:
    page = extract("<html><head><title> A \n title </title><title>B</title></head><body><svg><title>icon</title></svg></body></html>")
    assert page.document.title == "A title" and page.document.title_count == 2


def test_meta_byte_offsets_point_into_the_raw_body() -> None:
    body = b"<html><head>" + b" " * 5000 + b'<meta property="og:title" content="x"></head></html>'
    page = extract(body)
    ((_, offset),) = [o for o in page.document.meta_offsets if o[0] == "og:title"]
    assert body[offset + 1 : offset + 9] == b"og:title" and offset > 5000


def test_decoding_follows_http_charset_then_meta_then_guess() -> None:
    cyrillic = "<html><head><title>Привет</title></head></html>".encode("cp1251")
    assert decode_html(cyrillic, "windows-1251")[0].count("Привет") == 1
    meta = b'<meta charset="windows-1251"><title>' + "Привет".encode("cp1251") + b"</title>"
    text, encoding = decode_html(meta, None)
    assert "Привет" in text and encoding == "cp1251"
    latin = "<p>café</p>".encode("latin-1")
    assert decode_html(latin, None)[0] == "<p>café</p>"
    broken = b"<p>ok \xff\xfe bytes</p>" + "é".encode() * 50
    text, encoding = decode_html(broken, None)
    assert encoding == "utf-8" and "\ufffd" in text and "é" in text
    bom16 = "\ufeff<title>x</title>".encode("utf-16-le")
    assert decode_html(bom16, None)[0] == "<title>x</title>"


def test_hostile_markup_never_raises() -> None:
    page = extract(b"<html><head><meta property=og:title content='\x00\xff'><a href='http://[::1'>x</a>" + b"<div>" * 5000)
    assert page.document.anchors[0].url is None
    assert page.facts.open_graph["og:title"]


def test_controls_keep_their_urls_targets_and_bounded_text() -> None:
    from smo_audit.extract.dom import MAX_TEXT, parse_document

    many = "".join(f"<span>word{i} </span>" for i in range(5000))
    doc = parse_document(
        '<a url="/accounts/facebook/login/" data-x="1" aria-controls="menu" class="c"><span>Facebook</span></a>'
        '<button aria-controls="share-panel" class="share"><img src="s.svg" alt="Share"></button>'
        f'<div role="button" onclick="go()">{many}</div><a href="/x"><span role="button">icon</span></a>',
        "https://example.com/", selector="html, a, button, [role=button], [onclick]",
    )
    link = doc.anchors[0]
    assert (link.href, link.url, link.url_attrs, link.controls) == ("", None, (("url", "/accounts/facebook/login/"),), "menu")
    (button,) = doc.buttons
    assert (button.controls, button.img_alt, button.accessible_name) == ("share-panel", "Share", "Share")
    wrapper, icon = doc.marked
    assert wrapper.text.startswith("word0 word1") and len(wrapper.text) <= MAX_TEXT and not wrapper.in_control
    assert icon.in_control and icon.text == "icon"


def _quoted_keys(body: bytes) -> tuple[tuple[str, int], ...]:
    """The definition, slowly: each og:/twitter: after a quote or "=", up to a quote, space or ">"."""
    found = []
    for at in range(len(body)):
        if body[at:at + 1] in (b'"', b"'", b"=") and body.startswith((b"og:", b"twitter:"), at + 1):
            end = at + 1
            while end < min(at + 64, len(body)) and body[end:end + 1] not in (b'"', b"'", b" ", b">"):
                end += 1
            found.append((body[at + 1: end].decode("ascii", "replace").lower(), at))
    return tuple(found)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from([b'"og:title"', b"'og:image'", b"=og:url ", b'"twitter:card"', b"og:", b"x",
                                 b'"', b"'", b"=", b" ", b">", b"twitter:", b"<meta property=", b'content="og:x"']),
                max_size=40))
def test_meta_byte_offsets_find_every_quoted_key(parts: list[bytes]) -> None:
    from smo_audit.extract.dom import meta_byte_offsets

    body = b"".join(parts)
    expected = _quoted_keys(body)
    assert meta_byte_offsets(body, limit=10_000) == expected
    assert len(meta_byte_offsets(body)) == min(len(expected), 64)


@pytest.mark.parametrize(("head", "path", "page_type"), [
    ('<meta property="og:type" content="article">', "/p", "article"),
    ('<meta property="article:published_time" content="2026-01-02">', "/p", "article"),  # og:type missing
    ('<meta property="article:section" content="Recipes">', "/p", "article"),
    ('<meta property="og:type" content="website"><meta property="article:tag" content="x">', "/p", "other"),
    ('<meta property="og:type" content="product">', "/p", "product"),
    ('<meta property="og:title" content="Home">', "/", "home"),
    ('<meta property="article:modified_time" content="2026-01-02">', "/", "home"),  # a home page's date
    ('<meta property="og:title" content="A page">', "/p", "other"),
])
def test_page_type_from_og_type_json_ld_and_article_tags(head: str, path: str, page_type: str) -> None:
    page = Extractor().extract_text(f"<html><head>{head}</head><body></body></html>", "https://example.com" + path)
    assert page.facts.page_type == page_type


@pytest.mark.parametrize(("markup", "label"), [
    ('<a href="/auth/google">Sign in<br>with Google</a>', "Sign in with Google"),
    ("<button>Sign in<br/>with Apple</button>", "Sign in with Apple"),
    ('<a href="/p"><div class="card"><h3>Cold brew</h3><p>Twelve hours</p></div></a>', "Cold brew Twelve hours"),
    ('<a href="/p"><span>Continue<br>with <b>GitHub</b></span></a>', "Continue with GitHub"),
    # the common labels keep lexbor's text exactly: no break inside, no space added
    ('<a href="/p">  Plain\n   text </a>', "Plain text"),
    ('<a href="/p"><i class="icon"></i>Log<b>in</b></a>', "Login"),
    ("<button><svg><use href='#x'/></svg> Menu</button>", "Menu"),
    ('<a href="/p"></a>', ""),
])
def test_a_break_inside_a_label_separates_words(markup: str, label: str) -> None:
    doc = extract(f"<html><body>{markup}</body></html>").document
    assert [*(a.text for a in doc.anchors), *(b.text for b in doc.buttons)] == [label]
