"""The handover between shards and the merge (smo_audit/crawl/handover.py): pure functions."""

from __future__ import annotations

import json

import pytest

from smo_audit.crawl import handover as module
from smo_audit.crawl.handover import HandedLink, HandedRedirect, Handover, resume_from


def test_a_sitemap_listing_takes_a_link_back_and_the_cap_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_HANDED", 2)
    handover = Handover()
    for n in range(4):
        handover.hand(HandedLink(f"https://a.test/{n}", 2, "https://a.test/", False))
    assert list(handover.links) == ["https://a.test/0", "https://a.test/1"] and handover.dropped == 2
    handover.listed("https://a.test/0")
    assert list(handover.links) == ["https://a.test/1"]


def test_a_handover_survives_json_and_ignores_what_it_cannot_read() -> None:
    handover = Handover()
    handover.hand(HandedLink("https://a.test/x", 3, None, True))
    handover.fetched_without_page("https://a.test/file")
    handover.redirect("https://a.test/old", HandedRedirect("https://a.test/new", 2, "https://a.test/",
                                                          (("https://a.test/old", 301),)))
    again = Handover.from_json(json.loads(json.dumps(handover.to_json())))
    assert again == handover
    junk = Handover.from_json({"links": [["u"], [1, 2, 3, 4], "x", ["v", -5, None, False]], "dropped": -3,
                               "fetched": [1, "f"], "strip": "sid",
                               "redirects": {"a": 1, "b": "c", "d": ["e", "x", None, []], "g": ["h", 1, None, 5]}})
    assert junk.links == {"v": HandedLink("v", 0, None, False)}  # a negative depth would lift --max-depth
    assert junk.dropped == 0 and junk.fetched == ["f"] and junk.strip == []
    assert junk.redirects["g"] == HandedRedirect("h", 1, None)
    for field_name in ("links", "fetched", "strip"):  # not a list: nothing, and no crash
        assert Handover.from_json({field_name: 7}) == Handover()
    assert junk.redirects["b"] == HandedRedirect("c", 1, None)  # the first version wrote the target only
    assert Handover.from_json(None) == Handover()  # a part written before handovers existed


def test_resume_keeps_the_shallowest_link_to_each_page_no_part_reached() -> None:
    one, two = Handover(), Handover()
    one.hand(HandedLink("https://a.test/p", 4, "https://a.test/deep", False))
    two.hand(HandedLink("https://a.test/p", 2, "https://a.test/", False))
    one.hand(HandedLink("https://a.test/audited", 1, None, False))
    two.hand(HandedLink("https://a.test/error", 1, None, False))
    one.hand(HandedLink("https://a.test/moved", 1, None, False))
    two.hand(HandedLink("https://a.test/pdf", 1, None, False))
    one.fetched_without_page("https://a.test/pdf")
    two.redirect("https://a.test/moved", HandedRedirect("https://a.test/audited/", 1, None))
    one.redirect("https://a.test/old-2", HandedRedirect("https://a.test/new", 3, None))
    one.redirect("https://a.test/old-1", HandedRedirect("https://a.test/new", 2, None))
    one.hand(HandedLink("https://a.test/new", 3, None, False))
    resume = resume_from([one, two], {"https://a.test/audited/": "https://a.test/audited"}, {"https://a.test/error"})
    # /new is linked too: a link and a redirect to it are queued by depth, the first one fetches it
    assert resume.frontier == (HandedLink("https://a.test/p", 2, "https://a.test/", False),
                               HandedLink("https://a.test/new", 3, None, False))
    assert {url: r.target for url, r in resume.redirects.items()} == {
        "https://a.test/moved": "https://a.test/audited/", "https://a.test/old-2": "https://a.test/new",
        "https://a.test/old-1": "https://a.test/new"}
    # A target no part reached is continued once, from the shallowest URL redirecting to it.
    assert resume.continued == (("https://a.test/old-1", HandedRedirect("https://a.test/new", 2, None)),)
    assert {"https://a.test/audited", "https://a.test/audited/", "https://a.test/pdf"} <= resume.fetched
