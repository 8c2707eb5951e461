"""The benchmark site's HTTP server: its own process, loopback only, stops when stdin closes.

    python benchmarks/server.py --pages 10000      # prints the port once the site is built

Just enough HTTP/1.1 for a crawler (GET/HEAD, keep-alive, Content-Length, 404) over prebuilt
byte chunks, written with one `writelines` per response: a few microseconds of CPU per page, so
the clients, not the server, set the pace. On exit it prints its request count and CPU time to
stderr, so a benchmark can show that the server was not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sitegen import Site

_NOT_FOUND = (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found")


class _Http(asyncio.Protocol):
    routes: dict[bytes, tuple[bytes, list[bytes]]] = {}
    requests = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            parts = head.split(b" ", 2)
            if len(parts) < 3:
                self.transport.close()
                return
            _Http.requests += 1
            method, target = parts[0], parts[1]
            route = self.routes.get(target.split(b"?", 1)[0].split(b"#", 1)[0])
            if route is None:
                self.transport.write(_NOT_FOUND)
                continue
            ctype, chunks = route
            length = sum(len(c) for c in chunks)
            header = (b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                      + str(length).encode() + b"\r\n\r\n")
            self.transport.writelines([header] if method == b"HEAD" else [header, *chunks])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    if not args.host.startswith("127."):
        parser.error("the benchmark server listens on loopback (127.x) only")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, 0))
    port = sock.getsockname()[1]
    site = Site(args.pages, f"http://{args.host}:{port}")
    _Http.routes = site.routes

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Http, sock=sock, backlog=1024)
        print(port, flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # returns at EOF: the benchmark is done
        server.close()

    asyncio.run(serve())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"server: {_Http.requests} requests, {usage.ru_utime + usage.ru_stime:.2f} s CPU", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
