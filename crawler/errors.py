"""Network failures named the way an SEO reads them."""

from __future__ import annotations

from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

_KINDS = (
    ((net.TimeoutError, TimeoutError), "timeout"),
    ((net.DNSLookupError,), "dns"),
    ((net.ConnectionRefusedError,), "connection-refused"),
    ((DownloadCancelledError,), "max-size"),
    ((net.ConnectionLost, net.ConnectionDone, ResponseFailed, ResponseNeverReceived,
      ConnectionResetError), "connection-reset"),
    ((net.SSLError,), "tls"),
)


def describe_failure(exc: BaseException | Failure) -> str:
    """A short, stable error name for a failed download."""
    if isinstance(exc, Failure):
        exc = exc.value
    if isinstance(exc, IgnoreRequest) and "max size" in str(exc):
        return "max-size"  # HttpCompressionMiddleware: decompressed body over DOWNLOAD_MAXSIZE
    for types, name in _KINDS:
        if isinstance(exc, types):
            return name
    if "timed out" in str(exc).lower() or "timeout" in type(exc).__name__.lower():
        return "timeout"
    return type(exc).__name__
