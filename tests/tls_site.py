"""Certificates made by the tests, and HTTPS servers with them on 127.0.0.x.

One test CA (trustme) that the crawler is told to trust (``--ca-bundle``); server contexts with
a valid certificate from it, and with each problem a certificate check must name: self-signed,
expired, issued for another name, and a leaf served without its intermediate.
"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PROBLEMS = ("self-signed", "expired", "wrong-name", "incomplete-chain")


class CertificateAuthority:
    """A CA of the tests' own, and server contexts for 127.0.0.x with or without a problem."""

    def __init__(self, folder: Path):
        self.ca = trustme.CA()
        self.folder = folder
        self.bundle = folder / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.bundle))

    def context(self, host: str, problem: str | None = None) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if problem is None:
            self.ca.issue_cert(host).configure_cert(context)
        elif problem == "expired":
            past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)
            self.ca.issue_cert(host, not_before=past - datetime.timedelta(days=365),
                               not_after=past).configure_cert(context)
        elif problem == "wrong-name":
            self.ca.issue_cert("other.example").configure_cert(context)
        elif problem == "incomplete-chain":
            leaf = self.ca.create_child_ca().issue_cert(host)
            self._load(context, leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes(), host)
        elif problem == "self-signed":
            self._load(context, *_self_signed(host), host)
        else:
            raise ValueError(problem)
        return context

    def _load(self, context: ssl.SSLContext, cert: bytes, key: bytes, name: str) -> None:
        cert_path, key_path = self.folder / f"{name}-cert.pem", self.folder / f"{name}-key.pem"
        cert_path.write_bytes(cert)
        key_path.write_bytes(key)
        context.load_cert_chain(cert_path, key_path)


def _self_signed(host: str) -> tuple[bytes, bytes]:
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
