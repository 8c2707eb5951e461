"""Numbers in sentences: counts with the right plural, and the score exactly as it was judged.

Every writer and the CLI summary use these, so the terminal, stderr and the JSON never disagree
about a number (a "55/100 below 55" from rounding 54.7 for display cannot happen).
"""

from __future__ import annotations

from collections.abc import Sequence


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 page', '2 pages', '0 pages'; irregular plurals are passed in ('1 entry', '2 entries')."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def score_text(score: float | None) -> str:
    """The site score as stored and compared with --fail-under (one decimal), '54.7', '100', 'n/a'."""
    if score is None:
        return "n/a"
    return f"{score:.1f}".removesuffix(".0")


def verdict_text(passed: bool | None, fail_under: float | None, reasons: Sequence[str] = ()) -> str:
    """'' without a threshold (nothing was judged), else 'passed (threshold 50)' / 'below the
    threshold 50', followed by the other thresholds that failed (fail-on, max-failures, baseline)."""
    if passed is None:
        return ""
    if passed:
        return f"passed (threshold {fail_under:g})" if fail_under is not None else "passed the thresholds"
    others = [r for r in reasons if not below_fail_under(r)]
    parts = []
    if (fail_under is not None and len(others) < len(reasons)) or (fail_under is not None and not reasons):
        parts.append(f"below the threshold {fail_under:g}")
    if others:
        more = f" (and {len(others) - 3} more)" if len(others) > 3 else ""
        parts.append("failed: " + "; ".join(others[:3]) + more)
    return ", ".join(parts) or "failed the thresholds"


def below_fail_under(reason: str) -> bool:
    """Whether a failed_thresholds sentence is the fail-under one (shown as 'below the threshold')."""
    return reason.startswith("score ") and "below fail-under" in reason
