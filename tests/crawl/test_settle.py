"""The merge's walk along redirect chains the shards split (smo_audit/crawl/settle.py): a pure
function, so called directly; the merged reports are compared with one process's in
tests/cli/test_shard_handover.py."""

from __future__ import annotations

import pytest

from smo_audit.crawl.handover import HandedRedirect
from smo_audit.crawl.settle import chain_end


def _handed(target: str, *answered: str) -> HandedRedirect:
    return HandedRedirect(target, 1, None, tuple((url, 301) for url in answered))


# (the handed-over redirects, URLs the merge already holds, max_redirects, expected (stop, hops, why))
CASES = {
    "one hop to a page": ({"A": _handed("B", "A")}, {"B"}, 10, ("B", 1, "end")),
    "through another shard's redirect": ({"A": _handed("B", "A"), "B": _handed("C", "B")}, {"C"}, 10, ("C", 2, "end")),
    "back to the first URL": ({"A": _handed("B", "A"), "B": _handed("A", "B")}, set(), 10, ("A", 2, "loop")),
    "back to a hop a shard followed": ({"A": _handed("B", "A"), "B": _handed("D", "B"), "D": _handed("B", "D", "A")},
                                       set(), 10, ("A", 3, "loop")),
    "past the limit before the loop closes": ({"A": _handed("B", "A"), "B": _handed("C", "B"), "C": _handed("B", "C")},
                                              set(), 1, ("C", 2, "too-many")),
    "a loop closing on the hop past the limit": ({"A": _handed("B", "A"), "B": _handed("A", "B")}, set(), 1,
                                                 ("A", 2, "loop")),
    "stops where the merge holds the URL": ({"A": _handed("B", "A"), "B": _handed("C", "B")}, {"B"}, 10, ("B", 1, "end")),
    "a redirect handed without its hops": ({"A": _handed("B"), "B": _handed("A")}, set(), 10, ("A", 2, "loop")),
}


@pytest.mark.parametrize("case", CASES)
def test_chain_end(case: str) -> None:
    redirects, held, limit, expected = CASES[case]
    assert chain_end("A", redirects["A"], redirects, held.__contains__, limit) == expected
