"""smo_audit.imageinfo: format and pixel size from header bytes, checked against real files and
against `imagesize` as an independent implementation."""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import imagesize
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smo_audit.imageinfo import ImageInfo, image_info
from tests.support import images
from tests.support.properties import examples

FIXTURE_IMAGES = Path(__file__).resolve().parents[1] / "fixtures" / "rules" / "link_preview" / "img"


def webp_lossy(width: int, height: int) -> bytes:
    frame = b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 10
    chunk = b"VP8 " + struct.pack("<I", len(frame)) + frame
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 8
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_extended(width: int, height: int) -> bytes:
    payload = b"\x10\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk + webp_lossy(width, height)[12:]


def bmp(width: int, height: int) -> bytes:
    header = struct.pack("<IiiHHIIiiII", 40, width, -height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(header), 0, 0, 14 + len(header)) + header


def jpeg_with_exif_and_fill(width: int, height: int, sof: int = 0xC2) -> bytes:
    """A progressive JPEG whose SOF comes after a large APP1 (EXIF) segment and fill bytes."""
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + 6000) + b"Exif\x00\x00" + b"\x00" * 5994
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" * 65
    sof_segment = bytes([0xFF, sof]) + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00" * 3
    return b"\xff\xd8" + app1 + b"\xff\xff" + dqt + sof_segment + b"\xff\xd9"


def avif(width: int, height: int) -> bytes:
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    ispe = box(b"ispe", b"\0\0\0\0" + struct.pack(">II", width, height))
    return box(b"ftyp", b"avif\0\0\0\0mif1miaf") + box(b"meta", b"\0\0\0\0" + box(b"iprp", box(b"ipco", ispe)))


SAMPLES = [
    ("image/png", images.png(1200, 630), (1200, 630)),
    ("image/gif", images.gif(640, 320), (640, 320)),
    ("image/jpeg", images.jpeg(1080, 1350), (1080, 1350)),
    ("image/jpeg", jpeg_with_exif_and_fill(2048, 1024), (2048, 1024)),
    ("image/webp", webp_lossy(1200, 628), (1200, 628)),
    ("image/webp", webp_lossless(300, 157), (300, 157)),
    ("image/webp", webp_extended(4096, 2048), (4096, 2048)),
    ("image/bmp", bmp(200, 100), (200, 100)),
    ("image/avif", avif(1200, 630), (1200, 630)),
    ("image/svg+xml", images.svg(1200, 630), (1200, 630)),
]


@pytest.mark.parametrize(("kind", "data", "size"), SAMPLES, ids=[f"{k}-{s[0]}x{s[1]}" for k, _, s in SAMPLES])
def test_reads_type_and_size(kind: str, data: bytes, size: tuple[int, int]) -> None:
    assert image_info(data) == ImageInfo(kind, *size)


@pytest.mark.parametrize(
    ("kind", "data", "size"),
    [s for s in SAMPLES if s[0] in ("image/png", "image/gif", "image/jpeg", "image/webp", "image/bmp")],
)
def test_agrees_with_imagesize(kind: str, data: bytes, size: tuple[int, int]) -> None:
    assert imagesize.get(io.BytesIO(data)) == size
    assert (image_info(data).width, image_info(data).height) == size


@pytest.mark.parametrize("path", sorted(FIXTURE_IMAGES.iterdir()), ids=lambda p: p.name)
def test_fixture_images_are_the_size_their_name_says(path: Path) -> None:
    match = re.search(r"(\d+)x(\d+)", path.name)
    info = image_info(path.read_bytes())
    if match is None:  # logo.svg is an SVG; png-named.jpg is a PNG under a .jpg name
        assert info.known, path.name
        return
    assert (info.width, info.height) == (int(match.group(1)), int(match.group(2)))
    if info.type in ("image/png", "image/gif", "image/jpeg"):
        assert imagesize.get(str(path)) == (info.width, info.height)


def test_png_named_jpg_is_recognised_by_its_bytes() -> None:
    assert image_info((FIXTURE_IMAGES / "png-named.jpg").read_bytes()).type == "image/png"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'<?xml version="1.0"?>\n<!-- logo -->\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"/>',
         ImageInfo("image/svg+xml")),
        (b'<svg width="100%" height="50"></svg>', ImageInfo("image/svg+xml")),
        (b'<svg width="120px" height="60.4"></svg>', ImageInfo("image/svg+xml", 120, 60)),
        (b"<!doctype html><html><body><svg></svg></body></html>", ImageInfo("")),
        (b"", ImageInfo("")),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", ImageInfo("")),  # a video, not an image
    ],
)
def test_edge_cases(data: bytes, expected: ImageInfo) -> None:
    assert image_info(data) == expected


@pytest.mark.parametrize(("kind", "data", "size"), SAMPLES, ids=[f"{k}-{s[0]}x{s[1]}" for k, _, s in SAMPLES])
def test_truncated_headers_never_raise_and_never_invent_a_size(kind: str, data: bytes, size: tuple[int, int]) -> None:
    for cut in range(len(data)):
        info = image_info(data[:cut])
        assert info.width is None or (info.width, info.height) == size, (cut, info)


def test_jpeg_without_frame_header_has_no_size() -> None:
    assert image_info(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9") == ImageInfo("image/jpeg")


def test_corrupt_jpeg_segment_lengths_terminate() -> None:
    looping = b"\xff\xd8" + b"\xff\xe0\x00\x00" * 2000
    assert image_info(looping) == ImageInfo("image/jpeg")


@settings(max_examples=examples(300), deadline=None)
@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b"BM",
                        b"\x00\x00\x00\x1cftypavif", b"<svg", b""]), st.binary(max_size=256))
def test_arbitrary_bytes_never_raise(prefix: bytes, tail: bytes) -> None:
    info = image_info(prefix + tail)
    assert isinstance(info, ImageInfo)
    assert info.width is None or info.width >= 0
