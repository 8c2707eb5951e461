"""The fetcher's network backend (crawl/backend.py) over real loopback TCP: its streams tell
httpcore whether an idle keep-alive connection is still usable, so a live one is reused and one
the server closed in silence is replaced instead of failing the next request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from smo_audit.crawl.addresses import AddressPolicy
from smo_audit.crawl.fetcher import Fetcher, FetchLimits

LIMITS = FetchLimits(connect_timeout=2.0, read_timeout=2.0, total_timeout=5.0)
BODY = b"<p>ok</p>"


@contextmanager
def keep_alive_server(*, hang_up_after_each: bool) -> Iterator[tuple[int, list[int]]]:
    """A raw HTTP/1.1 server on 127.0.0.1 answering every request with a keep-alive response
    (no `Connection: close`); with `hang_up_after_each` it then closes the connection without a
    word, as servers do when their keep-alive timeout runs out. Yields (port, client ports seen)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # the accept loop checks `done` (and its lifetime) this often
    port = listener.getsockname()[1]
    clients: list[int] = []
    done = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5.0)
            data = b""
            while not done.is_set():
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                data += chunk
                while b"\r\n\r\n" in data:
                    _, data = data.split(b"\r\n\r\n", 1)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(BODY), BODY))
                    if hang_up_after_each:
                        return

    def accept() -> None:
        deadline = time.monotonic() + 30  # stops by itself
        while not done.is_set() and time.monotonic() < deadline:
            try:
                conn, address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            clients.append(address[1])
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield port, clients
    finally:
        done.set()
        listener.close()
        thread.join(5)


async def _fetch_twice(port: int) -> list[bytes]:
    async with Fetcher(limits=LIMITS, address_policy=AddressPolicy(allow_private=True)) as fetcher:
        bodies = []
        for _ in range(2):
            bodies.append((await fetcher.fetch(f"http://127.0.0.1:{port}/")).body)
            await _settle()
        return bodies


async def _settle() -> None:
    """Give the server's hang-up time to reach our socket before the next request."""
    import asyncio

    await asyncio.sleep(0.2)


async def test_a_live_idle_connection_is_reused() -> None:
    with keep_alive_server(hang_up_after_each=False) as (port, clients):
        assert await _fetch_twice(port) == [BODY, BODY]
    assert len(clients) == 1  # not readable while idle: the pool kept and reused it


async def test_a_connection_the_server_closed_is_replaced_not_reused() -> None:
    with keep_alive_server(hang_up_after_each=True) as (port, clients):
        assert await _fetch_twice(port) == [BODY, BODY]
    assert len(clients) == 2  # the hang-up made it readable (EOF): a new connection, no failure
