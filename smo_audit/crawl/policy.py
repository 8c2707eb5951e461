"""The fetch policy of one audit, in one place: what may be requested, by whom, and where to.

Every request the tool makes goes through the shared Fetcher (size, time and redirect caps, and
the private-address rule in its network backend, see addresses.py) and, for anything that is not
a crawled page, through `ResourceCache`, which asks `FetchPolicy.refusal` first:

- folder targets never reach another host (the audit of a build stays on loopback);
- robots.txt is obeyed for the user agent actually sent: an og:image, feed, icon or script under
  a `Disallow` for smo-audit is not fetched, and no request goes out as facebookexternalhit or
  Twitterbot for a URL robots.txt disallows to exactly that agent (`--ignore-robots` lifts it);
- robots.txt files themselves are always readable;
- every redirect hop of a resource fetch passes the same checks as the first URL
  (`hop_refusal`, called by the Fetcher before it requests the hop).

Requests made outside the Fetcher (the rendered mode's sub-requests in Chromium) go through the
policy proxy (render/proxy.py), which asks `refusal` and applies `addresses` after resolution.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from smo_audit.crawl.addresses import (
    AddressPolicy,
    PrivateMode,
    decide_policy,
    public_networks_from_env,
    resolve,
)

RobotsRefusal = Callable[[str, str], Awaitable[str | None]]  # (url, user agent) -> reason or None


async def address_policy_for(target_url: str | None, mode: PrivateMode, *, folder: bool) -> AddressPolicy:
    """Decide the private-address rule for an audit from its target (resolved once, here)."""
    public = public_networks_from_env()
    addresses = []
    if target_url is not None and not folder:
        host = urlsplit(target_url).hostname or ""
        try:
            addresses = await resolve(host) if host else []
        except (OSError, UnicodeError, ValueError):
            addresses = []  # unresolvable: the start URL's own fetch reports it
    return decide_policy(mode, addresses, folder=folder, public_networks=public)


@dataclass
class FetchPolicy:
    """The non-transport half of the policy (the transport half lives in the Fetcher)."""

    addresses: AddressPolicy
    default_agent: str
    off_target: Callable[[str], str | None] | None = None  # folder targets: other hosts refused
    robots: RobotsRefusal | None = None  # set once the crawler (which owns robots.txt) exists

    async def refusal(self, url: str, user_agent: str | None = None) -> str | None:
        """Why `url` may not be requested with `user_agent`, or None (robots.txt itself: never)."""
        if self.off_target is not None:
            reason = self.off_target(url)
            if reason is not None:
                return reason
        if self.robots is not None and not _is_robots_txt(url):
            return await self.robots(url, user_agent or self.default_agent)
        return None

    async def hop_refusal(self, first_url: str, hop: str, user_agent: str | None = None) -> str | None:
        """Why the redirect target `hop` of a fetch of `first_url` may not be requested, or None:
        the same checks as the first URL, so an allowed URL cannot redirect into a Disallow'd path
        or off a folder target. A robots.txt fetch follows its redirects to any path (RFC 9309)."""
        if _is_robots_txt(first_url):
            return self.off_target(hop) if self.off_target is not None else None
        return await self.refusal(hop, user_agent)

def _is_robots_txt(url: str) -> bool:
    try:
        return urlsplit(url).path == "/robots.txt"
    except ValueError:
        return False
