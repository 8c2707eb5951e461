"""Image type and pixel size from the first bytes of a file: pure, no Pillow, never raises.

Social platforms judge a preview image by its real format and dimensions, not by the
Content-Type header or the `og:image:width` the page declares, so rules read them from the
bytes. Only headers are parsed (the fetch keeps the first 256 KiB), which is enough for PNG,
GIF, WebP, BMP and ICO (fixed offsets), JPEG (the SOF segment comes before the pixel data) and
AVIF/HEIF (the `ispe` box sits in the `meta` box at the start). Truncated or corrupt input gives
`None` sizes, not an exception: an audit must never crash on a hostile file.

`imagesize` (installed) is used by the tests as an independent oracle; it is not used here
because it raises on truncated input and does not report the format.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_JPEG_SEGMENTS = 512  # a real JPEG has a few dozen before SOF; a hostile one may loop


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What the bytes say: a media type and, when readable, the pixel size."""

    type: str  # e.g. "image/png"; "" when the format is not recognised
    width: int | None = None
    height: int | None = None

    @property
    def known(self) -> bool:
        return bool(self.type)

    @property
    def has_size(self) -> bool:
        return self.width is not None and self.height is not None


UNKNOWN = ImageInfo("")


def image_info(data: bytes) -> ImageInfo:
    """Sniff `data` (the start of a file). Unknown formats give ImageInfo("")."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _sized("image/gif", data, 6, "<HH")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    if data[4:8] == b"ftyp":
        return _isobmff(data)
    if data[:2] == b"BM":
        return _bmp(data)
    if data[:4] == b"\x00\x00\x01\x00":
        return _ico(data)
    if _looks_like_svg(data):
        return _svg(data)
    return UNKNOWN


def _sized(kind: str, data: bytes, offset: int, fmt: str) -> ImageInfo:
    try:
        width, height = struct.unpack_from(fmt, data, offset)
    except struct.error:
        return ImageInfo(kind)
    return ImageInfo(kind, int(width), int(height))


def _png(data: bytes) -> ImageInfo:
    if data[12:16] != b"IHDR":
        return ImageInfo("image/png")
    return _sized("image/png", data, 16, ">II")


# SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})


def _jpeg(data: bytes) -> ImageInfo:
    at = 2
    for _ in range(MAX_JPEG_SEGMENTS):
        while at < len(data) and data[at] != 0xFF:
            at += 1  # garbage between segments: skip to the next marker
        while at < len(data) and data[at] == 0xFF:
            at += 1  # fill bytes
        if at >= len(data):
            break
        marker = data[at]
        at += 1
        if marker in _STANDALONE:
            continue
        if marker == 0xD9:  # EOI before any frame
            break
        if at + 2 > len(data):
            break
        (length,) = struct.unpack_from(">H", data, at)
        if marker in _SOF:
            if at + 7 > len(data):
                break
            height, width = struct.unpack_from(">HH", data, at + 3)
            return ImageInfo("image/jpeg", int(width), int(height))
        if length < 2:
            break
        at += length
    return ImageInfo("image/jpeg")


def _webp(data: bytes) -> ImageInfo:
    chunk = data[12:16]
    try:
        if chunk == b"VP8 ":
            # Lossy: a key frame starts 10 bytes into the payload with the 3-byte start code.
            if data[23:26] != b"\x9d\x01\x2a":
                return ImageInfo("image/webp")
            width, height = struct.unpack_from("<HH", data, 26)
            return ImageInfo("image/webp", width & 0x3FFF, height & 0x3FFF)
        if chunk == b"VP8L":
            if data[20:21] != b"\x2f":
                return ImageInfo("image/webp")
            (bits,) = struct.unpack_from("<I", data, 21)
            return ImageInfo("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        if chunk == b"VP8X":
            if len(data) < 30:
                return ImageInfo("image/webp")
            width = int.from_bytes(data[24:27], "little") + 1
            height = int.from_bytes(data[27:30], "little") + 1
            return ImageInfo("image/webp", width, height)
    except struct.error:
        pass
    return ImageInfo("image/webp")


_ISO_BRANDS = {
    b"avif": "image/avif", b"avis": "image/avif",
    b"heic": "image/heic", b"heix": "image/heic", b"mif1": "image/heif", b"msf1": "image/heif",
}


def _isobmff(data: bytes) -> ImageInfo:
    brand = _ISO_BRANDS.get(data[8:12])
    if brand is None:
        compatible = data[16 : 8 + int.from_bytes(data[:4], "big")] if len(data) >= 16 else b""
        for at in range(0, len(compatible) - 3, 4):
            brand = _ISO_BRANDS.get(compatible[at : at + 4])
            if brand:
                break
    if brand is None:
        return UNKNOWN  # an MP4 video or another ISO-BMFF file, not an image
    at = data.find(b"ispe")
    if at < 0 or at + 16 > len(data):
        return ImageInfo(brand)
    width, height = struct.unpack_from(">II", data, at + 8)  # after 4 bytes of version/flags
    return ImageInfo(brand, int(width), int(height))


def _bmp(data: bytes) -> ImageInfo:
    if len(data) < 26:
        return ImageInfo("image/bmp")
    (header_size,) = struct.unpack_from("<I", data, 14)
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        return _sized("image/bmp", data, 18, "<HH")
    width, height = struct.unpack_from("<ii", data, 18)
    return ImageInfo("image/bmp", abs(width), abs(height))


def _ico(data: bytes) -> ImageInfo:
    if len(data) < 8:
        return ImageInfo("image/x-icon")
    width, height = data[6] or 256, data[7] or 256
    return ImageInfo("image/x-icon", width, height)


SVG_SNIFF_BYTES = 4096  # the root element must start this early (browsers sniff the first 512)
_XML_SPACE = b" \t\r\n"


def _svg_root(data: bytes) -> int:
    """Offset of the `<svg` root tag after an optional prolog, or -1. Linear: each step moves
    forward with bytes.find, never backtracks (the regex it replaces went exponential on forty
    empty comments and an `x`)."""
    head = data[:SVG_SNIFF_BYTES]
    at = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while at < len(head) and head[at] in _XML_SPACE:
            at += 1
        if head.startswith(b"<!--", at):
            end = head.find(b"-->", at + 4)
            if end < 0:
                return -1
            at = end + 3
        elif head.startswith(b"<?", at) or head[at : at + 9].upper() == b"<!DOCTYPE":
            end = head.find(b">", at + 2)
            if end < 0:
                return -1
            at = end + 1
        elif head[at : at + 4].lower() == b"<svg" and head[at + 4 : at + 5] in (b" ", b"\t", b"\r", b"\n", b">", b"/"):
            return at
        else:
            return -1


def _looks_like_svg(data: bytes) -> bool:
    return _svg_root(data) >= 0


def svg_attributes(tag: bytes, limit: int = 64) -> dict[bytes, bytes]:
    """The attributes of one start tag (`<svg ...>` without the brackets), lower-case names.

    A small left-to-right tokenizer, linear in the tag's length; at most `limit` attributes."""
    attrs: dict[bytes, bytes] = {}
    at, size = 0, len(tag)
    while at < size and len(attrs) < limit:
        while at < size and tag[at] in b" \t\r\n/":
            at += 1
        start = at
        while at < size and tag[at] not in b" \t\r\n/=>":
            at += 1
        name = tag[start:at].lower()
        while at < size and tag[at] in _XML_SPACE:
            at += 1
        value = b""
        if at < size and tag[at] == 0x3D:  # "="
            at += 1
            while at < size and tag[at] in _XML_SPACE:
                at += 1
            if at < size and tag[at] in b"\"'":
                quote = tag[at]
                end = tag.find(bytes((quote,)), at + 1)
                end = size if end < 0 else end
                value = tag[at + 1 : end]
                at = end + 1
            else:
                start = at
                while at < size and tag[at] not in b" \t\r\n>":
                    at += 1
                value = tag[start:at]
        if not name:
            at += 1
            continue
        attrs.setdefault(name, value)
    return attrs


def _svg_length(value: bytes | None) -> int | None:
    """"1200", "1200px", " 630.5 " -> pixels; percentages, ems and junk -> None."""
    if value is None:
        return None
    text = value.strip()
    if text.lower().endswith(b"px"):
        text = text[:-2].strip()
    if not text or len(text) > 16 or text.count(b".") > 1 or not text.replace(b".", b"").isdigit():
        return None
    if text.startswith(b".") or text.endswith(b"."):
        return None
    return round(float(text))


def _svg(data: bytes) -> ImageInfo:
    """SVG has no pixel size; report width/height in px when the root element states them."""
    start = _svg_root(data)
    if start < 0:
        return ImageInfo("image/svg+xml")
    head = data[:SVG_SNIFF_BYTES]
    end = head.find(b">", start)
    if end < 0:
        return ImageInfo("image/svg+xml")
    attrs = svg_attributes(head[start + 4 : end])
    width, height = _svg_length(attrs.get(b"width")), _svg_length(attrs.get(b"height"))
    if width is None or height is None:
        return ImageInfo("image/svg+xml")
    return ImageInfo("image/svg+xml", width, height)
