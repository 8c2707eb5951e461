"""The pull-request comment's marker names one target however it is spelled: a job that writes
`./public` one day and `public/` the next updates its comment instead of adding one."""

from __future__ import annotations

import re

import pytest

from smo_audit.gate.github import comment_marker


@pytest.mark.parametrize("spellings", [
    ("public", "./public", "public/", "./public/", "public//"),
    ("https://site.example/", "https://Site.example", "http://site.example/", "https://site.example:443/"),
    ("https://site.example/docs/", "https://site.example/docs"),
])
def test_one_target_has_one_marker(spellings: tuple[str, ...]) -> None:
    assert len({comment_marker(s) for s in spellings}) == 1


def test_different_targets_have_different_markers_of_one_shape() -> None:
    markers = [comment_marker(t) for t in ("public", "docs", "https://site.example/", "https://site.example/docs/",
                                           "https://other.example/", "http://127.0.0.1:4000/", "http://127.0.0.1:4001/",
                                           "https://shop.example/?store=de", "https://shop.example/?store=fr")]
    assert len(set(markers)) == len(markers)
    assert all(re.fullmatch(r"<!-- smo-audit-report [0-9a-f]{16} -->", m) for m in markers)
