"""Is a host's HTTPS certificate one browsers and search engines accept? One bounded check per host.

The crawl itself does not verify certificates (Scrapy's default, kept: an audit must see a site
with a broken certificate too); this check does it apart, as a browser would, with two short
handshakes: one that accepts anything, to read what the server sends (its leaf certificate and
how many certificates come with it), and one that verifies the chain and the name against the
trust store (the system's, or ``cafile``).
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import asdict, dataclass

from cryptography import x509

#: OpenSSL's verification error codes (X509_V_ERR_*) -> the problem they mean
_PROBLEMS = {
    9: "not-yet-valid",  # CERT_NOT_YET_VALID
    10: "expired",  # CERT_HAS_EXPIRED
    18: "self-signed",  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: "untrusted-root",  # SELF_SIGNED_CERT_IN_CHAIN
    62: "wrong-name",  # HOSTNAME_MISMATCH
    64: "wrong-name",  # IP_ADDRESS_MISMATCH
}
#: codes for "the issuer of a certificate was not found": a missing intermediate when the server
#: sent its leaf alone, else a CA the trust store does not know
_ISSUER_NOT_FOUND = {2, 20, 21}  # UNABLE_TO_GET_ISSUER_CERT(_LOCALLY), UNABLE_TO_VERIFY_LEAF_SIGNATURE


@dataclass
class CertificateCheck:
    """One host's answer; ``problem`` None means valid. Field order is store.CERTIFICATE_COLUMNS'."""

    host: str
    port: int
    problem: str | None  # expired, not-yet-valid, self-signed, wrong-name, incomplete-chain,
    # untrusted-root, untrusted, invalid, tls-error, unreachable
    detail: str  # OpenSSL's words, or the network error
    subject: str | None = None
    issuer: str | None = None
    not_after: str | None = None  # ISO 8601, UTC
    chain_sent: int | None = None  # certificates the server sent, its leaf included
    checked_at: float = 0.0

    def row(self) -> tuple:
        return tuple(asdict(self).values())


def check_certificate(host: str, port: int = 443, *, timeout: float = 10.0,
                      cafile: str | None = None) -> CertificateCheck:
    """Verify the certificate ``host:port`` serves (never raises: failures are the answer)."""
    check = CertificateCheck(host, port, None, "valid", checked_at=time.time())
    try:
        chain = _sent_chain(host, port, timeout)
    except (OSError, ssl.SSLError) as exc:
        check.problem, check.detail = _connection_problem(exc)
        return check
    check.chain_sent = len(chain)
    leaf = x509.load_der_x509_certificate(chain[0]) if chain else None
    if leaf is not None:
        check.subject, check.issuer = leaf.subject.rfc4514_string(), leaf.issuer.rfc4514_string()
        check.not_after = leaf.not_valid_after_utc.isoformat()
    context = ssl.create_default_context(cafile=cafile)
    try:
        with _connected(host, port, timeout, context):
            return check
    except ssl.SSLCertVerificationError as exc:
        check.problem = _PROBLEMS.get(exc.verify_code)
        if exc.verify_code in _ISSUER_NOT_FOUND:
            alone = len(chain) == 1 and leaf is not None and leaf.issuer != leaf.subject
            check.problem = "incomplete-chain" if alone else "untrusted"
        check.problem = check.problem or "invalid"
        check.detail = exc.verify_message or str(exc)
    except (OSError, ssl.SSLError) as exc:
        check.problem, check.detail = _connection_problem(exc)
    return check


def _connection_problem(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ssl.SSLError):
        return "tls-error", exc.reason or str(exc)
    return "unreachable", str(exc) or type(exc).__name__


def _sent_chain(host: str, port: int, timeout: float) -> list[bytes]:
    """The certificates (DER) the server sends, leaf first, accepting any."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with _connected(host, port, timeout, context) as tls:
        # the public method is Python 3.13's; the private one is there since 3.10
        chain = getattr(tls, "get_unverified_chain", None) or tls._sslobj.get_unverified_chain
        certificates = chain() or []
        return [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER)
                for c in certificates] or [tls.getpeercert(binary_form=True)]


class _connected:
    """A TLS connection to host:port, every step bounded by ``timeout``, closed on exit."""

    def __init__(self, host: str, port: int, timeout: float, context: ssl.SSLContext):
        self.args = host, port, timeout, context

    def __enter__(self) -> ssl.SSLSocket:
        host, port, timeout, context = self.args
        raw = socket.create_connection((host.strip("[]"), port), timeout=timeout)
        try:
            # an IP address as the name: no SNI is sent, and it is matched against IP SANs
            self.tls = context.wrap_socket(raw, server_hostname=host.strip("[]"))
        except BaseException:
            raw.close()
            raise
        return self.tls

    def __exit__(self, *exc) -> None:
        self.tls.close()

