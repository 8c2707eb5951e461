"""Bytes to text the way browsers do it: BOM, then HTTP charset, then `<meta charset>`, then guess.

selectolax parses bytes as UTF-8 unless told otherwise, which garbles Latin-1 and windows-1251
pages, so decoding happens here, once, and never raises: undecodable bytes become U+FFFD.
Only WHATWG encoding labels count (see encodings.py): `charset=utf-7`, `hex`, `base64`, `zlib`
or `idna` is ignored like any unknown label, as browsers ignore it.
"""

from __future__ import annotations

import codecs
import re

from smo_audit.extract.encodings import codec_for_label, decode_with

# Bounded: it runs over the first 1024 bytes only (the HTML prescan's window), and `[^>]{0,512}?`
# cannot scan past the tag it started in.
_META_CHARSET = re.compile(
    rb"""<meta\s[^>]{0,512}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]{1,40})""", re.IGNORECASE
)
PRESCAN_BYTES = 1024
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _meta_codec(label: str) -> str | None:
    """HTML's prescan: a meta tag cannot be read in UTF-16 (read as UTF-8), x-user-defined is 1252."""
    codec = codec_for_label(label)
    if codec in ("utf-16-le", "utf-16-be"):
        return "utf-8"
    if codec == "x-user-defined":
        return "cp1252"
    return codec


def sniff_charset(body: bytes, http_charset: str | None) -> str:
    """Pick the codec to decode `body` with, never failing. Unknown labels are skipped."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    declared = codec_for_label(http_charset)
    if declared:
        return declared
    match = _META_CHARSET.search(body, 0, PRESCAN_BYTES)
    if match:
        meta = _meta_codec(match.group(1).decode("ascii", "replace"))
        if meta:
            return meta
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # Mostly valid UTF-8 with a few broken bytes is still UTF-8; otherwise the web's fallback.
        return "utf-8" if _mostly_utf8(body) else "cp1252"
    return "utf-8"


_NON_ASCII = re.compile("[\u0080-\ufffc\ufffe-\U0010ffff]")


def _mostly_utf8(body: bytes) -> bool:
    """More well-formed multi-byte characters than broken sequences."""
    text = body.decode("utf-8", "replace")
    return len(_NON_ASCII.findall(text)) > text.count("\ufffd")


def decode_html(body: bytes, http_charset: str | None) -> tuple[str, str]:
    """Return (text, codec used). Undecodable bytes become U+FFFD."""
    encoding = sniff_charset(body, http_charset)
    if encoding.startswith("utf-16") and body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        body = body[2:]
    elif encoding == "utf-8" and body.startswith(codecs.BOM_UTF8):
        body = body[3:]
    return decode_with(body, encoding), encoding
