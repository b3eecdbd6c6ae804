"""Network failures named the way an SEO reads them."""

from __future__ import annotations

from scrapy import exceptions as scrapy_errors
from scrapy.exceptions import IgnoreRequest
from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

# Scrapy 2.14+ wraps download failures in its own exception types; older ones raise
# Twisted's. Both are named here, so the error column reads the same on either.
_KINDS = (
    ((scrapy_errors.DownloadTimeoutError, net.TimeoutError, TimeoutError), "timeout"),
    ((scrapy_errors.CannotResolveHostError, net.DNSLookupError), "dns"),
    ((scrapy_errors.DownloadConnectionRefusedError, net.ConnectionRefusedError), "connection-refused"),
    ((scrapy_errors.DownloadCancelledError,), "max-size"),
    ((scrapy_errors.ResponseDataLossError, scrapy_errors.DownloadFailedError, net.ConnectionLost,
      net.ConnectionDone, ResponseFailed, ResponseNeverReceived, ConnectionResetError),
     "connection-reset"),
    ((net.SSLError,), "tls"),
    ((scrapy_errors.UnsupportedURLSchemeError,), "unsupported-scheme"),
)


def describe_failure(exc: BaseException | Failure) -> str:
    """A short, stable error name for a failed download."""
    if isinstance(exc, Failure):
        exc = exc.value
    if isinstance(exc, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in str(exc):
        return "max-size"  # HttpCompressionMiddleware: decompressed body over DOWNLOAD_MAXSIZE
    for types, name in _KINDS:
        if isinstance(exc, types):
            return name
    return type(exc).__name__
