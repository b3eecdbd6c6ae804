"""A tiny web server for sites we control: the bundled demo site and the test fixtures.

Stdlib only, threaded, bound to 127.0.0.1 (or another loopback address) on a free port,
plain HTTP or HTTPS with the given ``ssl.SSLContext``. A site is a dict of routes:
the key is a path (with its query string when it matters) or a prefix ending in ``*``,
the value is a ``Reply`` or a function ``(Hit) -> Reply``. Every request is counted by
path, so tests can assert that a URL was fetched once, or never.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Union
from urllib.parse import unquote, urlsplit


@dataclass
class Hit:
    """One request as the site sees it."""

    method: str
    path: str  # path and query, as sent
    headers: dict[str, str]
    count: int  # how many times this path was requested, this one included
    server: "SiteServer"


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering
    #: misbehaviour instead of a normal answer: "reset" (close mid-body), "hang" (never answer),
    #: "drip" (send the body a byte at a time, ``delay`` seconds apart), "endless" (repeat the
    #: body without a Content-Length until the client hangs up, at most 60 s)
    fault: str | None = None


Route = Union[Reply, Callable[[Hit], Reply]]


def page(title: str, body: str = "", *, head: str = "", status: int = 200,
         headers: list[tuple[str, str]] | None = None) -> Reply:
    """An HTML page with a title, extra head markup and a body."""
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
            f"<body>{body}</body></html>")
    return Reply(status=status, body=html, headers=list(headers or []))


def redirect(to: str, status: int = 301) -> Reply:
    return Reply(status=status, body=b"", content_type=None, headers=[("Location", to)])


def _quiet_tls_error(request, client_address) -> None:
    """A client that refused the handshake (a certificate check) is its business; else report."""
    if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionResetError)):
        traceback.print_exc()


class SiteServer:
    """Serve ``routes`` on 127.0.0.1 in a background thread. Use as a context manager."""

    def __init__(self, routes: dict[str, Route], host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None):
        if not host.startswith("127.") and host not in ("::1", "localhost"):
            raise ValueError("the site server binds loopback addresses only")
        self.routes = routes
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            self.scheme = "https"
            # the handshake happens on the first read, in the request's thread: a client that
            # rejects the certificate fails its own connection, not the accepting loop
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True,
                                                 do_handshake_on_connect=False)
            self._httpd.handle_error = _quiet_tls_error
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self._httpd.server_address[0]}:{self.port}"

    def start(self) -> "SiteServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "SiteServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def resolve(self, path: str) -> Route | None:
        if path in self.routes:
            return self.routes[path]
        bare = urlsplit(path).path
        for candidate in (bare, unquote(bare)):
            if candidate in self.routes:
                return self.routes[candidate]
        prefixes = [k for k in self.routes if k.endswith("*") and path.startswith(k[:-1])]
        return self.routes[max(prefixes, key=len)] if prefixes else None

    def _handler_class(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet: tests read hits, not logs
                pass

            def _serve(self) -> None:
                with site._lock:
                    site.hits[self.path] += 1
                    count = site.hits[self.path]
                route = site.resolve(self.path)
                if route is None:
                    reply = page("Not found", "<h1>Not found</h1>", status=404)
                elif callable(route):
                    reply = route(Hit(self.command, self.path, dict(self.headers), count, site))
                else:
                    reply = route
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client hung up: its business

            do_GET = do_HEAD = do_POST = _serve

            def _send(self, reply: Reply) -> None:
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                if reply.fault == "hang":
                    site._stop.wait(reply.delay or 3600)
                    self.close_connection = True
                    return
                if reply.delay and reply.fault != "drip":
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                if reply.content_type:
                    self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers:
                    self.send_header(name, value)
                if reply.fault == "endless":
                    self.close_connection = True  # the body ends when the connection does
                elif not any(n.lower() == "content-length" for n, _ in reply.headers):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if reply.fault == "reset":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    # SO_LINGER 0: close with RST, as a crashed upstream would.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    return
                if reply.fault == "drip":
                    for i in range(len(body)):
                        if site._stop.is_set():
                            return
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(reply.delay)
                    return
                if reply.fault == "endless":
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline and not site._stop.is_set():
                        self.wfile.write(body)
                    return
                self.wfile.write(body)

        return Handler
