"""Reading a whole number out of untrusted text (headers, attributes, tags, URLs).

`str.isdigit()` is also true for '²' and other Unicode digits that `int()` refuses, and `int()`
refuses strings of more than 4,300 digits: a check with isdigit() before int() turns a few
bytes of a hostile page or header into an exception that drops the page. HTTP and HTML mean
ASCII digits by a number, so that is what is read here.
"""

from __future__ import annotations

MAX_DIGITS = 18  # more than any size, port or delay means; well within int()'s limit


def whole_number(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """The value of `text` when it is 1 to `max_digits` ASCII digits, else None."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def is_whole_number(text: str, max_digits: int = MAX_DIGITS) -> bool:
    """True when `text` is 1 to `max_digits` ASCII digits."""
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()
