"""The one way a rule gets anything from the network: fetched once per key, cached, bounded.

Rules ask for an og:image's bytes, a page as facebookexternalhit sees it, or robots.txt; two
rules (or two pages) asking for the same thing share one request, even concurrently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from smo_audit.crawl.failure import FetchFailure
from smo_audit.errors import printable

if TYPE_CHECKING:  # the parent's side only: page workers use these types but never fetch (no httpx there)
    from smo_audit.crawl.fetcher import Fetcher, HopCheck
    from smo_audit.crawl.policy import FetchPolicy

HEAD_BYTES = 256 * 1024  # enough for any image header and for "are the tags early enough" checks
OFF_TARGET = "off-target"  # error_kind of a URL the audit may not fetch (folder targets stay local)


@dataclass(frozen=True, slots=True)
class Resource:
    """A fetched resource as rules see it: status, type, size and the first bytes of the body."""

    url: str
    final_url: str
    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    head: bytes = b""  # the first HEAD_BYTES of the (decoded) body
    size: int | None = None  # full decoded size; None when unknown (error, too large)
    redirects: tuple[str, ...] = ()
    error_kind: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None and self.status is not None and 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class Resources(Protocol):
    """What rules and preview cards fetch through: the cache below, or a parse worker's proxy of it."""

    async def fetch(self, url: str, *, user_agent: str | None = None, max_bytes: int | None = None,
                    keep_body: bool = False) -> Resource: ...


class ResourceCache:
    """Deduplicating cache over the shared Fetcher. Keys: (url, user agent, byte limit)."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        max_entries: int = 4096,
        rewrite: Callable[[str], str] | None = None,
        refuse: Callable[[str], str | None] | None = None,
        policy: FetchPolicy | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._rewrite = rewrite  # folder targets: production URLs are fetched from the local build
        # Folder targets: a reason not to fetch a URL (another host) or None; such a Resource has
        # error_kind OFF_TARGET and rules skip rather than judge what was never requested.
        self._refuse = refuse
        # The audit's fetch policy (robots.txt for the agent sent, folder scope): a refused URL is
        # never requested; its Resource has error_kind OFF_TARGET and the reason in `error`.
        self.policy = policy
        self._entries: dict[tuple[str, str | None, int | None], asyncio.Future[Resource]] = {}
        self._max_entries = max_entries

    async def fetch(
        self,
        url: str,
        *,
        user_agent: str | None = None,
        max_bytes: int | None = None,
        keep_body: bool = False,
    ) -> Resource:
        """Fetch `url` once; later calls with the same key get the same Resource."""
        key = (url, user_agent, max_bytes)
        future = self._entries.get(key)
        if future is None:
            if len(self._entries) >= self._max_entries:
                self._entries.pop(next(iter(self._entries)))
            future = asyncio.get_running_loop().create_future()
            self._entries[key] = future
            try:
                future.set_result(await self._load(url, user_agent, max_bytes, keep_body))
            except BaseException as exc:  # cancelled: let a later caller try again
                self._entries.pop(key, None)
                future.set_exception(exc)
                future.exception()  # mark retrieved
                raise
        return await asyncio.shield(future)

    def _hop_check(self, url: str, target: str, user_agent: str | None) -> HopCheck:
        """The check of every redirect hop: what refuses the first URL refuses a hop to it too
        (an allowed image redirecting into a Disallow'd path is not fetched)."""

        async def check(hop: str) -> None:
            reason = self._refuse(hop) if self._refuse is not None else None
            if reason is None and self.policy is not None:
                reason = await self.policy.hop_refusal(target, hop, user_agent)
            if reason is not None:
                raise FetchFailure(url, OFF_TARGET, f"{url} redirects to {printable(hop[:200])}, {reason}")

        return check

    async def _load(self, url: str, user_agent: str | None, max_bytes: int | None, keep_body: bool) -> Resource:
        target = self._rewrite(url) if self._rewrite is not None else url
        reason = self._refuse(target) if self._refuse is not None else None
        if reason is None and self.policy is not None:
            reason = await self.policy.refusal(target, user_agent)
        if reason is not None:
            return Resource(url, url, None, error_kind=OFF_TARGET, error=reason)
        try:
            response = await self._fetcher.fetch(target, user_agent=user_agent, max_bytes=max_bytes,
                                                 check_hop=self._hop_check(url, target, user_agent))
        except FetchFailure as failure:
            return Resource(url, url, failure.status, error_kind=failure.kind, error=failure.message)
        body = response.body
        return Resource(
            url=url,
            final_url=response.final_url,
            status=response.status,
            headers=dict(response.headers),
            head=body if keep_body else body[:HEAD_BYTES],
            size=len(body),
            redirects=tuple(r.url for r in response.redirects),
        )
