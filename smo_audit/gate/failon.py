"""The compact `fail-on` expression: `score<90, category.preview-image<80, severity>=error`.

Conditions are separated by commas (or the word `or`); the build fails when ANY of them holds.
Subjects:

    score                 the site score (0-100)
    category.<id>         a category's score, e.g. category.preview-image<80
    rule.<id>             how many times a rule failed or warned (pages + site), e.g. rule.og-image>0
    severity              the worst severity among failing or warning findings: severity>=error
    errors                crawl errors (pages that could not be fetched), e.g. errors>0
    problems              failing or warning findings in total

A bad expression is a config error (exit 2) that says which part is wrong and what is allowed.
The parser is a few linear regular expressions over one short line of configuration.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Operator = Literal["<", "<=", ">", ">=", "==", "!="]
SEVERITIES = ("info", "warning", "error")  # in increasing order
SUBJECTS = ("score", "category.<id>", "rule.<id>", "severity", "errors", "problems")
_CONDITION = re.compile(r"^\s*([a-z][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)?)\s*(<=|>=|==|!=|<|>)\s*([A-Za-z0-9.]+)\s*$")
_SPLIT = re.compile(r",|\s+or\s+")


class FailOnError(ValueError):
    """A `fail-on` expression that cannot be parsed; the message names the bad part."""


@dataclass(frozen=True, slots=True)
class Condition:
    subject: str  # score | category | rule | severity | errors | problems
    name: str | None  # the category or rule id
    op: Operator
    value: float | str

    def __str__(self) -> str:
        left = f"{self.subject}.{self.name}" if self.name else self.subject
        right = f"{self.value:g}" if isinstance(self.value, float) else self.value
        return f"{left}{self.op}{right}"


def parse_fail_on(text: str) -> tuple[Condition, ...]:
    """Every condition of the expression, in order; raises FailOnError on the first bad part."""
    parts = [part.strip() for part in _SPLIT.split(text)]
    if not any(parts):
        raise FailOnError("the expression is empty; write conditions such as 'score<90, severity>=error'")
    if not all(parts):
        raise FailOnError(f"{text.strip()!r} has an empty condition between commas")
    return tuple(_condition(part) for part in parts)


def _condition(part: str) -> Condition:
    match = _CONDITION.match(part)
    if match is None:
        raise FailOnError(f"cannot read condition {part!r}: write SUBJECT OPERATOR VALUE with a subject among "
                          f"{', '.join(SUBJECTS)} and an operator among <, <=, >, >=, ==, !=")
    left, op, right = match.group(1), match.group(2), match.group(3)
    subject, _, name = left.partition(".")
    operator: Operator = op  # type: ignore[assignment]  # the regex allows only these
    if subject in ("category", "rule"):
        if not name:
            raise FailOnError(f"{part!r}: {subject} needs an id, e.g. {subject}.{'preview-image' if subject == 'category' else 'og-image'}")
        return Condition(subject, name, operator, _number(part, right))
    if name:
        raise FailOnError(f"{part!r}: only category.<id> and rule.<id> take a name after a dot")
    if subject == "severity":
        if right.lower() not in SEVERITIES:
            raise FailOnError(f"{part!r}: severity is compared with {', '.join(SEVERITIES)}")
        return Condition(subject, None, operator, right.lower())
    if subject in ("score", "errors", "problems"):
        return Condition(subject, None, operator, _number(part, right))
    raise FailOnError(f"{part!r}: unknown subject {subject!r}; allowed: {', '.join(SUBJECTS)}")


def _number(part: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise FailOnError(f"{part!r}: {text!r} is not a number") from None
    if not math.isfinite(number):  # nan compares false with everything: the condition could never hold
        raise FailOnError(f"{part!r}: {text!r} is not a finite number")
    return number


def compare(left: float, op: Operator, right: float) -> bool:
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    if op == "==":
        return left == right
    return left != right
