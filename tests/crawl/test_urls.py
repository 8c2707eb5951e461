"""URL normalisation and scope: what the frontier considers "the same page" and "this site"."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smo_audit.crawl.urls import (
    ScopeChecker,
    compile_globs,
    looks_like_asset,
    normalize_url,
    registrable_base,
    remove_dot_segments,
    repeating_path,
    too_long,
    try_normalize,
    url_shape,
)
from tests.support.properties import examples


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Example.COM/", "http://example.com/"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com/a#section", "http://example.com/a"),
        ("http://example.com/a?b=2&a=1", "http://example.com/a?a=1&b=2"),
        # stable: repeated names keep their order, the values can mean a sequence
        ("http://example.com/a?x=2&a=0&x=1", "http://example.com/a?a=0&x=2&x=1"),
        ("http://example.com/a?utm_source=n&utm_medium=e&id=7", "http://example.com/a?id=7"),
        ("http://example.com/a?fbclid=abc&gclid=def", "http://example.com/a"),
        ("http://example.com/a?UTM_Source=n", "http://example.com/a"),
        ("http://example.com/a;jsessionid=0AB12?x=1", "http://example.com/a?x=1"),
        ("http://example.com/a?PHPSESSID=1&q=2", "http://example.com/a?q=2"),
        ("http://example.com/app;JSESSIONID=9F/b", "http://example.com/app/b"),
        # ASP.NET cookieless state segments, anywhere in the path; look-alikes stay
        ("http://example.com/(S(lit3py55t21z5v55vlm25s55))/default.aspx", "http://example.com/default.aspx"),
        ("http://example.com/(X(1)S(abc123))/", "http://example.com/"),
        ("http://example.com/app/(A(a1)F(f2))/p?q=1", "http://example.com/app/p?q=1"),
        ("http://example.com/(S(abc))", "http://example.com/"),
        ("http://example.com/(notes)/p", "http://example.com/(notes)/p"),
        ("http://example.com/(S(a)/p", "http://example.com/(S(a)/p"),
        ("http://example.com/(S(a))x/p", "http://example.com/(S(a))x/p"),
        ("http://example.com/(\u00df(a))/p", "http://example.com/(%C3%9F(a))/p"),
        ("http://example.com/%7euser/%2f", "http://example.com/~user/%2F"),
        ("http://example.com/caf%c3%a9", "http://example.com/caf%C3%A9"),
        ("http://example.com/café", "http://example.com/caf%C3%A9"),
        ("http://example.com/a b?q=a b", "http://example.com/a%20b?q=a%20b"),
        ("http://example.com/100%", "http://example.com/100%25"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/../a", "http://example.com/a"),
        ("http://example.com/a?", "http://example.com/a"),
        ("http://example.com/a?&&q=1&", "http://example.com/a?q=1"),
        ("http://example.com/a?q=a+b", "http://example.com/a?q=a+b"),  # '+' is not a space here
        ("http://bücher.de/", "http://xn--bcher-kva.de/"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


def test_strip_params_is_configurable() -> None:
    assert normalize_url("http://x.org/?utm_source=a&ref=b", ("ref",)) == "http://x.org/?utm_source=a"
    assert normalize_url("http://x.org/?utm_source=a", ()) == "http://x.org/?utm_source=a"
    assert normalize_url("http://x.org/(S(ab1))/p", ()) == "http://x.org/(S(ab1))/p"


@pytest.mark.parametrize(
    "raw", ["mailto:a@b.org", "javascript:void(0)", "ftp://x.org/", "http://x.org:99999/", "http:///path", "//x.org/"]
)
def test_not_crawlable(raw: str) -> None:
    assert try_normalize(raw) is None
    with pytest.raises(ValueError):
        normalize_url(raw)


_segment = st.text(alphabet="abcAB019-._~%/ é?=&+", max_size=12)


@settings(max_examples=examples(300), deadline=None)
@given(host=st.sampled_from(["Example.com", "x.ORG:8080", "a.b.c:80"]), path=_segment, query=_segment)
def test_normalisation_is_idempotent(host: str, path: str, query: str) -> None:
    url = try_normalize(f"http://{host}/{path}?{query}")
    if url is not None:
        assert normalize_url(url) == url


def test_remove_dot_segments() -> None:
    assert remove_dot_segments("/a/b/c/./../../g") == "/a/g"
    assert remove_dot_segments("/a/b/..") == "/a/"
    assert remove_dot_segments("/./") == "/"


def test_scope_host_ignores_scheme_but_not_port() -> None:
    scope = ScopeChecker("host", ("https://example.com/",))
    assert scope("http://example.com/a")
    assert not scope("https://www.example.com/a")
    assert not scope("https://example.com:8080/a")


def test_scope_domain_admits_subdomains_of_start_host_without_www() -> None:
    scope = ScopeChecker("domain", ("https://www.example.com/",))
    assert scope("https://example.com/")
    assert scope("https://blog.example.com/x")
    assert not scope("https://example.org/")
    assert not scope("https://notexample.com/")
    assert registrable_base("blog.example.com") == "blog.example.com"


def test_scope_prefix_is_the_start_directory() -> None:
    scope = ScopeChecker("prefix", ("https://example.com/docs/intro.html",))
    assert scope("https://example.com/docs/")
    assert scope("https://example.com/docs/api/x")
    assert not scope("https://example.com/blog/")
    assert not scope("https://example.com/docs")  # the folder itself without its slash


def test_scope_grows_with_start_redirect() -> None:
    scope = ScopeChecker("host", ("http://example.com/",))
    assert not scope("https://www.example.com/a")
    scope.add_start("https://www.example.com/")
    assert scope("https://www.example.com/a")


def test_globs_match_paths() -> None:
    pattern = compile_globs(("/blog/*", "*.php"))
    assert pattern is not None
    assert pattern.match("/blog/post")
    assert pattern.match("/index.php")
    assert not pattern.match("/about")
    assert compile_globs(()) is None


def test_url_shape_groups_traps() -> None:
    assert url_shape("https://x.org/cal/2024/05?day=3&sid=ab12") == "/cal/#/#?day&sid"
    assert url_shape("https://x.org/cal/2024/06?day=9&sid=zz") == url_shape("https://x.org/cal/2024/05?day=3&sid=ab12")


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/a/a/a/", True), ("/a/b/a/b/a/b", True), ("/x/a/b/c/a/b/c/a/b/c/", True), ("/a/a/", False),
     ("/2024/01/01/post", False), ("/docs/api/v1/", False), ("/" + "/".join(str(i) for i in range(41)), True)],
)
def test_repeating_path(path: str, expected: bool) -> None:
    assert repeating_path(path) is expected


def test_assets_and_length() -> None:
    assert looks_like_asset("/files/report.PDF")
    assert looks_like_asset("/img/logo.png")
    assert not looks_like_asset("/blog/post.html")
    assert not looks_like_asset("/v1.2/")
    assert not looks_like_asset("/.well-known/")
    assert too_long("http://x.org/" + "a" * 2100)
    assert not too_long("http://x.org/a")
