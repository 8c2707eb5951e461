"""The bare Playwright loop: the least rendering can cost, as its own process.

    python benchmarks/render_bare.py http://127.0.0.1:PORT/ --pages 200 --templates 5 --concurrency 2

The same Chromium as rendered mode (smo_audit.render.chromium: lookup, launch flags, hermetic
profile), `concurrency` workers, each with one reused page per viewport: goto (until `load`), read
og:title, next. No crawl (the URL list comes from render_site.py), no reset between pages, no
settle, no measurements, no rules, no report. Prints the number of page renders done.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from render_site import paths

from smo_audit.render.chromium import LAUNCH_ARGS, find_chromium, hermetic_env
from smo_audit.render.settings import VIEWPORTS


async def run(base: str, pages: int, templates: int, concurrency: int, viewports: list[str]) -> int:
    from playwright.async_api import async_playwright

    urls = [base.rstrip("/") + "/", *(base.rstrip("/") + p for p in paths(pages, templates))]
    jobs: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        jobs.put_nowait(url)
    done = 0
    with tempfile.TemporaryDirectory(prefix="smo-bench-chromium-") as profile:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=find_chromium(), args=list(LAUNCH_ARGS),
                                               env=dict(hermetic_env(Path(profile))), headless=True)

            async def worker() -> None:
                nonlocal done
                views = []
                for name in viewports:
                    vp = VIEWPORTS[name]
                    context = await browser.new_context(viewport={"width": vp.width, "height": vp.height},
                                                        is_mobile=vp.mobile, has_touch=vp.mobile, user_agent=vp.user_agent)
                    views.append(await context.new_page())
                while not jobs.empty():
                    url = jobs.get_nowait()
                    for view in views:
                        await view.goto(url, wait_until="load")
                        await view.evaluate("() => document.querySelector('meta[property=\"og:title\"]')?.content")
                        done += 1
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            await browser.close()
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--templates", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--viewports", default="desktop,mobile")
    args = parser.parse_args()
    print(asyncio.run(run(args.url, args.pages, args.templates, args.concurrency, args.viewports.split(","))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
