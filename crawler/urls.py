"""URL handling on the hot path: resolve an href as a browser would, normalise it, scope it.

Each function is pure. ``normalise`` is cached because the same site-wide links appear on
every page: the per-link work is done once per distinct URL, not once per occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

from scrapy.linkextractors import IGNORED_EXTENSIONS
from w3lib.url import safe_url_string

#: hrefs that are not fetched and never "broken"
NON_FETCHABLE_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "sms:", "callto:", "about:",
                         "file:", "ftp:", "blob:")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FILE_EXTENSIONS = frozenset("." + ext for ext in IGNORED_EXTENSIONS)
#: entries of each cache below: what repeats is a site's nav and footer links and a page's own
#: URL over its links, a few thousand at most; caches sized for the crawl's URLs (131072 entries)
#: grew with it until full (22 MB for _resolve_in alone after 10k pages), for hits a small one gets
CACHE_SIZE = 4096


@lru_cache(maxsize=CACHE_SIZE)
def normalise(url: str) -> str | None:
    """The canonical spelling of an absolute URL, or None if it is not http(s).

    Fragment dropped, scheme and host lower-cased, default port and userinfo-less host
    kept as given otherwise, unsafe characters percent-encoded (as a browser sends them),
    an empty path becomes "/". Path case and query order are kept: they are distinct URLs
    to a server, and spotting such near-duplicates is the audit's job.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        host = parts.hostname.lower()
        port = parts.port
    except ValueError:  # bad port, bad IPv6 literal
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username is not None:
        # keep credentials (the request needs them); redaction is the renderers' job
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    path = parts.path or "/"
    try:
        return safe_url_string(urlunsplit((scheme, netloc, path, parts.query, "")))
    except (ValueError, UnicodeError):
        return None


def resolve(base: str, href: str) -> str | None:
    """Resolve ``href`` found on a page whose (normalised) base URL is ``base``.

    None if it is not fetchable (mailto:, javascript:, a bare fragment...).
    """
    href = href.strip()
    if not href or href[0] == "#":
        return None
    lowered = href[:11].lower()
    if lowered.startswith(NON_FETCHABLE_SCHEMES):
        return None
    if lowered.startswith(("http://", "https://")):
        return normalise(href)
    if href[0] == "?":
        try:
            return normalise(urljoin(base, href))
        except ValueError:
            return None
    # A relative reference depends only on the base's directory: pages of one folder share
    # their nav links, so the join is cached per (directory, href).
    cut = base.find("?")
    path_base = base if cut < 0 else base[:cut]
    return _resolve_in(path_base[: path_base.rfind("/") + 1], href)


@lru_cache(maxsize=CACHE_SIZE)
def _resolve_in(base_dir: str, href: str) -> str | None:
    try:
        return normalise(urljoin(base_dir, href))
    except ValueError:
        return None


def origin(url: str) -> str:
    """scheme://host[:port] of a normalised URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def looks_like_file(url: str) -> bool:
    """True for URLs ending in an extension a crawler fetches as a resource (pdf, jpg, zip...)."""
    path = urlsplit(url).path
    dot = path.rfind(".")
    return dot > path.rfind("/") and path[dot:].lower() in _FILE_EXTENSIONS


_DIGITS = re.compile(r"\d+")


@lru_cache(maxsize=CACHE_SIZE)
def trap_pattern(url: str) -> str | None:
    """The URL with its variable parts blanked (numbers, query values); None if it has none.

    Calendar pages, session ids and faceted filters all produce many URLs that share
    a pattern; capping URLs per pattern ends infinite spaces while keeping real pages.
    """
    parts = urlsplit(url)
    pattern = _DIGITS.sub("N", parts.path)
    if not parts.query:
        return pattern if pattern != parts.path else None
    keys = sorted({kv.split("=", 1)[0] for kv in parts.query.split("&") if kv})
    return f"{pattern}?{'&'.join(keys)}"


def repeated_segments(url: str) -> int:
    """The largest number of times one path segment repeats (/a/a/a/ -> 3)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if len(segments) < 2:
        return len(segments)
    counts: dict[str, int] = {}
    for seg in segments:
        counts[seg] = counts.get(seg, 0) + 1
    return max(counts.values())


def scheme_twin(site: str, ports: tuple[int, int] | None = (80, 443)) -> str | None:
    """The same host in the other scheme, for an origin on the site's HTTP or HTTPS port
    (``ports``: HTTP's and HTTPS's, 80 and 443 by default); None on any other port, or if
    ``ports`` is None.

    http://host/ and https://host/ are one site to a search engine (and to a visitor): a link
    written with the other scheme is internal, only a redirect away.
    """
    parts = urlsplit(site)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if ports is None:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    host = host.rsplit(":", 1)[0] if parts.port else host
    for scheme, own, other, twin in (("http", ports[0], "https", ports[1]),
                                     ("https", ports[1], "http", ports[0])):
        if parts.scheme == scheme and port == own:
            return f"{other}://{host}" + ("" if twin == _DEFAULT_PORTS[other] else f":{twin}")
    return None


@dataclass
class Scope:
    """Which URLs a crawl may fetch: its origins (scheme, host, port), minus exclusions.

    Scope is a security boundary as much as a focus: nothing outside it is ever requested,
    whether found in a link, a redirect, a canonical, an hreflang or a sitemap. The HTTP and
    HTTPS origins of a host (on the site's ports; None: no such pairs) are in scope together.
    """

    origins: frozenset[str]
    include: tuple[re.Pattern, ...] = field(default_factory=tuple)
    exclude: tuple[re.Pattern, ...] = field(default_factory=tuple)
    ports: tuple[int, int] | None = (80, 443)
    #: the origins in scope only as the other scheme of one given
    twins: frozenset[str] = frozenset()

    @classmethod
    def for_start(cls, start_url: str, include=(), exclude=(), extra_origins=(),
                  ports: tuple[int, int] | None = (80, 443)) -> "Scope":
        scope = cls(frozenset(), tuple(re.compile(p) for p in include),
                    tuple(re.compile(p) for p in exclude), ports)
        return scope.moved_to(start_url, extra_origins)

    def moved_to(self, url: str, extra_origins=()) -> "Scope":
        """This scope for a site at ``url``'s origin (where the start URL redirected to)."""
        sites = {origin(url), *(origin(normalise(o) or o) for o in extra_origins)}
        twins = {twin for site in sites if (twin := scheme_twin(site, self.ports))} - sites
        return replace(self, origins=frozenset(sites | twins), twins=frozenset(twins))

    def with_origins(self, origins) -> "Scope":
        """This scope with ``origins`` (scheme://host[:port]) in it too, as given."""
        return replace(self, origins=self.origins | frozenset(origins))

    def verdict(self, url: str) -> str | None:
        """None if ``url`` may be fetched, else the skip reason: out-of-scope or excluded."""
        if origin(url) not in self.origins:
            return "out-of-scope"
        if self.include and not any(p.search(url) for p in self.include):
            return "excluded"
        if any(p.search(url) for p in self.exclude):
            return "excluded"
        return None

