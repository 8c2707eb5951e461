"""The bare loop: the least a crawler can do, as its own process (what the audit is compared with).

    python benchmarks/bare_loop.py http://127.0.0.1:PORT/ --max-pages 10000 --concurrency 8

One httpx.AsyncClient, `concurrency` workers: GET, parse with selectolax (lexbor), collect
`a[href]`, resolve, drop fragment and query, keep same-site URLs not seen before. Prints the number
of HTML pages fetched and parsed. No robots.txt, no sitemap, no rules, no report.
"""

from __future__ import annotations

import argparse
import asyncio
from urllib.parse import urljoin


async def crawl(start: str, max_pages: int, concurrency: int) -> int:
    import httpx
    from selectolax.lexbor import LexborHTMLParser

    base = start.split("://", 1)[0] + "://" + start.split("://", 1)[1].split("/", 1)[0]
    seen = {start}
    queue: asyncio.Queue[str] = asyncio.Queue()
    queue.put_nowait(start)
    pages = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def worker() -> None:
            nonlocal pages
            while True:
                url = await queue.get()
                try:
                    response = await client.get(url)
                    if response.status_code == 200 and "html" in response.headers.get("content-type", ""):
                        pages += 1
                        tree = LexborHTMLParser(response.text)
                        for node in tree.css("a[href]"):
                            link = urljoin(url, node.attributes.get("href") or "").split("#", 1)[0].split("?", 1)[0]
                            if link.startswith(base) and link not in seen and len(seen) < max_pages:
                                seen.add(link)
                                queue.put_nowait(link)
                finally:
                    queue.task_done()

        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        await queue.join()
        for task in workers:
            task.cancel()
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--max-pages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(asyncio.run(crawl(args.url, args.max_pages, args.concurrency)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
