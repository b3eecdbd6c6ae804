"""URL families: the URL spaces a site makes by the thousand, and what their pages say.

``url_family`` names a URL's family from the URL alone: a CMS family (WordPress's and most blog
engines': feeds, ``?replytocom=``, search, login, attachment pages, ``?p=`` short links, author,
date and paginated archives, comment pages) or a generic one, its path template plus its set of
query keys (``/{slug}?action=edit``, ``/shop/{n}``). A URL that is one of a kind (no number, no
query) has no family.

``FamilySampler`` learns families as a crawl goes: once the first ``sample_size`` fetched pages
of a family all say the same kind of thing a search engine drops (noindex, canonicalised
elsewhere, a duplicate of an earlier page), the family is "sampled out": its other members are
recorded, not fetched. Families whose sample holds one page worth indexing (or an error, a
redirect, a file) are fetched in full. Pure: the crawl session feeds it and asks it.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: what a fetched page says, for its family's sample
VERDICTS = ("noindex", "canonicalised", "duplicate", "redirect", "error", "indexable", "other")
#: the verdicts that let a family be sampled out: pages a search engine drops, whose links the
#: rest of the site repeats (a redirect's or an error's target could be the only way to a page)
WASTE_VERDICTS = frozenset({"noindex", "canonicalised", "duplicate"})
#: the default sample: pages of a family fetched before it may be sampled out
SAMPLE_SIZE = 30

#: the CMS families, from the most specific: a URL belongs to the first that matches
CMS_FAMILIES = ("replytocom", "feed", "search", "login", "attachment", "shortlink", "author-archive",
                "date-archive", "comment-pages", "paginated-archive")

#: what a URL family_of gives a family has: a query or an all-digit path segment, or the path of a
#: CMS family (any case); a URL of printable ASCII with neither has none. Kept beside family_of, whose
#: rules they follow: the audit searches a whole column for them (Arrow's regexes, a pattern each:
#: one regex of all of them costs several times more) and maps only the URLs that match.
FAMILY_SIGN_QUERY_OR_NUMBER = r"\?|/[0-9]+(?:/|$)"
FAMILY_SIGN_CMS_PATH = r"/feed|/search/|/wp-login\.php|/wp-admin/|/attachment/|/author/|/comment-page-|/page/"

_FEED_PATH = re.compile(r"/feed(?:/(?:rss2?|atom|rdf|rss-http))?/?$")
_DATE_PATH = re.compile(r"^/\d{4}/(?:\d{1,2}/(?:\d{1,2}/)?)?(?:page/\d+/?)?$")
_COMMENT_PAGE = re.compile(r"/comment-page-\d+/?$")
_PAGED_PATH = re.compile(r"/page/\d+/?$")
_NUMBER_SEGMENT = re.compile(r"(?<=/)\d+(?=/|$)")
_LAST_SEGMENT = re.compile(r"/([^/]+)(/?)$")
_HAS_DIGIT = re.compile(r"\d").search
#: query keys whose value says what the URL is (an edit form, a diff, a print view), kept in the
#: generic family; other values are blanked
_VERB_KEYS = frozenset({"action", "do", "mode", "view", "format", "output", "type"})
_NOINDEX = re.compile(r"\b(?:noindex|none)\b")
_BITS = {verdict: 1 << i for i, verdict in enumerate(VERDICTS)}
_WASTE_MASK = sum(_BITS[v] for v in WASTE_VERDICTS)
_SHIFT = len(VERDICTS)


def family_of(url: str) -> str | None:
    """The family of a (normalised) URL, or None if it is one of a kind. Uncached: the crawl
    asks once per page, and a cache would keep every URL crawled (url_family caches it)."""
    # split by hand: a normalised URL is scheme://netloc/path[?query], and urlsplit would cost
    # several times the rest on the crawl's and the audit's hot paths
    start = url.find("/", url.find("://") + 3)
    if start < 0:
        return None
    path, _, query = url[start:].partition("?")
    pairs = [kv.partition("=") for kv in query.split("&") if kv]
    keys = {key.lower() for key, _, _ in pairs}
    named = _cms_family(path.lower(), keys)
    if named:
        return named
    template = _NUMBER_SEGMENT.sub("{n}", path) if _HAS_DIGIT(path) else path
    if not keys:
        return template if template != path else None
    last = _LAST_SEGMENT.search(template)
    if last and "." not in last[1] and last[1] != "{n}":
        # the same parameters on every article, product or page make one family
        template = f"{template[:last.start()]}/{{slug}}{last[2]}"
    shown = sorted({f"{key}={value}" if key.lower() in _VERB_KEYS else key for key, _, value in pairs})
    return f"{template}?{'&'.join(shown)}"


#: family_of, cached for the audit, which maps the same URLs again and again
url_family = lru_cache(maxsize=65536)(family_of)


def _cms_family(path: str, keys: set[str]) -> str | None:
    if "replytocom" in keys:
        return "replytocom"
    if "feed" in keys or _FEED_PATH.search(path):
        return "feed"
    if "s" in keys or path.startswith("/search/"):
        return "search"
    if path.endswith("/wp-login.php") or path.startswith("/wp-admin/"):
        return "login"
    if "attachment_id" in keys or "/attachment/" in path:
        return "attachment"
    if keys and keys <= {"p", "page_id", "preview"} and path in ("/", "/index.php"):
        return "shortlink"
    if "author" in keys or path.startswith("/author/"):
        return "author-archive"
    if _DATE_PATH.match(path) or ("m" in keys and path in ("/", "/index.php")):
        return "date-archive"
    if _COMMENT_PAGE.search(path) or "cpage" in keys:
        return "comment-pages"
    if _PAGED_PATH.search(path) or "paged" in keys:
        return "paginated-archive"
    return None


def page_verdict(url: str, row: dict, duplicate: bool) -> str:
    """What a fetched page says (one of VERDICTS), from its pages row; ``duplicate``: its text
    is that of an earlier page."""
    status = row.get("status")
    if row.get("error") or status is None or status >= 400:
        return "error"
    if 300 <= status < 400:
        return "redirect"
    if _NOINDEX.search(f"{row.get('meta_robots') or ''} {row.get('x_robots_tag') or ''}".lower()):
        return "noindex"
    canonical = row.get("canonical") or row.get("link_canonical")
    if canonical and canonical != url:
        return "canonicalised"
    if duplicate:
        return "duplicate"
    if status == 200 and "html" in (row.get("content_type") or "").lower():
        return "indexable"
    return "other"


class FamilySampler:
    """Per family: the verdicts of its first ``sample_size`` fetched pages, and whether they
    sampled it out. Families are held by their hash, with a small integer each (how many pages
    seen, and a bit per verdict met), so a million families cost tens of MB, not hundreds."""

    def __init__(self, sample_size: int = SAMPLE_SIZE):
        if sample_size < 1:
            raise ValueError(f"sample_size must be at least 1, got {sample_size}")
        self.sample_size = sample_size
        self._state: dict[int, int] = {}  # hash(family) -> seen << _SHIFT | verdict bits
        self._out: dict[str, str] = {}  # sampled-out family -> its sample's verdict
        self._texts: set[int] = set()  # hashes of the content hashes of fetched pages

    def is_duplicate(self, content_hash: str | None) -> bool:
        """Whether an earlier page had this text; remembers it for the next."""
        if not content_hash:
            return False
        key = hash(content_hash)
        if key in self._texts:
            return True
        self._texts.add(key)
        return False

    def observe(self, family: str, verdict: str) -> None:
        """A fetched page of ``family`` said ``verdict``."""
        key = hash(family)
        state = self._state.get(key, 0)
        seen = state >> _SHIFT
        if seen >= self.sample_size:
            return  # decided
        bits = (state | _BITS[verdict]) & ((1 << _SHIFT) - 1)
        seen += 1
        self._state[key] = seen << _SHIFT | bits
        if seen == self.sample_size and not bits & ~_WASTE_MASK:
            self._out[family] = "+".join(v for v in VERDICTS if bits & _BITS[v])

    def mark_sampled_out(self, family: str, verdict: str) -> None:
        """Restore a decision read back from the store (a resumed crawl)."""
        self._out[family] = verdict

    def sampled_out_url(self, url: str) -> str | None:
        """sampled_out of the URL's family (none is looked up before a family is sampled out)."""
        return self._out.get(family_of(url)) if self._out else None

    def sampled_out(self, family: str | None) -> str | None:
        """The sample's verdict if ``family`` is sampled out (e.g. 'noindex'), else None."""
        return self._out.get(family) if family is not None else None

    @property
    def sampled_out_families(self) -> dict[str, str]:
        return dict(self._out)
