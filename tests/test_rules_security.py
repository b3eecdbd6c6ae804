"""The security rules: planted positives and near misses in test_rules.py's table format
(test_rules.py runs them with every other rule's)."""

from __future__ import annotations

from tests.rule_frames import link, page

HTTP = "http://shop.test"


def certificate(problem: str | None, detail: str = "certificate verify failed", port: int = 443) -> dict:
    return {"host": "shop.test", "port": port, "problem": problem, "detail": detail,
            "subject": "CN=shop.test", "issuer": "CN=Some CA", "not_after": "2026-01-01T00:00:00+00:00",
            "chain_sent": 1, "checked_at": 0.0}


PLAIN_HOME = page(f"{HTTP}/", status=301, redirect_target="https://shop.test/", content_type=None,
                  title=None, canonical=None, hsts=None)

POSITIVES = {
    "certificate-expired": (dict(certificates=[certificate("expired", "certificate has expired")]),
                            ["https://shop.test/"], "expired: certificate has expired"),
    "certificate-self-signed": (dict(certificates=[certificate("self-signed", "self-signed certificate",
                                                               port=8443)]),
                                ["https://shop.test:8443/"], "self-signed certificate"),
    "certificate-wrong-name": (dict(certificates=[certificate("wrong-name", "Hostname mismatch")]),
                               ["https://shop.test/"], "wrong-name: Hostname mismatch"),
    "certificate-incomplete-chain": (
        dict(certificates=[certificate("incomplete-chain", "unable to get local issuer certificate")]),
        ["https://shop.test/"], "1 certificate(s) sent"),
    "certificate-invalid": (dict(certificates=[certificate("tls-error", "WRONG_VERSION_NUMBER")]),
                            ["https://shop.test/"], "WRONG_VERSION_NUMBER"),
    "http-not-redirected-to-https": (dict(pages=[page(f"{HTTP}/shoes", hsts=None)]), [f"{HTTP}/shoes"],
                                     "200 over HTTP"),
    "http-to-https-temporary-redirect": (
        dict(pages=[page(f"{HTTP}/hats", status=302, redirect_target="https://shop.test/hats",
                         content_type=None)]),
        [f"{HTTP}/hats"], "302 to https://shop.test/hats"),
    "internal-link-to-http": (dict(pages=[PLAIN_HOME], links=[link("/shoes", f"{HTTP}/", anchor="Home")]),
                              [f"{HTTP}/"], "linked from https://shop.test/shoes ('Home')"),
    "mixed-content": (dict(links=[link("/hats", "http://cdn.test/app.js", kind="script"),
                                  link("/hats", f"{HTTP}/logo.png", kind="img")]),
                      ["/hats"], "loads over HTTP: script http://cdn.test/app.js, img http://shop.test/logo.png"),
    "https-canonical-to-http": (dict(pages=[page("/shoes", canonical=f"{HTTP}/shoes")]), ["/shoes"],
                                "canonical http://shop.test/shoes"),
    "https-hreflang-to-http": (dict(pages=[page("/en", hreflang=[["de", f"{HTTP}/de"]])]), ["/en"],
                               "hreflang de alternate http://shop.test/de"),
    "https-sitemap-url-http": (dict(sitemap=[f"{HTTP}/hats"]), [f"{HTTP}/hats"],
                               "listed in https://shop.test/sitemap.xml"),
    "missing-hsts": (dict(pages=[page("/hats", hsts=None), page("/shoes", hsts="max-age=0")]),
                     ["/hats", "/shoes"], "no Strict-Transport-Security header"),
}

NEAR_MISSES = [
    ("certificate-expired", dict(certificates=[certificate(None, "valid")])),
    ("certificate-self-signed", dict(certificates=[certificate("unreachable", "Connection refused")])),
    ("certificate-invalid", dict(certificates=[certificate("expired")])),
    # HTTP that answers, on a host with no HTTPS page
    ("http-not-redirected-to-https", dict(pages=[page("http://blog.test/post", hsts=None)])),
    ("http-to-https-temporary-redirect",  # permanent
     dict(pages=[page(f"{HTTP}/hats", status=308, redirect_target="https://shop.test/hats")])),
    ("http-to-https-temporary-redirect",  # temporary, but to another host
     dict(pages=[page(f"{HTTP}/hats", status=302, redirect_target="https://other.test/hats")])),
    # http:// links to another host are external links, not this rule's
    ("internal-link-to-http", dict(links=[link("/shoes", "http://other.test/", anchor="Partner")])),
    ("mixed-content", dict(links=[link("/hats", "https://cdn.test/app.js", kind="script"),
                                  link("/hats", "http://other.test/", kind="a")])),
    ("https-canonical-to-http", dict(pages=[page(f"{HTTP}/old", canonical=f"{HTTP}/old", hsts=None)])),
    ("https-hreflang-to-http", dict(pages=[page("/en", hreflang=[["de", "https://shop.test/de"]])])),
    ("missing-hsts", dict(pages=[page("/hats", hsts="max-age=63072000; includeSubDomains; preload"),
                                 page("/gone", status=404, hsts=None)])),
]
