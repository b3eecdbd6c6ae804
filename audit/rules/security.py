"""Security rules: HTTPS as browsers and search engines judge it.

Certificates (checked per host by the crawler, see crawler.tls), HTTP left in place on a site that
has HTTPS (pages not redirected, temporary redirects, links, canonicals, hreflang and sitemap
entries still written with http://), mixed content and the HSTS header.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.rules.base import (Rule, derived, distinct_links, examples, fetched_pages, found,
                              link_rows, linked_from, rule, rules_in, text, texts_match)
from audit.rules.links import hreflang_pairs

CATEGORY = "security"
GOOGLE_HTTPS_CANONICAL = "https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls"
GOOGLE_REDIRECTS = "https://developers.google.com/search/docs/crawling-indexing/301-redirects"
GOOGLE_HREFLANG = "https://developers.google.com/search/docs/specialty/international/localized-versions"
GOOGLE_SITEMAPS = "https://developers.google.com/search/docs/crawling-indexing/sitemaps/build-sitemap"
MDN_MIXED_CONTENT = "https://developer.mozilla.org/en-US/docs/Web/Security/Mixed_content"
MDN_HSTS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Strict-Transport-Security"
SCREAMING_FROG_SECURITY = "https://www.screamingfrog.co.uk/seo-spider/issues/security/"

#: link kinds a browser loads into the page (links.csv kinds): over HTTP on an HTTPS page,
#: scripts, styles and frames are blocked and images flagged or upgraded
MIXED_CONTENT_KINDS = ("script", "css", "css-url", "iframe", "img")
_HOST = r"^[a-z][a-z0-9+.-]*://(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)"


def _hosts(urls: pd.Series) -> pd.Series:
    """Each URL's host, lower-cased, without port (for the few URLs a rule has narrowed down to)."""
    return urls.astype("str").str.lower().str.extract(_HOST, expand=False)


def _starts(texts: pd.Series, prefix: str) -> pd.Series:
    """Whether each text starts with ``prefix`` (missing: no), in base.texts_match's plain loop."""
    return texts_match(texts, lambda text: text.startswith(prefix))


def _secure_pages(crawl) -> pd.Series:
    """Mask on crawl.pages: an https:// URL; computed once per crawl."""
    return derived(crawl, "https_urls", lambda c: _starts(c.pages["url"], "https://"))


def _served_over_https(crawl, hosts: set[str]) -> set[str]:
    """The ``hosts`` that answered over HTTPS in this crawl: sites that have HTTPS. Hosts only of
    the pages whose URL starts with one of theirs."""
    if not hosts:
        return set()
    urls = fetched_pages(crawl)["url"]
    prefixes = tuple(f"https://{host}{end}" for host in hosts for end in ("/", ":"))
    return set(_hosts(urls[texts_match(urls, lambda url: url.startswith(prefixes))]).dropna()) & hosts


def _https_html(crawl, *columns: str) -> pd.DataFrame:
    """HTTPS HTML pages that answered 2xx, with ``columns``."""
    p = fetched_pages(crawl, "is_html", "status", *columns)
    return p[_secure_pages(crawl)[p.index] & p["is_html"] & p["status"].between(200, 299)]


def _http_links_on_https(crawl, kinds: tuple[str, ...], same_host: bool) -> pd.DataFrame:
    """The links of ``kinds`` from an https:// page to an http:// URL (link_rows), on the same
    host as the page (``same_host``) or anywhere."""
    rows = link_rows(crawl, "list_contains(?::VARCHAR[], kind) AND starts_with(source, 'https://') "
                     "AND starts_with(target, 'http://')", (list(kinds),))
    if same_host and len(rows):
        rows = rows[(_hosts(rows["source"]) == _hosts(rows["target"])).fillna(False).to_numpy()]
    return rows


# --- certificates ------------------------------------------------------------------------

def _certificate_rule(id: str, problems: tuple[str, ...], severity: str, severity_why: str,
                      title: str, why: str, fix: str) -> Rule:
    """A rule over the crawl's certificate checks: one finding per HTTPS host:port with one of
    ``problems``, its URL the origin, its evidence what the check found."""
    def check(crawl, t):
        bad = [c for c in crawl.certificates if c.get("problem") in problems]
        origins = pd.Series([f"https://{c['host']}" + ("" if c["port"] == 443 else f":{c['port']}") + "/"
                             for c in bad], dtype="str")
        evidence = pd.Series([f"{c['problem']}: {c['detail']}; certificate of {c.get('subject') or '-'} "
                              f"issued by {c.get('issuer') or '-'}, valid until {c.get('not_after') or '-'}, "
                              f"{c.get('chain_sent') or 0} certificate(s) sent" for c in bad], dtype="str")
        return found(origins, evidence)

    return rule(id=id, severity=severity, severity_why=severity_why, title=title, why=why, fix=fix,
                learn_more=GOOGLE_HTTPS_CANONICAL, reads=("certificates",))(check)


CERTIFICATE_EXPIRED = _certificate_rule(
    "certificate-expired", ("expired", "not-yet-valid"), "critical",
    "browsers stop visitors at a warning, and Google does not choose HTTPS pages with an invalid "
    "certificate as canonical",
    "HTTPS certificate expired (or not yet valid)",
    "Outside its validity dates a certificate is refused: every HTTPS page of the host shows a "
    "security warning instead of the page.",
    "Renew the certificate (automate it, e.g. with ACME / Let's Encrypt) and check the server's clock.")
CERTIFICATE_SELF_SIGNED = _certificate_rule(
    "certificate-self-signed", ("self-signed", "untrusted-root", "untrusted"), "critical",
    "browsers stop visitors at a warning, and Google does not choose HTTPS pages with an invalid "
    "certificate as canonical",
    "HTTPS certificate not issued by a trusted CA",
    "A self-signed certificate, or one from a CA browsers do not know, proves nothing about the "
    "site: every HTTPS page shows a security warning.",
    "Serve a certificate from a public CA (e.g. Let's Encrypt) for this host.")
CERTIFICATE_WRONG_NAME = _certificate_rule(
    "certificate-wrong-name", ("wrong-name",), "critical",
    "browsers stop visitors at a warning, and Google does not choose HTTPS pages with an invalid "
    "certificate as canonical",
    "HTTPS certificate for another name",
    "The certificate does not name this host (a www./apex mix-up, a shared host's default "
    "certificate): browsers refuse it.",
    "Issue a certificate whose subject alternative names include this host, and serve it for it.")
CERTIFICATE_INCOMPLETE_CHAIN = _certificate_rule(
    "certificate-incomplete-chain", ("incomplete-chain",), "warning",
    "desktop browsers usually fetch the missing intermediate themselves, but many clients and "
    "crawlers refuse the certificate",
    "HTTPS certificate chain incomplete",
    "The server sends its certificate without the intermediate that links it to a trusted CA "
    "(or the CA is unknown): clients that do not fetch it themselves refuse the connection.",
    "Serve the full chain: the certificate followed by its intermediates (fullchain.pem).")
CERTIFICATE_INVALID = _certificate_rule(
    "certificate-invalid", ("invalid", "tls-error"), "critical",
    "clients that refuse the handshake or the certificate cannot reach any HTTPS page of the host",
    "HTTPS handshake or certificate refused",
    "The TLS handshake fails or the certificate is refused for another reason (see the evidence): "
    "browsers cannot open the HTTPS pages of the host.",
    "Fix the server's TLS configuration: protocol versions, ciphers, certificate and key.")


# --- HTTP where HTTPS is the site ----------------------------------------------------------

@rule(id="http-not-redirected-to-https", severity="warning",
      severity_why="two crawlable copies of each page split signals and double the crawl, at scale",
      title="HTTP page not redirected to HTTPS",
      why="The host serves HTTPS, but this http:// URL answers with the page itself: search engines "
          "see two copies of it, and visitors on HTTP stay unprotected.",
      fix="Redirect every http:// URL with a 301 (or 308) to its https:// twin.",
      learn_more=GOOGLE_REDIRECTS, reads=("status", "is_html"))
def http_not_redirected_to_https(crawl, t):
    p = fetched_pages(crawl, "status", "is_html")
    p = p[~_secure_pages(crawl)[p.index] & p["status"].between(200, 299) & p["is_html"]]
    p = p[_starts(p["url"], "http://")]
    host = _hosts(p["url"])
    hit = p[host.isin(_served_over_https(crawl, set(host.dropna())))]
    return found(hit["url"], text(hit["status"]) + " over HTTP, though the host serves HTTPS")


@rule(id="http-to-https-temporary-redirect", severity="warning",
      severity_why="a temporary redirect keeps the HTTP URL as the one indexed, wasting signals at scale",
      title="HTTP to HTTPS by a temporary redirect",
      why="302, 303 and 307 say the move is temporary: search engines may keep the http:// URL "
          "indexed and its signals are not consolidated on the HTTPS page.",
      fix="Make the HTTP to HTTPS redirect permanent: 301 or 308.",
      learn_more=GOOGLE_REDIRECTS, reads=("status", "redirect_target"))
def http_to_https_temporary_redirect(crawl, t):
    p = fetched_pages(crawl, "status", "redirect_target")
    p = p[p["status"].isin([302, 303, 307])]
    p = p[_starts(p["url"], "http://") & _starts(p["redirect_target"], "https://")]
    hit = p[_hosts(p["url"]).eq(_hosts(p["redirect_target"])).fillna(False)]
    return found(hit["url"], text(hit["status"]) + " to " + hit["redirect_target"])


@rule(id="internal-link-to-http", severity="warning",
      severity_why="each link costs crawlers and visitors a redirect hop, on every page that has it",
      title="Internal link to HTTP on an HTTPS page",
      why="Links written with http:// on HTTPS pages send crawlers through a redirect (or to an "
          "insecure copy) and leak visitors to HTTP before they get back to HTTPS.",
      fix="Write the links with https:// (or as relative links).",
      learn_more=SCREAMING_FROG_SECURITY, reads=("links",))
def internal_link_to_http(crawl, t):
    rows = _http_links_on_https(crawl, ("a",), same_host=True)
    targets = pd.Series(pd.unique(rows["target"]), dtype="str")
    return found(targets, linked_from(crawl, targets).reindex(targets).to_numpy())


@rule(id="mixed-content", severity="warning",
      severity_why="browsers block the HTTP scripts, styles and frames and mark the page not secure, "
                   "on every page that has them",
      title="Mixed content: HTTP resources on an HTTPS page",
      why="An HTTPS page that loads scripts, styles, frames or images over HTTP is insecure: browsers "
          "block active content (the page breaks) and flag or upgrade the rest.",
      fix="Load every resource with https:// (host it yourself if its server has no HTTPS).",
      learn_more=MDN_MIXED_CONTENT, reads=("links",))
def mixed_content(crawl, t):
    rows = _http_links_on_https(crawl, MIXED_CONTENT_KINDS, same_host=False)
    first = distinct_links(crawl, "row IN (SELECT row FROM chosen)", "source", frames={"chosen": rows[["row"]]})
    listed = examples(first["source"], first["kind"] + " " + first["target"], first["total"])
    return found(pd.Series(listed.index, dtype="str"), "loads over HTTP: " + listed.to_numpy())


@rule(id="https-canonical-to-http", severity="warning",
      severity_why="a canonical to the HTTP copy contradicts the redirect to HTTPS, wasting the signal",
      title="HTTPS page with an HTTP canonical",
      why="The page names its http:// copy as the one to index: a signal against HTTPS that search "
          "engines must overrule or follow.",
      fix="Write the canonical with https://.",
      learn_more=GOOGLE_HTTPS_CANONICAL, reads=("canonical", "link_canonical", "is_html", "status"))
def https_canonical_to_http(crawl, t):
    p = _https_html(crawl, "canonical", "link_canonical")
    canonical = p["canonical"].where(_starts(p["canonical"], "http://"), p["link_canonical"])
    hit = p[_starts(canonical, "http://")]
    return found(hit["url"], "canonical " + canonical[hit.index])


@rule(id="https-hreflang-to-http", severity="warning",
      severity_why="alternates that redirect are ignored, breaking the language cluster at scale",
      title="HTTPS page with HTTP hreflang alternates",
      why="hreflang alternates written with http:// redirect (or lead to insecure copies); search "
          "engines want alternates that answer 200 as they are written.",
      fix="Write the hreflang alternates with https://.",
      learn_more=GOOGLE_HREFLANG, reads=("hreflang", "is_html", "status"))
def https_hreflang_to_http(crawl, t):
    pairs = hreflang_pairs(crawl)
    pairs = pairs[_starts(pairs["target"], "http://")]
    pairs = pairs[pairs["source"].isin(_https_html(crawl)["url"])]
    return found(pairs["source"], "hreflang " + pairs["lang"] + " alternate " + pairs["target"])


@rule(id="https-sitemap-url-http", severity="notice",
      severity_why="hygiene: the entries redirect to HTTPS (sitemap-redirect counts their cost)",
      title="HTTP URL in the sitemap of an HTTPS site",
      why="A sitemap lists the URLs to index; http:// entries on a site that serves HTTPS list "
          "redirects instead of the pages.",
      fix="List the https:// URLs in the sitemap.",
      learn_more=GOOGLE_SITEMAPS, reads=("sitemap_urls",))
def https_sitemap_url_http(crawl, t):
    listed = crawl.sitemap_urls.drop_duplicates("url")
    listed = listed[_starts(listed["url"].astype("str"), "http://")]
    host = _hosts(listed["url"])
    hit = listed[_starts(listed["sitemap"].astype("str"), "https://")
                 | host.isin(_served_over_https(crawl, set(host.dropna())))]
    return found(hit["url"].astype("str"), "listed in " + hit["sitemap"].astype("str"))


@rule(id="missing-hsts", severity="notice",
      severity_why="hygiene: the pages are indexed all the same; HSTS protects visitors",
      title="HTTPS page without HSTS",
      why="Without Strict-Transport-Security, a browser that is sent to http:// (a typed address, "
          "an old link) asks over HTTP first, where the visit can be intercepted.",
      fix="Send Strict-Transport-Security: max-age=31536000 (includeSubDomains once every subdomain "
          "has HTTPS) on HTTPS responses.",
      learn_more=MDN_HSTS, reads=("hsts", "is_html", "status"))
def missing_hsts(crawl, t):
    p = _https_html(crawl, "hsts")
    codes, values = pd.factorize(p["hsts"])  # a site sends one or two headers: each read once
    max_age = pd.Series(values, dtype="str").str.extract(r"(?i)max-age\s*=\s*\"?(\d+)", expand=False)
    protects = np.append(pd.to_numeric(max_age).fillna(0).gt(0).to_numpy(), False)  # -1: no header
    hit = p[~protects[codes]]
    evidence = pd.Series("no Strict-Transport-Security header", index=hit.index).where(
        hit["hsts"].isna(), "Strict-Transport-Security without a max-age: " + hit["hsts"].fillna(""))
    return found(hit["url"], evidence)


RULES = rules_in(globals())
