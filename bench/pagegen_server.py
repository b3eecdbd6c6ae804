"""A web server on 127.0.0.1 whose site of N small pages is generated on the fly, for crawls of
up to millions of pages without writing them to disk (bench/sitegen.py writes ~27 KB per page).

    python bench/pagegen_server.py --pages 1000000 [--port P]
    python bench/pagegen_server.py --pages 1000000 --measure 5     # requests/s it answers

The site: ``/robots.txt`` allows everything; page 0 is ``/`` and page i (0 < i < N) is ``/p/i``:
about 2 KB of HTML with a title, a meta description, an absolute self canonical and 12 links:
the tree children 4i+1..4i+4 (so a breadth-first crawl from ``/`` reaches every page, within
log4(N) clicks), the parent, the next page and 6 pages picked by a hash of i (the same on every
run). Anything else is a 404, which the crawler's soft-404 probe and sitemap guess expect.

HTTP/1.1 with keep-alive on asyncio Protocols, parsing only the request line: the crawler
under test sends simple GET/HEAD requests without bodies. One process answers about 20,000
requests/s on these machines (``--measure``), some 60 times what a crawl asks of it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from nginx_server import free_port  # noqa: E402

#: pseudo-random links per page, besides the tree children, the parent and the next page
RANDOM_LINKS = 6
WORDS = ("shoes boots trail running leather canvas winter summer classic outdoor waterproof "
         "light premium sneakers sandals socks kids women men sale").split()
ROBOTS = b"User-agent: *\nAllow: /\n"
NOT_FOUND = b"<!DOCTYPE html><title>Not found</title><h1>Not found</h1>"


def page_path(i: int) -> str:
    return "/" if i == 0 else f"/p/{i}"


def page_links(i: int, n: int) -> list[int]:
    """Pages linked from page i, in document order (duplicates possible, as on real sites)."""
    tree = [c for c in range(4 * i + 1, 4 * i + 5) if c < n]
    parent = [(i - 1) // 4] if i else []
    following = [i + 1] if i + 1 < n else []
    # a multiplicative hash: spread over the whole site, stable across runs and processes
    picked = [(i * 2654435761 + k * 40503 + 7) % n for k in range(RANDOM_LINKS)]
    return tree + parent + following + picked


def page_html(i: int, n: int, origin: str) -> bytes:
    words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(4)]
    links = "".join(f'<li><a href="{page_path(j)}">{WORDS[j % len(WORDS)]} {j}</a></li>\n'
                    for j in page_links(i, n))
    # 7 to 22 filler paragraphs: page sizes spread over ~1.5-3 KB
    filler = "".join(f"<p>{' '.join(words)} page {i} paragraph {k}: lorem ipsum dolor sit amet.</p>\n"
                     for k in range(7 + i % 16))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f"<title>{' '.join(words).title()} - page {i}</title>\n"
            f'<meta name="description" content="Page {i} of the generated site: {" ".join(words)}.">\n'
            f'<link rel="canonical" href="{origin}{page_path(i)}">\n'
            f"</head><body><h1>Page {i}</h1>\n{filler}<ul>\n{links}</ul></body></html>\n").encode()


def page_number(path: str, n: int) -> int | None:
    """i if ``path`` is page i's path, else None."""
    if path == "/":
        return 0
    if not path.startswith("/p/"):
        return None
    digits = path[3:]
    if not digits.isdigit() or digits.startswith("0"):
        return None
    i = int(digits)
    return i if i < n else None


def response(path: str, n: int, origin: str, head: bool) -> bytes:
    if path == "/robots.txt":
        status, ctype, body = "200 OK", "text/plain", ROBOTS
    else:
        i = page_number(path.split("?", 1)[0], n)
        if i is None:
            status, ctype, body = "404 Not Found", "text/html; charset=utf-8", NOT_FOUND
        else:
            status, ctype, body = "200 OK", "text/html; charset=utf-8", page_html(i, n, origin)
    header = (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
              "Connection: keep-alive\r\n\r\n").encode()
    return header if head else header + body


class PageProtocol(asyncio.Protocol):
    """One keep-alive connection: answers each complete request head in the buffer, in order."""

    def __init__(self, n: int, origin: str):
        self.n, self.origin = n, origin
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes):
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            if len(request_line) != 3:
                self.transport.close()
                return
            method, target, _ = request_line
            self.transport.write(response(target, self.n, self.origin, head=method == "HEAD"))
        if len(self.buffer) > 65536:  # a head that never ends: not a client of ours
            self.transport.close()


def serve(n: int, port: int, host: str = "127.0.0.1") -> None:
    origin = f"http://{host}:{port}"

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: PageProtocol(n, origin), host, port,
                                          backlog=1024, reuse_address=True)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())


class PagegenServer:
    """The server in a child process of its own process group.

        with PagegenServer(pages=100000) as server:
            crawl(server.origin + "/")
    """

    def __init__(self, pages: int, port: int | None = None, host: str = "127.0.0.1"):
        if not host.startswith("127."):
            raise ValueError("the pagegen server binds loopback addresses only")
        self.pages, self.host = pages, host
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> "PagegenServer":
        cmd = [sys.executable, os.path.join(HERE, "pagegen_server.py"), "--pages", str(self.pages),
               "--port", str(self.port), "--host", self.host, "--serve-only"]
        self.proc = subprocess.Popen(cmd, start_new_session=True, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pagegen server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.origin + "/robots.txt", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pagegen server did not answer on {self.origin} within {timeout} s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> "PagegenServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def measure_throughput(origin: str, seconds: float, connections: int, pages: int) -> dict:
    """Requests/s answered to ``connections`` keep-alive clients asking for pages in turn
    for ``seconds``; the clients run here, so a server in other processes is measured."""
    host, port = origin.rsplit("/", 1)[-1].split(":")

    async def client(k: int, deadline: float) -> tuple[int, int]:
        reader, writer = await asyncio.open_connection(host, int(port))
        done = received = 0
        while time.monotonic() < deadline:
            i = (k * 7919 + done * 31) % pages
            writer.write(f"GET {page_path(i)} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ", 1)[1].split(b"\r\n", 1)[0])
            received += len(await reader.readexactly(length))
            done += 1
        writer.close()
        return done, received

    async def main():
        deadline = time.monotonic() + seconds
        return await asyncio.gather(*(client(k, deadline) for k in range(connections)))

    started = time.monotonic()
    results = asyncio.run(main())
    elapsed = time.monotonic() - started
    done = sum(d for d, _ in results)
    return {"requests": done, "seconds": elapsed, "requests_per_s": done / elapsed,
            "mean_body_bytes": sum(r for _, r in results) / max(done, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--port", type=int, help="default: a free port")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--measure", type=float, metavar="SECONDS",
                        help="start the server, measure requests/s for SECONDS, stop")
    parser.add_argument("--connections", type=int, default=16, help="clients of --measure")
    parser.add_argument("--serve-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_only:  # one server process, started by PagegenServer
        serve(args.pages, args.port, args.host)
        return 0
    with PagegenServer(args.pages, args.port, args.host) as server:
        if args.measure:
            result = measure_throughput(server.origin, args.measure, args.connections, args.pages)
            print(f"{result['requests_per_s']:.0f} requests/s ({result['requests']} in "
                  f"{result['seconds']:.1f} s, {args.connections} keep-alive connections, "
                  f"mean body {result['mean_body_bytes']:.0f} B)")
            return 0
        print(f"serving {args.pages} pages at {server.origin}/ (Ctrl-C stops)", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # through __exit__: servers stopped
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
