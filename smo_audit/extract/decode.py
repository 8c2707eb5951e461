"""Bytes to text the way browsers do it: BOM, then HTTP charset, then `<meta charset>`, then guess.

selectolax parses bytes as UTF-8 unless told otherwise, which garbles Latin-1 and windows-1251
pages, so decoding happens here, once, and never raises: undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG: these labels mean windows-1252 in practice, and a page declaring UTF-16 in a meta tag
# is read as UTF-8 (a meta tag cannot be read in UTF-16 in the first place).
_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
            "ascii": "cp1252", "utf-16": "utf-8", "utf-16le": "utf-8", "utf-16be": "utf-8"}


def _known(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def sniff_charset(body: bytes, http_charset: str | None) -> str:
    """Pick the encoding to decode `body` with, never failing."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    declared = _known(http_charset)
    if declared:
        return declared
    match = _META_CHARSET.search(body[:1024])
    if match:
        label = match.group(1).decode("ascii", "replace").lower()
        meta = _known(_ALIASES.get(label, label))
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
    """Return (text, encoding used). Undecodable bytes become U+FFFD."""
    encoding = sniff_charset(body, http_charset)
    if encoding.startswith("utf-16") and body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        body = body[2:]
    elif encoding == "utf-8" and body.startswith(codecs.BOM_UTF8):
        body = body[3:]
    return body.decode(encoding, "replace"), encoding
