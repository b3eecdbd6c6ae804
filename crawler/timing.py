"""The server's time to first byte, by the kernel's clocks: the crawler's own CPU load does not count.

Scrapy's ``download_latency`` (stored as ``response_time``) is read on the event loop when it
gets round to the response: while the loop parses a large page, every other response waits,
and a static file served in a millisecond reads as a second. Linux keeps per connection when
it last sent data and last received data (``TCP_INFO``: ``tcpi_last_data_sent``,
``tcpi_last_data_recv``, in milliseconds before now). Read as the headers are parsed, the
difference is the time from our request leaving to the answer arriving, whenever the loop
reads it. HTTP/1.1 connections carry one request at a time (Scrapy does not pipeline), so the
last data sent is this request. Where TCP_INFO is missing (not Linux), ``ttfb`` stays empty and
slow-response judges ``response_time``.
"""

from __future__ import annotations

import socket
import struct
from functools import partial
from typing import Any
from urllib.parse import urldefrag

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import (HTTP11DownloadHandler, _LenientHTTP11ClientFactory,
                                                    _LenientHTTP11ClientProtocol)
from scrapy.utils.python import to_bytes
from twisted.web.client import URI

#: offset of tcpi_last_data_sent in struct tcp_info (8 one-byte fields, 9 u32 before it);
#: tcpi_last_ack_sent then tcpi_last_data_recv follow it
_LAST_DATA_SENT_OFFSET = 44
_TCP_INFO_SIZE = 104
#: responses measured whose headers_received signal has not come (a failed download): forgotten past this
MAX_PENDING = 10_000


def server_wait(sock: socket.socket) -> float | None:
    """Seconds from the kernel sending the last bytes on ``sock`` to it receiving the latest
    ones, or None where the kernel does not say (no TCP_INFO)."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
    except (AttributeError, OSError):  # no TCP_INFO on this platform, or the socket is gone
        return None
    if len(info) < _LAST_DATA_SENT_OFFSET + 12:
        return None
    sent_ago, received_ago = struct.unpack_from("=I4xI", info, _LAST_DATA_SENT_OFFSET)
    return max(sent_ago - received_ago, 0) / 1000


def socket_of(transport: Any) -> socket.socket | None:
    """The socket under a Twisted transport (a TLS one wraps the TCP one)."""
    for _ in range(4):
        handle = getattr(transport, "getHandle", lambda: None)()
        if isinstance(handle, socket.socket):
            return handle
        transport = getattr(transport, "transport", None)
        if transport is None:
            return None
    return None


def request_key(url: str) -> bytes:
    """A request's URL as Twisted's ``Request.absoluteURI`` spells it (what Scrapy's agent sends)."""
    return URI.fromBytes(to_bytes(urldefrag(url)[0], encoding="ascii")).toBytes()


class _TimedProtocol(_LenientHTTP11ClientProtocol):
    """Notes the kernel's figure for each response as soon as its headers are parsed."""

    def __init__(self, quiescent_callback, waits: dict[bytes, float]):
        super().__init__(quiescent_callback)
        self._waits = waits

    def request(self, request):
        answered = super().request(request)
        answered.addCallback(self._measured, request.absoluteURI)
        return answered

    def _measured(self, response, key: bytes | None):
        sock = socket_of(self.transport)
        wait = server_wait(sock) if sock is not None else None
        if wait is not None and key:
            if len(self._waits) >= MAX_PENDING:
                self._waits.clear()
            self._waits[key] = wait
        return response


class _TimedClientFactory(_LenientHTTP11ClientFactory):
    def __init__(self, waits: dict[bytes, float], quiescent_callback, metadata):
        super().__init__(quiescent_callback, metadata)
        self._waits = waits

    def buildProtocol(self, addr):
        return _TimedProtocol(self._quiescentCallback, self._waits)


class TimedHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, also setting ``request.meta["ttfb"]`` (seconds, see the module).

    The protocol's figure reaches the request through Scrapy's ``headers_received`` signal,
    sent in the same call chain as the protocol parsed the headers, matched by URL."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self._waits: dict[bytes, float] = {}
        self._pool._factory = partial(_TimedClientFactory, self._waits)
        crawler.signals.connect(self._headers_received, signal=signals.headers_received)

    def _headers_received(self, request, **_):
        wait = self._waits.pop(request_key(request.url), None)
        if wait is not None:
            request.meta["ttfb"] = wait
