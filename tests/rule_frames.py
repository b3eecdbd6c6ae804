"""Small hand-built crawls for rule tests.

``make_crawl`` starts from a clean four-page shop (every rule silent on it) and adds or
overrides the rows a test plants, then runs the same derivation code as ``load_crawl``.
"""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from audit.load import Crawl, build_crawl

ORIGIN = "https://shop.test"
CLEAN_PATHS = ("/", "/shoes", "/hats", "/about")


def u(path: str) -> str:
    """Absolute URL of a path on the test shop (full URLs pass through)."""
    return path if "://" in path else ORIGIN + path


def page(path: str, **facts: Any) -> dict[str, Any]:
    """A pages row: a healthy, indexable HTML page unless ``facts`` say otherwise."""
    url = u(path)
    row = {
        "url": url, "fetch_kind": "page", "found_via": "link", "depth": 1, "referrer": u("/"),
        "method": "GET", "status": 200, "attempt_statuses": [facts.get("status", 200)],
        "content_type": "text/html; charset=utf-8", "response_time": 0.1, "size": 5000,
        "title": f"Title of {path}", "meta_description": f"All about {path}", "canonical": url,
        "canonical_count": 1, "h1_count": 1, "word_count": 300, "content_hash": f"hash {path}",
        "hreflang": [], "outlinks": 4, "hsts": "max-age=31536000",
    }
    row.update({key: u(value) if key in ("canonical", "link_canonical", "redirect_target",
                                         "meta_refresh_url") and value else value
                for key, value in facts.items()})
    return row


def skipped(path: str, reason: str, **facts: Any) -> dict[str, Any]:
    """A pages row for a URL met but not fetched."""
    return {"url": u(path), "fetch_kind": "page", "found_via": "link", "skip_reason": reason, **facts}


def link(source: str, target: str, kind: str = "a", anchor: str = "link", nofollow: int = 0) -> dict:
    return {"source": u(source), "target": u(target), "kind": kind, "anchor": anchor,
            "nofollow": nofollow}


def recheck(path: str, attempt: int, status: int | None = None, error: str | None = None) -> dict:
    return {"url": u(path), "attempt": attempt, "waited": 1.0, "status": status, "error": error}


def sitemap_file(path: str, found_via: str = "robots", **facts: Any) -> dict[str, Any]:
    """A pages row for a sitemap file, named in robots.txt unless ``found_via`` says otherwise
    ('guess': tried at /sitemap.xml, 'sitemap-index': listed by another sitemap)."""
    return page(path, fetch_kind="sitemap", found_via=found_via, content_type="application/xml", title=None,
                canonical=None, canonical_count=None, h1_count=None, **facts)


def clean_pages() -> list[dict[str, Any]]:
    pages = [page(path) for path in CLEAN_PATHS]
    pages[0].update(found_via="start", depth=0, referrer=None)
    return pages + [
        page("/robots.txt", fetch_kind="robots", content_type="text/plain", title=None,
             canonical=None, canonical_count=None, h1_count=None),
        sitemap_file("/sitemap.xml"),
    ]


def clean_links() -> list[dict]:
    nav = [link(src, dst, anchor=dst.strip("/") or "home") for src in CLEAN_PATHS
           for dst in CLEAN_PATHS if src != dst]
    return nav


def make_crawl(pages: Iterable[dict] = (), links: Iterable[dict] = (), sitemap: Iterable[str] = (),
               rechecks: Iterable[dict] = (), probe: dict | None = None, nav: bool = True,
               certificates: Iterable[dict] = (), settings: dict | None = None) -> Crawl:
    """The clean shop plus ``pages`` (replacing rows with the same URL), ``links``, sitemap
    entries (paths or URLs), re-checks and certificate checks; ``settings`` as the crawl recorded
    them (e.g. its custom searches, whose pages columns ``pages`` then give). With ``nav``, the home page links
    to every planted page."""
    rows = {row["url"]: row for row in clean_pages()}
    planted = list(pages)
    rows.update({row["url"]: row for row in planted})
    all_links = clean_links() + list(links)
    if nav:
        all_links += [link("/", row["url"], anchor="nav") for row in planted
                      if row["url"] != u("/") and row.get("fetch_kind", "page") == "page"]
    sitemap_rows = [{"sitemap": u("/sitemap.xml"), "url": u(p), "lastmod": None}
                    for p in (*CLEAN_PATHS, *sitemap)]
    meta = {"id": 1, "start_url": u("/"), "state": "complete", "settings": dict(settings or {}), "stats": {},
            "probe": probe or {"url": u("/zz-surely-missing"), "status": 404, "content_hash": "h404"},
            "certificates": list(certificates)}
    return build_crawl(meta, pd.DataFrame(list(rows.values())), pd.DataFrame(all_links),
                       pd.DataFrame(sitemap_rows), pd.DataFrame(list(rechecks)) if rechecks else None)
