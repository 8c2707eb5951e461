"""What the DOM cap costs on every page: dom_cut beside the parse it protects.

    .venv/bin/python benchmarks/dom_cut_benchmark.py

Per page of the benchmark site (sitegen.py article pages, 30-60 KB): the CPU time of `dom_cut`
and of lexbor's parse of the same text (min over repeats, process time, so a busy machine inflates
it less), and the same for pages twice that size, where the whole scan runs. Then hostile pages that once slipped past the cap: their size, where dom_cut cut them and
what the parse of the cut text costs.
"""

from __future__ import annotations

import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selectolax.lexbor import LexborHTMLParser

from benchmarks.sitegen import Site
from smo_audit.extract.limits import dom_cut

HOSTILE = {
    "<div><!--</div>--> x40000": "<div><!--</div>-->" * 40_000,
    '<div title="</div>"> x40000': '<div title="</div>">' * 40_000,
    "<span><div></span></div> x40000": "<span><div></span></div>" * 40_000,
    "<div><table><td></div></table> x30000": "<div><table><td></div></table>" * 30_000,
    "<div> x80000": "<div>" * 80_000,
}


def per_page(function: object, pages: list[str], repeat: int = 15) -> float:
    best = min(timeit.repeat(lambda: [function(p) for p in pages], number=5, repeat=repeat,  # type: ignore[operator]
                             timer=time.process_time))
    return best / (5 * len(pages))


def main() -> None:
    site = Site(200, "http://127.0.0.1:1")
    pages = [b"".join(site.routes[f"/p/{i}.html".encode()][1]).decode() for i in range(20)]
    size = sum(map(len, pages)) / len(pages) / 1024
    print(f"{len(pages)} pages, mean {size:.1f} KB")
    print(f"dom_cut     {per_page(dom_cut, pages) * 1e6:7.0f} us/page")
    print(f"lexbor parse{per_page(LexborHTMLParser, pages) * 1e6:7.0f} us/page")
    doubled = [p + p for p in pages]  # past the start-tag count that ends most pages' scan early
    print(f"pages doubled ({2 * size:.0f} KB, the whole scan runs):")
    print(f"dom_cut     {per_page(dom_cut, doubled) * 1e6:7.0f} us/page")
    print(f"lexbor parse{per_page(LexborHTMLParser, doubled) * 1e6:7.0f} us/page")
    for name, text in HOSTILE.items():
        started = time.process_time()
        cut = dom_cut(text)
        scanned = time.process_time() - started
        kept = text if cut.at is None else text[:cut.at]
        started = time.process_time()
        LexborHTMLParser(kept)
        parsed = time.process_time() - started
        print(f"{name:40} {len(text) / 1024:6.0f} KB  cut at {cut.at}  scan {scanned * 1e3:5.1f} ms  "
              f"parse {parsed * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
