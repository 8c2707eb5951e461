"""The private-address rule at the connect step: httpcore's network backend for the fetcher.

Every connection of every request and redirect hop is made here: the host is resolved once,
every address is checked against the audit's AddressPolicy (addresses.py), and the connection
goes to a checked address. Kept apart from addresses.py, which is plain data and functions, so
that code needing the policy alone (the rendered mode's settings, the page workers) does not
import httpcore.

Its streams also answer httpcore's "is this idle connection still usable?" question (asked for
every idle connection each time a request is assigned or a response closed, so several times a
request) from the socket they keep, with one poll(2): the anyio stream underneath rebuilt its
attribute table and called getpeername(2) for it every time, about a sixth of a page fetch's CPU.
"""

from __future__ import annotations

import select
import socket
import ssl
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
                return _Stream(await self._inner.connect_tcp(str(address), port, timeout=timeout,
                                                             local_address=local_address,
                                                             socket_options=socket_options))
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


class _Stream(httpcore.AsyncNetworkStream):
    """httpcore's stream, with `is_readable` answered from the socket kept at connect time."""

    def __init__(self, inner: httpcore.AsyncNetworkStream, sock: socket.socket | None = None) -> None:
        self._inner = inner
        self._socket: socket.socket | None = sock if sock is not None else inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        # TLS runs over the same TCP socket: readable bytes there mean the server spoke or closed.
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout), self._socket)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        if info == "socket":
            return self._socket
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket | None) -> bool:
    """Whether a read would not block: data or EOF waiting (httpcore's is_socket_readable). A
    socket without a descriptor counts as readable: the next read returns the end of stream."""
    fileno = -1 if sock is None else sock.fileno()
    if fileno < 0:
        return True
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fileno], [], [], 0)[0])
    poller = select.poll()
    poller.register(fileno, select.POLLIN)
    return bool(poller.poll(0))
