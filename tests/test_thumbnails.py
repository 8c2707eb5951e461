"""Small preview images travel in the report as data: URIs, so the HTML report can show the real
picture in its preview cards; anything else (large, SVG, partial, unknown bytes) never does."""

from __future__ import annotations

import base64

import pytest

from smo_audit.preview import THUMBNAIL_MAX_BYTES, ImageFetch, Thumbnails, thumbnail_uri
from tests.support.images import gif, png, svg

PNG = png(40, 21)


@pytest.mark.parametrize(
    ("media_type", "data", "size", "expected"),
    [
        ("image/png", PNG, len(PNG), "data:image/png;base64,"),
        ("image/gif", gif(4, 4), len(gif(4, 4)), "data:image/gif;base64,"),
        ("image/svg+xml", svg(10, 10), len(svg(10, 10)), None),  # a document, not a picture
        ("", b"<html>not an image</html>", 25, None),  # the bytes say nothing: no thumbnail
        ("image/png", PNG, None, None),  # the body was not read to the end
        ("image/png", PNG[:20], len(PNG), None),  # only the head is known
        ("image/png", PNG + b"\0" * THUMBNAIL_MAX_BYTES, len(PNG) + THUMBNAIL_MAX_BYTES, None),  # too large
    ],
    ids=["png", "gif", "svg", "unknown-bytes", "size-unknown", "partial", "too-large"],
)
def test_thumbnail_uri(media_type: str, data: bytes, size: int | None, expected: str | None) -> None:
    uri = thumbnail_uri(media_type, data, size)
    if expected is None:
        assert uri is None
    else:
        assert uri is not None and uri.startswith(expected)
        assert base64.b64decode(uri.split(",", 1)[1]) == data


def _fetch(url: str, payload: bytes) -> ImageFetch:
    return ImageFetch(url=url, thumbnail=thumbnail_uri("image/png", payload, len(payload)))


def test_thumbnails_are_bounded_in_count_and_size_and_keep_the_first() -> None:
    store = Thumbnails(max_images=2, max_chars=10_000)
    store.add("https://a.test/1.png", _fetch("1", PNG))
    store.add("https://a.test/1.png", _fetch("1", png(2, 2)))  # the same URL again: first kept
    store.add("https://a.test/2.png", ImageFetch(url="2"))  # nothing small to show
    store.add("https://a.test/3.png", _fetch("3", png(3, 3)))
    store.add("https://a.test/4.png", _fetch("4", png(4, 4)))  # over the count
    kept = store.as_dict()
    assert list(kept) == ["https://a.test/1.png", "https://a.test/3.png"]
    assert base64.b64decode(kept["https://a.test/1.png"].split(",", 1)[1]) == PNG

    tight = Thumbnails(max_images=10, max_chars=len(_fetch("x", PNG).thumbnail or "") + 10)
    tight.add("https://a.test/1.png", _fetch("1", PNG))
    tight.add("https://a.test/2.png", _fetch("2", PNG))  # over the byte budget
    assert list(tight.as_dict()) == ["https://a.test/1.png"]
