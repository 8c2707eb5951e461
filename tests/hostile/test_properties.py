"""Property-based tests over what a hostile site controls: URLs, charsets, markup, share links,
profile links. Each property must hold for any input hypothesis can think of.

The example count comes from the hypothesis profile (tests/conftest.py): bounded in `make test`,
about ten times more with SMO_AUDIT_HYPOTHESIS=long (see SECURITY.md).
"""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smo_audit.crawl.models import RawPage, RawResponse
from smo_audit.crawl.urls import ScopeChecker, normalize_url, try_normalize
from smo_audit.extract import Extractor
from smo_audit.extract.decode import decode_html
from smo_audit.extract.encodings import CODEC_BY_LABEL
from smo_audit.extract.profiles import classify_url

SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXTRACTOR = Extractor()
WHATWG_CODECS = set(CODEC_BY_LABEL.values())

url_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
hosts = st.sampled_from(["example.com", "Example.COM", "www.example.com", "xn--bcher-kva.example", "127.0.0.1:8080",
                         "[::1]", "a.b.example.com:443", "example.com."])


@SLOW
@given(host=hosts, path=url_text, query=url_text, fragment=url_text)
def test_url_normalisation_never_raises_and_is_idempotent(host: str, path: str, query: str, fragment: str) -> None:
    url = try_normalize(f"https://{host}/{path}?{query}#{fragment}")
    if url is not None:
        assert normalize_url(url) == url
        assert try_normalize(url) == url
        assert "#" not in url


@SLOW
@given(host=hosts, path=url_text, scope=st.sampled_from(["host", "domain", "prefix"]))
def test_scope_is_stable_under_normalisation(host: str, path: str, scope: str) -> None:
    checker = ScopeChecker(scope, ("https://www.example.com/docs/",))
    url = try_normalize(f"https://{host}/{path}")
    if url is not None:
        assert checker(url) == checker(normalize_url(url)) == checker(url)


@SLOW
@given(body=st.binary(max_size=600), label=st.one_of(st.none(), st.text(max_size=20),
                                                      st.sampled_from(["utf-7", "hex", "base64", "zlib", "idna",
                                                                       "rot13", "utf-16", "latin1", " UTF-8 "])))
def test_charset_decoding_never_raises_and_only_uses_whatwg_codecs(body: bytes, label: str | None) -> None:
    text, codec = decode_html(body, label)
    assert isinstance(text, str)
    assert codec in WHATWG_CODECS or codec in ("utf-8", "cp1252", "utf-16-le", "utf-16-be")
    assert codec not in ("utf-7", "hex", "base64", "zlib", "idna", "rot13")


@SLOW
@given(body=st.binary(max_size=400))
def test_meta_charset_utf7_never_decodes_as_utf7(body: bytes) -> None:
    page = b'<meta charset="utf-7"><title>+ADw-script+AD4-</title>' + body
    text, codec = decode_html(page, None)
    assert codec != "utf-7" and "<script>" not in text


FRAGMENTS = st.sampled_from([
    b"<html>", b"<head>", b"<meta property='og:title' content='T'>", b"<meta property=og:image content=/i.png>",
    b"<title>", b"</title>", b"<div>", b"</div>", b"<a href='", b"'>", b"</a>", b"<script type='application/ld+json'>",
    b"</script>", b"{\"@type\":\"Article\",\"sameAs\":[\"https://x.com/acme\"]}", b"[[[[[[", b"]]]", b"<!--", b"-->",
    b"<svg><path/></svg>", b"https://www.facebook.com/sharer/sharer.php?u=", b"<link rel=alternate type=application/rss+xml href=/f>",
    b"<meta charset='hex'>", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00", b"&#0;", b"&amp;", b"<button onclick=\"window.open('",
])


@SLOW
@given(parts=st.lists(st.one_of(FRAGMENTS, st.binary(max_size=30)), max_size=40))
def test_extraction_takes_any_bytes_and_returns_facts(parts: list[bytes]) -> None:
    body = b"".join(parts)
    response = RawResponse("https://example.com/p", "https://example.com/p", 200, {"content-type": "text/html"}, body)
    extracted = EXTRACTOR.extract(RawPage(response))
    facts = extracted.facts
    assert isinstance(facts.title, str | None)
    assert all(isinstance(link, str) for link in extracted.links.links)
    for value in (*facts.open_graph.values(), *facts.twitter.values()):
        assert isinstance(value, str | list)


@SLOW
@given(shared=url_text, encode=st.booleans())
def test_the_share_url_decoder_takes_any_shared_value(shared: str, encode: bool) -> None:
    value = quote(shared, safe="") if encode else shared.replace("'", "").replace("<", "")
    body = (f"<html><head><title>t</title></head><body><a href='https://www.facebook.com/sharer/sharer.php?u={value}'>"
            "Share on Facebook</a></body></html>").encode()
    response = RawResponse("https://example.com/p", "https://example.com/p", 200, {"content-type": "text/html"}, body)
    facts = EXTRACTOR.extract(RawPage(response)).facts
    assert [b.network for b in facts.share_buttons] == ["facebook"]


@SLOW
@given(path=st.text(alphabet="abcxyz019-_~.é ", min_size=1, max_size=20), query=st.text(alphabet="abc=&19", max_size=12))
def test_a_share_link_for_the_page_itself_decodes_to_it(path: str, query: str) -> None:
    page = normalize_url(f"https://example.com/{quote(path)}" + (f"?{query}" if query else ""))
    body = (f"<a href='https://www.facebook.com/sharer/sharer.php?u={quote(page, safe='')}'>Share</a>").encode()
    response = RawResponse(page, page, 200, {"content-type": "text/html"}, body)
    (button,) = EXTRACTOR.extract(RawPage(response)).facts.share_buttons
    assert button.network == "facebook" and button.shares_url is not None
    assert normalize_url(button.shares_url) == page


@SLOW
@given(host=st.sampled_from(["x.com", "twitter.com", "www.facebook.com", "instagram.com", "www.linkedin.com",
                             "example.com", "mastodon.social", "evil.com.x.com.example", "x.com.evil.example"]),
       path=url_text, rel_me=st.booleans())
def test_the_profile_classifier_is_total_and_stable(host: str, path: str, rel_me: bool) -> None:
    url = f"https://{host}/{path}"
    first = classify_url(url, rel_me=rel_me)
    assert classify_url(url, rel_me=rel_me) == first
    if host.endswith(".example"):
        assert first is None or first.network == "mastodon"  # look-alike hosts are not the real network
