"""The classifiers every audit runs, in order. Each reads the catalogue, never the DOM."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smo_audit.extract import Classifier


def default_classifiers() -> list[Classifier]:
    return []
