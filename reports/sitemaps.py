"""XML sitemaps of a crawl: the URLs a search engine should index, as sitemaps.org files.

Only the indexable pages go in (crawlable, 200, not a redirect, not noindex, canonical
absent or self: ``pages.indexable``) that are HTML: a sitemap listing a redirect, a noindex
or a canonicalised URL sends search engines mixed signals. A file holds at most 50,000 URLs
and 50 MB uncompressed (the protocol's limits); more than one file get a sitemap index.
"""

from __future__ import annotations

import email.utils
import gzip
import re
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from audit.load import Crawl

MAX_URLS = 50_000
MAX_BYTES = 50 * 1024 * 1024
#: the schema's longest <loc>
MAX_LOC = 2048
#: Google reads at most this many <image:image> per <url>
MAX_IMAGES = 1000
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"
_QUOTES = {'"': "&quot;", "'": "&apos;"}
#: characters XML 1.0 cannot carry at all, escaped or not
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class SitemapEntry:
    loc: str
    lastmod: str | None = None
    images: list[str] = field(default_factory=list)


@dataclass
class Written:
    files: list[Path]  # the sitemap files, the index (if any) last
    index: Path | None
    urls: int
    skipped: dict[str, int]  # why some indexable pages were left out, and how many


def lastmod(header: str | None) -> str | None:
    """A Last-Modified header (an HTTP date) as a W3C datetime; None if absent or unreadable."""
    if not header:
        return None
    try:
        when = email.utils.parsedate_to_datetime(header.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def sitemap_pages(crawl: Crawl) -> pd.Series:
    """Mask on ``crawl.pages``: the pages a sitemap should list."""
    p = crawl.pages
    return p["indexable"] & p["is_html"] & p["fetch_kind"].eq("page")


def entries(crawl: Crawl, *, images: bool = False) -> list[SitemapEntry]:
    """The sitemap entries of a crawl, in crawl order; with ``images``, each page's <img> targets."""
    listed = crawl.pages.loc[sitemap_pages(crawl), ["url", "last_modified"]]
    per_page: dict[str, list[str]] = {}
    if images and len(listed):
        img = crawl.graph.query("SELECT source, target FROM links WHERE kind = 'img' AND source IN "
                                "(SELECT url FROM listed) QUALIFY row_number() OVER (PARTITION BY source "
                                "ORDER BY row) <= ? ORDER BY row", (MAX_IMAGES,),
                                {"listed": pd.DataFrame({"url": listed["url"].astype(object).to_numpy()})})
        for source, target in zip(img["source"].tolist(), img["target"].tolist()):
            per_page.setdefault(source, []).append(target)
    return [SitemapEntry(url, lastmod(modified if isinstance(modified, str) else None),
                         per_page.get(url, [])[:MAX_IMAGES])
            for url, modified in zip(listed["url"], listed["last_modified"])]


def _loc_ok(url: str) -> bool:
    return len(url) <= MAX_LOC and not _NOT_XML.search(url)


def _url_xml(entry: SitemapEntry) -> str:
    parts = [f"<url><loc>{escape(entry.loc, _QUOTES)}</loc>"]
    if entry.lastmod:
        parts.append(f"<lastmod>{entry.lastmod}</lastmod>")
    for image in entry.images:
        if _loc_ok(image):
            parts.append(f"<image:image><image:loc>{escape(image, _QUOTES)}</image:loc></image:image>")
    parts.append("</url>\n")
    return "".join(parts)


def _head(images: bool) -> str:
    extra = f' xmlns:image="{IMAGE_NS}"' if images else ""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}"{extra}>\n'


_TAIL = "</urlset>\n"


def _chunks(items: list[str], head: str, tail: str, max_urls: int, max_bytes: int) -> list[list[str]]:
    """``items`` (XML fragments) split into files of at most max_urls items and max_bytes bytes;
    no file for no item."""
    room = max_bytes - len(head.encode()) - len(tail.encode())
    files: list[list[str]] = [[]]
    size = 0
    for item in items:
        length = len(item.encode())
        if files[-1] and (len(files[-1]) >= max_urls or size + length > room):
            files.append([])
            size = 0
        files[-1].append(item)
        size += length
    return files if files[0] else []


def _write(path: Path, text: str, compress: bool) -> Path:
    data = text.encode("utf-8")
    if compress:
        path = path.with_name(path.name + ".gz")
        # mtime=0: the same crawl gives byte-identical files
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)
    return path


def write_sitemaps(items: list[SitemapEntry], out: Path, base_url: str, *, compress: bool = False,
                   name: str = "sitemap", max_urls: int = MAX_URLS, max_bytes: int = MAX_BYTES) -> Written:
    """Write ``items`` as ``name.xml`` (one file) or ``name-1.xml``... with ``name-index.xml``
    (URLs in the index: ``base_url`` + file name, where the files will be served)."""
    out.mkdir(parents=True, exist_ok=True)
    kept = [entry for entry in items if _loc_ok(entry.loc)]
    skipped = {"unusable URL (longer than 2,048 characters or not XML text)": len(items) - len(kept)}
    with_images = any(entry.images for entry in kept)
    head = _head(with_images)
    groups = _chunks([_url_xml(entry) for entry in kept], head, _TAIL, max_urls, max_bytes)
    if not groups:  # the schema wants one <url> at least: nothing indexable, no file
        return Written([], None, 0, {why: n for why, n in skipped.items() if n})
    single = len(groups) == 1
    files = [_write(out / (f"{name}.xml" if single else f"{name}-{number}.xml"),
                    head + "".join(group) + _TAIL, compress)
             for number, group in enumerate(groups, 1)]
    index = None
    if not single:
        base = base_url if base_url.endswith("/") else base_url + "/"
        rows = "".join(f"<sitemap><loc>{escape(base + path.name, _QUOTES)}</loc></sitemap>\n" for path in files)
        index = _write(out / f"{name}-index.xml",
                       f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">\n'
                       f"{rows}</sitemapindex>\n", compress)
        files.append(index)
    return Written(files, index, len(kept), {why: n for why, n in skipped.items() if n})
