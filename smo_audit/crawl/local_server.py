"""Serve a static build folder (public/, dist/, _site/) on 127.0.0.1 the way static hosts do.

Why a subprocess and not a thread: the crawler is CPU-bound on our side (HTTP client, HTML
parsing, rules) and a server thread in the same interpreter would compete with it for the GIL,
so every page would wait for both to take turns. Measured with the benchmark's generated site
(2,100 pages, concurrency 8, 2 cores): 840 pages/s from a child process, 500 from a thread. A child process (`python -m smo_audit.crawl.local_server`)
runs on the other core, costs ~60 ms to start, and is just as simple to stop: it exits when its
stdin closes, so it dies with the parent even if the parent is killed.

Serving rules (what Netlify, GitHub Pages, Cloudflare Pages and `hugo server` agree on):

- `/dir/` serves `dir/index.html`; `/dir` (a folder) redirects with 301 to `/dir/`;
- `/about` serves `about.html` when there is no file or folder called `about`;
- a missing file answers 404, with the folder's `404.html` as body when there is one, unless a
  simple line of the folder's `_redirects` (Netlify, Cloudflare Pages) redirects its path;
- no directory listings, no dot-files (except `.well-known/`), nothing outside the folder;
- Content-Type from a fixed table (not /etc/mime.types, which differs between machines) and no
  charset added to HTML: the page's `<meta charset>` decides, as it will on most hosts;
- HTTP/1.1 keep-alive, TCP_NODELAY, bound to 127.0.0.1 only, an ephemeral port by default.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Literal
from urllib.parse import unquote_to_bytes, urlsplit

from smo_audit.crawl.folder import served_path, shown_name
from smo_audit.errors import TargetError
from smo_audit.numbers import whole_number

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

CONTENT_TYPES = {
    ".html": "text/html", ".htm": "text/html", ".xhtml": "application/xhtml+xml",
    ".css": "text/css", ".js": "text/javascript", ".mjs": "text/javascript",
    ".json": "application/json", ".jsonld": "application/ld+json", ".map": "application/json",
    ".webmanifest": "application/manifest+json", ".xml": "application/xml",
    ".rss": "application/rss+xml", ".atom": "application/atom+xml", ".txt": "text/plain",
    ".md": "text/markdown", ".csv": "text/csv", ".gz": "application/gzip",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml", ".ico": "image/x-icon",
    ".bmp": "image/bmp", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
    ".otf": "font/otf", ".pdf": "application/pdf", ".zip": "application/zip",
    ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".wasm": "application/wasm",
}
STARTUP_TIMEOUT = 10.0


def content_type(path: Path | PurePosixPath) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a request path maps to inside the folder."""

    kind: Literal["file", "redirect", "missing"]
    file: Path | None = None  # the file to serve ("file"; the 404 page for "missing" if any)
    location: str | None = None  # "redirect": where to
    status: int = 301  # "redirect": the status to answer


REDIRECT_FILE = "_redirects"  # Netlify and Cloudflare Pages: `from to [status]` a line
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
Redirects = dict[str, tuple[str, int]]  # exact path -> (location, status)


def load_redirects(root: Path) -> Redirects:
    """The simple lines of the build's `_redirects`: an exact path to another path of the site,
    with a redirect status (301 when none is given), as the host answers them.

    Lines this server cannot answer as the host would are left out (the docs say so): splats
    (`/blog/*`), placeholders (`/:year/`), query conditions, rewrites and proxies (200), custom
    404s, forced rules (`301!`) and country or language conditions. So are redirects to a URL
    (`https://...`, or `//host/...`): the file is the build's, as untrusted as its pages, and a
    folder audit reads the folder and nothing else."""
    try:
        text = (root / REDIRECT_FILE).read_text("utf-8", "replace")
    except OSError:
        return {}
    redirects: Redirects = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) not in (2, 3) or not fields[0].startswith("/") or any("*" in f for f in fields):
            continue
        source, location = fields[0], fields[1]
        status = fields[2] if len(fields) == 3 else "301"
        if ":" in source or ":" in location.split("://", 1)[-1]:  # placeholders (/:year/, :splat)
            continue
        code = whole_number(status, 3)
        if code is None or code not in _REDIRECT_STATUSES:
            continue
        if location.startswith("/") and not location.startswith(("//", "/\\")) and "\\" not in location:
            redirects.setdefault(source.rstrip("/") or "/", (location, code))
    return redirects


def resolve_request(root: Path, raw_path: str, redirects: Redirects | None = None) -> Resolution:
    """Map a request path (as sent, percent-encoded, maybe with a query) to a file in `root`.

    `root` must already be resolved (absolute, symlinks followed). Pure function: the server and
    FolderServer.source_path use the same rules, so the report's source_path is the file served.
    `redirects` (`load_redirects`) answer a path no file serves, as the hosts do by default.
    """
    resolution = _resolve_file(root, raw_path)
    if resolution.kind == "missing" and redirects:
        path = raw_path.partition("?")[0].split("#", 1)[0]
        found = redirects.get(path.rstrip("/") or "/")
        if found is not None:
            return Resolution("redirect", location=found[0], status=found[1])
    return resolution


def _resolve_file(root: Path, raw_path: str) -> Resolution:
    """resolve_request's file system half: a file, the 301 of a folder to its slash, or missing."""
    path, _, query = raw_path.partition("?")
    # The percent-encoded bytes are the file system's (a Latin-1 `caf%E9.html` too), as on a host.
    path = os.fsdecode(unquote_to_bytes(path.split("#", 1)[0]))
    if "\0" in path or "\\" in path:
        return _missing(root)
    parts = [p for p in path.split("/") if p and p != "."]
    if any(p == ".." or (p.startswith(".") and p != ".well-known") for p in parts):
        return _missing(root)
    candidate = root.joinpath(*parts)
    if path.endswith("/") or not parts:
        found: Path | None = candidate / "index.html"
    elif candidate.is_file():
        found = candidate
    elif candidate.is_dir():
        if (candidate / "index.html").is_file():
            location = "/" + "/".join(parts) + "/" + (f"?{query}" if query else "")
            return Resolution("redirect", location=location)
        return _missing(root)
    else:
        found = candidate.with_name(candidate.name + ".html")
    if found is None or not found.is_file():
        return _missing(root)
    try:
        real = found.resolve()
    except OSError:
        return _missing(root)
    if not real.is_relative_to(root):  # a symlink pointing out of the folder
        return _missing(root)
    return Resolution("file", real)


def _missing(root: Path) -> Resolution:
    """A 404, with the build's 404.html as its body when it is a file inside the folder (a symbolic
    link out of it is not served, as no other file is). Looked up only for a missing path."""
    page = root / "404.html"
    try:
        real = page.resolve()
    except (OSError, RuntimeError):
        return Resolution("missing")
    return Resolution("missing", page if real.is_file() and real.is_relative_to(root) else None)


@dataclass
class FolderServer:
    """A running folder server: where it listens and how served URLs map back to files."""

    root: Path
    base_url: str  # "http://127.0.0.1:PORT/"
    process: subprocess.Popen[bytes]
    redirects: Redirects = field(default_factory=dict)  # what the server answers from _redirects

    def source_path(self, url: str) -> str | None:
        """The file behind a served URL, relative to the folder (POSIX separators), or None."""
        return source_path_for(self.root, url, self.base_url, self.redirects)

    def url_for(self, relative_path: str) -> str:
        """The served URL of a file given relative to the folder ("blog/index.html" -> ".../blog/")."""
        return self.base_url + served_path(relative_path.lstrip("/"))[1:]


def source_path_for(root: Path, url: str, base_url: str | None = None,
                    redirects: Redirects | None = None) -> str | None:
    """Relative file path behind `url` on a folder server rooted at `root` (resolved here),
    through one redirect (a folder's slash, or a `_redirects` line to a path of the folder)."""
    parts = urlsplit(url)
    if base_url is not None:
        base = urlsplit(base_url)
        if (parts.hostname, parts.port) != (base.hostname, base.port):
            return None
    root = root.resolve()
    resolution = resolve_request(root, parts.path or "/", redirects)
    if resolution.kind == "redirect" and resolution.location and resolution.location.startswith("/"):
        resolution = resolve_request(root, resolution.location)
    if resolution.kind != "file" or resolution.file is None:
        return None
    return shown_name(resolution.file.relative_to(root).as_posix())


@contextmanager
def serve_folder(path: Path, *, port: int = 0) -> Iterator[FolderServer]:
    """Serve `path` on 127.0.0.1 in a child process for the duration of the `with` block."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise TargetError(f"{path} is not a folder that can be served.")
    root = root.resolve()
    process = subprocess.Popen(
        # -P: the working directory (often the site's own repository) is not put on the server's
        # import path, so a socketserver.py or json.py there is never imported.
        [sys.executable, "-P", "-m", "smo_audit.crawl.local_server", str(root), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        bound = _read_port(process)
        yield FolderServer(root, f"http://127.0.0.1:{bound}/", process, load_redirects(root))
    finally:
        _stop(process)


def _read_port(process: subprocess.Popen[bytes]) -> int:
    stdout = process.stdout
    assert stdout is not None
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(STARTUP_TIMEOUT)
    text = line[0].decode("ascii", "replace").strip() if line else ""
    if not text.isdigit():
        if process.poll() is None:
            _stop(process)  # it hangs: stop it first (its stderr is then closed unread)
            stderr = ""
        else:  # it died: its last words say why
            stderr = process.stderr.read().decode("utf-8", "replace").strip() if process.stderr else ""
            _stop(process)
        detail = stderr.splitlines()[-1] if stderr else "no port reported"
        raise TargetError(f"The local folder server did not start ({detail}).")
    return int(text)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with suppress(OSError):
            if process.stdin:
                process.stdin.close()  # the child's stdin watcher shuts the server down
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=3)
    for stream in (process.stdout, process.stderr, process.stdin):
        if stream is not None:
            with suppress(OSError):
                stream.close()


# --- the child process ------------------------------------------------------------------------


def _make_server(root: Path, port: int) -> ThreadingHTTPServer:
    """Build the ThreadingHTTPServer (imported here: the parent never needs http.server)."""
    import shutil
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    redirects = load_redirects(root)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        disable_nagle_algorithm = True  # TCP_NODELAY
        timeout = 30  # idle keep-alive connections free their thread
        server_version = "smo-audit-folder"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def _serve(self, send_body: bool) -> None:
            resolution = resolve_request(root, self.path, redirects)
            if resolution.kind == "redirect":
                self.send_response(resolution.status)
                self.send_header("Location", resolution.location or "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 200 if resolution.kind == "file" else 404
            file = resolution.file
            if file is None:
                body = b"<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1>"
                self._headers(status, "text/html", len(body))
                if send_body:
                    self.wfile.write(body)
                return
            try:
                handle = file.open("rb")
            except OSError:
                self.send_error(403)
                return
            with handle:
                size = os.fstat(handle.fileno()).st_size
                self._headers(status, content_type(file), size)
                if send_body:
                    if size <= 1024 * 1024:
                        self.wfile.write(handle.read())
                    else:
                        shutil.copyfileobj(handle, self.wfile, 256 * 1024)

        def _headers(self, status: int, ctype: str, length: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = False
        request_queue_size = 128

    return Server(("127.0.0.1", port), Handler)


def _watch_stdin(stdin: IO[bytes], server: ThreadingHTTPServer) -> None:
    with suppress(OSError, ValueError):
        while stdin.read(4096):
            pass
    server.shutdown()


def main(argv: list[str]) -> int:
    """Child entry point: `python -m smo_audit.crawl.local_server ROOT [PORT]`."""
    import signal

    # Ctrl-C reaches the whole process group. The parent turns it into a partial report and
    # needs the server until then; it closes our stdin when it is done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    root = Path(argv[0]).resolve()
    port = int(argv[1]) if len(argv) > 1 else 0
    server = _make_server(root, port)
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    threading.Thread(target=_watch_stdin, args=(sys.stdin.buffer, server), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
