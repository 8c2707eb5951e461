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
import subprocess
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


def serve(sock: socket.socket, routes: dict[bytes, tuple[bytes, list[bytes]]]) -> int:
    """Serve `routes` on the bound socket until stdin closes (the benchmark is done): print the
    port first, so the parent knows where to connect, and the server's CPU time last."""
    _Http.routes = routes

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Http, sock=sock, backlog=1024)
        print(sock.getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # returns at EOF: the benchmark is done
        server.close()

    asyncio.run(run())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"server: {_Http.requests} requests, {usage.ru_utime + usage.ru_stime:.2f} s CPU", file=sys.stderr)
    return 0


def loopback_socket(host: str = "127.0.0.1") -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock, sock.getsockname()[1]


def start(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    """Start a server script in its own process; returns it and the site's start URL."""
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        raise SystemExit(f"the benchmark server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line)}/"


def stop(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-sitemap", action="store_true", help="serve no sitemap (robots.txt names none)")
    args = parser.parse_args()
    if not args.host.startswith("127."):
        parser.error("the benchmark server listens on loopback (127.x) only")
    sock, port = loopback_socket(args.host)
    return serve(sock, Site(args.pages, f"http://{args.host}:{port}", sitemap=not args.no_sitemap).routes)

if __name__ == "__main__":
    raise SystemExit(main())
