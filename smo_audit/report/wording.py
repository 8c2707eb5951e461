"""Numbers in sentences: counts with the right plural, and the score exactly as it was judged.

Every writer and the CLI summary use these, so the terminal, stderr and the JSON never disagree
about a number (a "55/100 below 55" from rounding 54.7 for display cannot happen).
"""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 page', '2 pages', '0 pages'; irregular plurals are passed in ('1 entry', '2 entries')."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def score_text(score: float | None) -> str:
    """The site score as stored and compared with --fail-under (one decimal), '54.7', '100', 'n/a'."""
    if score is None:
        return "n/a"
    return f"{score:.1f}".removesuffix(".0")


def verdict_text(passed: bool | None, fail_under: float | None) -> str:
    """'' without a threshold (nothing was judged), else 'passed (>= 50)' / 'below the threshold 50'."""
    if passed is None or fail_under is None:
        return ""
    if passed:
        return f"passed (threshold {fail_under:g})"
    return f"below the threshold {fail_under:g}"
