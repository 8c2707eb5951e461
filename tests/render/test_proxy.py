"""The rendered mode's policy proxy (smo_audit/render/proxy.py) on real loopback sockets.

The protocol cases speak raw bytes to the proxy (a browser would not send most of them, a page
script trying to smuggle a request past the policy might) in front of a deliberately lenient
upstream server: it reads every request on a connection, whatever `Connection` says, and records
every byte, so a request the proxy let through unchecked shows up in its record. The last case
drives real Chromium through the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from smo_audit.render import proxy as proxy_module
from smo_audit.render.chromium import LAUNCH_ARGS, find_chromium, hermetic_env
from smo_audit.render.proxy import Admitted, PolicyProxy
from tests.support.scripted_server import Reply, ScriptedServer, html

Handler = Callable[["Upstream", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Upstream:
    """A raw origin server on 127.0.0.1: every byte it receives is kept in `received`, and
    `closed` is set when the proxy closes a connection to it."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received = bytearray()
        self.connections = 0
        self.closed = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(self, reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def read(self, reader: asyncio.StreamReader) -> bytes:
        """Some bytes from the proxy, recorded; b"" (and `closed`) at the end."""
        data = await reader.read(65536)
        self.received += data
        if not data:
            self.closed.set()
        return data

    async def requests(self) -> list[bytes]:
        """Request heads in what was received (a lenient server would answer every one)."""
        return [m.group(0) for m in re.finditer(rb"[A-Z]+ \S+ HTTP/1\.1\r\n", bytes(self.received))]


async def lenient(up: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer `ok` to every request head seen, keep the connection open until the proxy closes it."""
    answered = 0
    while await up.read(reader):
        heads = bytes(up.received).count(b"\r\n\r\n")
        while answered < heads:
            writer.write(OK)
            answered += 1
        await writer.drain()


async def silent(up: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read, never answer: a server (or tunnel) that has gone quiet."""
    while await up.read(reader):
        pass


async def hang_up(up: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the request head, close without a response."""
    await reader.readuntil(b"\r\n\r\n")


async def upgrade_echo(up: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Switch protocols, then echo every byte back."""
    head = await reader.readuntil(b"\r\n\r\n")
    up.received += head
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    while data := await up.read(reader):
        writer.write(b"echo:" + data)
        await writer.drain()


@contextlib.asynccontextmanager
async def upstream(handler: Handler) -> AsyncIterator[Upstream]:
    up = Upstream(handler)
    up.server = await asyncio.start_server(up._serve, "127.0.0.1", 0)
    up.port = int(up.server.sockets[0].getsockname()[1])
    try:
        yield up
    finally:
        up.server.close()


def policy(port: int, asked: list[tuple[str, bool]]) -> Callable[[str, bool], Awaitable[Admitted | str]]:
    """The test's fetch policy: anything under /private is refused, the rest goes to 127.0.0.1:port."""

    async def admit(url: str, tunnel: bool) -> Admitted | str:
        asked.append((url, tunnel))
        if "/private" in url:
            return "robots.txt disallows it"
        return Admitted(("127.0.0.1",), port)

    return admit


@contextlib.asynccontextmanager
async def proxy_for(up: Upstream, asked: list[tuple[str, bool]] | None = None) -> AsyncIterator[PolicyProxy]:
    proxy = await PolicyProxy.start(policy(up.port, [] if asked is None else asked))
    try:
        yield proxy
    finally:
        await proxy.close()


async def exchange(proxy: PolicyProxy, data: bytes, *, bound: float = 10.0) -> bytes:
    """Send `data` on one connection to the proxy, return everything it answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(-1), bound)
    finally:
        writer.close()


def get(up: Upstream, path: str, extra: str = "") -> bytes:
    return f"GET http://127.0.0.1:{up.port}{path} HTTP/1.1\r\nHost: 127.0.0.1:{up.port}\r\n{extra}\r\n".encode()


# -- one request per connection: nothing after the admitted request reaches the server ----------

SMUGGLED = "GET /private/secret HTTP/1.1\r\nHost: x\r\n\r\n"


def _post(up: Upstream, framing: str, body: str) -> bytes:
    return (f"POST http://127.0.0.1:{up.port}/public HTTP/1.1\r\nHost: 127.0.0.1:{up.port}\r\n"
            f"{framing}\r\n{body}").encode()


async def test_a_pipelined_second_request_is_never_forwarded() -> None:
    async with upstream(lenient) as up, proxy_for(up) as proxy:
        second = f"GET http://127.0.0.1:{up.port}/private/secret HTTP/1.1\r\nHost: 127.0.0.1:{up.port}\r\n\r\n"
        answer = await exchange(proxy, get(up, "/public") + second.encode())
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"ok"), answer
        assert b"/public" in up.received, "the admitted request did not arrive: the case proves nothing"
        assert b"/private" not in up.received, bytes(up.received)
        assert len(await up.requests()) == 1


async def test_bytes_after_a_content_length_body_are_not_forwarded() -> None:
    async with upstream(lenient) as up, proxy_for(up) as proxy:
        answer = await exchange(proxy, _post(up, "Content-Length: 5\r\n", "hello" + SMUGGLED))
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
        assert bytes(up.received).endswith(b"\r\n\r\nhello"), bytes(up.received)
        assert b"/private" not in up.received


async def test_a_chunked_body_is_forwarded_to_its_last_chunk_and_no_further() -> None:
    async with upstream(lenient) as up, proxy_for(up) as proxy:
        body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n" + SMUGGLED
        answer = await exchange(proxy, _post(up, "Transfer-Encoding: chunked\r\n", body))
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
        received = bytes(up.received)
        assert b"Transfer-Encoding: chunked\r\n" in received
        assert received.endswith(b"\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), received
        assert b"/private" not in received


@pytest.mark.parametrize("framing", [
    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",  # both: which one ends the body?
    "Transfer-Encoding: gzip, chunked\r\n",
    "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
    "Content-Length: 5\r\nContent-Length: 40\r\n",
    "Content-Length: 5, 5\r\n",
    "Content-Length: -5\r\n",
    "Content-Length: +5\r\n",
    "Content-Length : 5\r\n",  # a name some servers trim, others do not
    "X-Note: a\nContent-Length: 40\r\n",  # a bare LF some servers take for a line end
    "X-Note: a\r\n folded\r\n",
])
async def test_ambiguous_framing_is_refused_and_nothing_is_forwarded(framing: str) -> None:
    async with upstream(lenient) as up, proxy_for(up) as proxy:
        answer = await exchange(proxy, _post(up, framing, "hello" + SMUGGLED))
        assert answer.startswith(b"HTTP/1.1 400 "), answer
        assert up.connections == 0 and not up.received


async def test_a_bad_chunk_size_ends_the_request_with_400_and_nothing_smuggled() -> None:
    async with upstream(lenient) as up, proxy_for(up) as proxy:
        answer = await exchange(proxy, _post(up, "Transfer-Encoding: chunked\r\n", "5 \r\nhello\r\n0\r\n\r\n" + SMUGGLED))
        assert answer.startswith(b"HTTP/1.1 400 "), answer
        assert b"/private" not in up.received


# -- what the server is told --------------------------------------------------------------------

async def test_a_url_without_a_path_keeps_its_query() -> None:
    async with upstream(lenient) as up, proxy_for(up) as proxy:
        await exchange(proxy, get(up, "?x=1"))
        assert bytes(up.received).startswith(b"GET /?x=1 HTTP/1.1\r\n"), bytes(up.received)


async def test_the_host_header_is_the_admitted_one() -> None:
    asked: list[tuple[str, bool]] = []
    async with upstream(lenient) as up, proxy_for(up, asked) as proxy:
        await exchange(proxy, f"GET http://127.0.0.1:{up.port}/public HTTP/1.1\r\nHost: private.example\r\n"
                              "host: other.example\r\n\r\n".encode())
        received = bytes(up.received).decode("latin-1")
        assert asked == [(f"http://127.0.0.1:{up.port}/public", False)]
        assert re.findall(r"(?im)^host:[^\r]*", received) == [f"Host: 127.0.0.1:{up.port}"], received


def responder(response: bytes) -> Handler:
    """A server that sends `response` to the first request head and then keeps the connection
    open, whatever `Connection: close` says: the proxy must find the response's end itself."""

    async def handler(up: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up.received += await reader.readuntil(b"\r\n\r\n")
        writer.write(response)
        await writer.drain()
        while await up.read(reader):
            pass

    return handler


async def test_a_chunked_response_is_relayed_to_its_last_chunk() -> None:
    response = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nKeep-Alive: 5\r\n\r\n"
                b"4;x=y\r\nabcd\r\n3\r\nefg\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1 200 OK\r\n\r\nextra")
    async with upstream(responder(response)) as up, proxy_for(up) as proxy:
        answer = await exchange(proxy, get(up, "/public"))
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[1:] == [b"Transfer-Encoding: chunked", b"Connection: close"], head
        assert body == b"4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"


async def test_a_content_length_response_is_relayed_whole_and_no_further() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%sextra" % (len(payload), payload)
    async with upstream(responder(response)) as up, proxy_for(up) as proxy:
        answer = await exchange(proxy, get(up, "/public"))
        head, _, body = answer.partition(b"\r\n\r\n")
        assert body == payload and head.endswith(b"\r\nConnection: close")
        await asyncio.wait_for(up.closed.wait(), 5)


async def test_a_head_response_has_no_body() -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    async with upstream(responder(response)) as up, proxy_for(up) as proxy:
        request = f"HEAD http://127.0.0.1:{up.port}/public HTTP/1.1\r\n\r\n".encode()
        answer = await exchange(proxy, request)
        assert answer == b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"


# -- failures: a status line, never an empty reply, never a slot held ----------------------------

async def test_a_silent_response_is_closed_after_the_idle_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proxy_module, "IDLE_TIMEOUT", 0.5, raising=False)
    async with upstream(silent) as up, proxy_for(up) as proxy:
        answer = await exchange(proxy, get(up, "/public"), bound=10)
        assert answer.startswith(b"HTTP/1.1 504 "), answer
        await asyncio.wait_for(up.closed.wait(), 5)  # and the server's side is closed too


async def test_a_silent_tunnel_is_closed_after_the_idle_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proxy_module, "IDLE_TIMEOUT", 0.5, raising=False)
    async with upstream(silent) as up, proxy_for(up) as proxy:
        answer = await exchange(proxy, f"CONNECT 127.0.0.1:{up.port} HTTP/1.1\r\n\r\nhello".encode(), bound=10)
        assert answer == b"HTTP/1.1 200 Connection established\r\n\r\n"
        await asyncio.wait_for(up.closed.wait(), 5)
        assert up.received == b"hello"


async def test_a_busy_tunnel_outlives_the_idle_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # the control: bytes moving one way only keep the tunnel open past IDLE_TIMEOUT
    monkeypatch.setattr(proxy_module, "IDLE_TIMEOUT", 0.5, raising=False)
    async with upstream(upgrade_echo) as up, proxy_for(up) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(f"CONNECT 127.0.0.1:{up.port} HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n".encode())
        await reader.readuntil(b"\r\n\r\n")  # established
        await reader.readuntil(b"\r\n\r\n")  # the echo server's 101
        for n in range(6):
            writer.write(b"%d" % n)
            await asyncio.sleep(0.2)
        echoed = b""
        while len(echoed) < len(b"echo:5"):
            echoed = await asyncio.wait_for(reader.read(100), 5)
            if echoed.endswith(b"echo:5"):
                break
        assert echoed.endswith(b"echo:5") and not up.closed.is_set()
        writer.close()


async def test_an_admit_that_raises_is_a_502_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    async def admit(url: str, tunnel: bool) -> Admitted | str:
        raise RuntimeError("policy bug")

    proxy = await PolicyProxy.start(admit)
    try:
        with caplog.at_level(logging.DEBUG, logger="smo_audit.render.proxy"):
            answer = await exchange(proxy, b"GET http://127.0.0.1:9/x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n")
            tunnel = await exchange(proxy, b"CONNECT 127.0.0.1:443 HTTP/1.1\r\n\r\n")
    finally:
        await proxy.close()
    assert answer.startswith(b"HTTP/1.1 502 ") and tunnel.startswith(b"HTTP/1.1 502 ")
    assert b"policy bug" not in answer + tunnel and b"Traceback" not in answer + tunnel
    assert any(r.levelno == logging.DEBUG and r.exc_info for r in caplog.records), caplog.records


async def test_an_upstream_that_closes_before_its_response_head_is_a_502() -> None:
    async with upstream(hang_up) as up, proxy_for(up) as proxy:
        answer = await exchange(proxy, get(up, "/public"))
        assert answer.startswith(b"HTTP/1.1 502 "), answer
        assert up.connections == 1


async def test_a_refused_request_connects_nowhere() -> None:
    async with upstream(lenient) as up, proxy_for(up) as proxy:
        answer = await exchange(proxy, get(up, "/private/x"))
        assert answer.startswith(b"HTTP/1.1 403 ") and up.connections == 0


async def test_an_upgrade_keeps_both_ways_open_after_101() -> None:
    async with upstream(upgrade_echo) as up, proxy_for(up) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(get(up, "/socket", "Upgrade: websocket\r\nConnection: Upgrade\r\n"))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101 ")
        writer.write(b"frame")
        assert await asyncio.wait_for(reader.readexactly(10), 5) == b"echo:frame"
        writer.close()
        assert up.received.startswith(b"GET /socket HTTP/1.1\r\n") and b"Connection: Upgrade" in up.received


# -- real Chromium through the proxy -------------------------------------------------------------

PAGE = """<!doctype html><title>proxied</title><script>
async function status(url, init) {
  try { const r = await fetch(url, init); return r.status + ':' + (await r.text()); }
  catch (e) { return 'failed'; }
}
window.results = Promise.all([
  status('/echo', {method: 'POST', body: 'x'.repeat(100000)}),
  status('/private/secret'),
  status('/silent'),
  status('/boom'),
  new Promise((done) => {
    const ws = new WebSocket('ws://' + location.host + '/socket');
    ws.onopen = ws.onerror = ws.onclose = () => done('ws');
  }),
]);
</script>"""


def _echo_length(request: object) -> Reply:
    return Reply(200, {"content-type": "text/plain"}, "posted")


async def test_chromium_through_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page's POST arrives whole; a refused path gets 403 and never reaches the server; a silent
    response ends with 504 after the idle timeout; a failing policy is a 502, not a dead request."""
    monkeypatch.setattr(proxy_module, "IDLE_TIMEOUT", 1.0, raising=False)
    server = ScriptedServer({"/": html(PAGE), "/echo": _echo_length, "/private/secret": html("secret"),
                             "/silent": Reply(200, {}, "late", delay=30), "/boom": html("never")}).start()
    asked: list[tuple[str, bool]] = []

    async def admit(url: str, tunnel: bool) -> Admitted | str:
        asked.append((url, tunnel))
        if url.endswith("/boom"):
            raise RuntimeError("policy bug")
        return await policy(server.port, [])(url, tunnel)

    proxy = await PolicyProxy.start(admit)
    echo = server.url("/echo")
    try:
        with tempfile.TemporaryDirectory(prefix="smo-test-chromium-") as profile:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=find_chromium(), args=list(LAUNCH_ARGS),
                                                   env=dict(hermetic_env(Path(profile))), headless=True)
                try:
                    context = await browser.new_context(proxy={"server": proxy.server})
                    page = await context.new_page()
                    await page.goto(server.url("/"), timeout=20_000)
                    results = await asyncio.wait_for(page.evaluate("window.results"), 20)
                finally:
                    await browser.close()
    finally:
        await proxy.close()
        server.stop()
    assert results[0] == "200:posted", results
    posted = server.requests_for("/echo")
    assert len(posted) == 1 and posted[0].headers.get("content-length") == "100000"
    assert results[1].startswith("403:refused by smo-audit's fetch policy"), results
    assert server.hits("/private/secret") == 0
    assert results[2].startswith("504:"), results
    assert results[3].startswith("502:"), results
    assert (echo, False) in asked
    # Chromium tunnels a plain ws: through CONNECT too: the proxy sees its host and port only
    assert (echo.replace("http://", "https://").replace("/echo", "/"), True) in asked, asked
