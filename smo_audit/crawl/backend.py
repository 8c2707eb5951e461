"""The private-address rule at the connect step: httpcore's network backend for the fetcher.

Every connection of every request and redirect hop is made here: the host is resolved once,
every address is checked against the audit's AddressPolicy (addresses.py), and the connection
goes to a checked address. Kept apart from addresses.py, which is plain data and functions, so
that code needing the policy alone (the rendered mode's settings, the page workers) does not
import httpcore.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore

from smo_audit.crawl.addresses import AddressPolicy, AddressRefused, check_addresses, resolve


class PolicyBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, checks every address, then connects to a
    checked address (never resolving twice). Wraps httpcore's own backend for the rest."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        if inner is None:
            from httpcore._backends.auto import AutoBackend

            inner = AutoBackend()
        self.policy = policy
        self._inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port)
        check_addresses(self.policy, host, addresses)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout=timeout,
                                                     local_address=local_address, socket_options=socket_options)
            except OSError as exc:
                last = exc
            except Exception as exc:  # httpcore.ConnectError / ConnectTimeout: try the next address
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise AddressRefused(path, "a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
