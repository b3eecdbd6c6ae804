"""What a search engine reads in an HTML page: facts only, no judging.

One lxml parse per page, its elements that carry facts listed once; then a table of pure
functions (EXTRACTORS), each reading its facts of the parsed page. Links are resolved
the way a browser does (``<base href>``, relative, protocol-relative) and de-duplicated
per page before anything else sees them. Malformed HTML, odd encodings and NUL bytes
give whatever facts can be read, never an exception.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from lxml import etree

from .css import style_attribute_references, stylesheet_references
from .minhash import signature
from .structured import StructuredData, is_json_ld, structured_data
from .urls import resolve

#: link kind by (tag, attribute); <link> is decided by its rel
_TAG_LINKS = {"a": ("href", "a"), "area": ("href", "a"), "img": ("src", "img"),
              "script": ("src", "script"), "iframe": ("src", "iframe"), "embed": ("src", "iframe"),
              "source": ("src", "img"), "video": ("src", "img"), "audio": ("src", "img")}
_RESOURCE_RELS = {"stylesheet": "css", "icon": "link", "preload": "link", "manifest": "link",
                  "apple-touch-icon": "link", "shortcut": "link"}
_WANTED_TAGS = ("title", "meta", "link", "base", "h1", *_TAG_LINKS)
_REFRESH_URL = re.compile(r"""^\s*\d*(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?['"]?([^'"]*)""", re.I)
_PARSER = etree.HTMLParser(encoding="utf-8", recover=True, no_network=True, huge_tree=True,
                           remove_comments=True, remove_pis=True)


@dataclass
class Link:
    target: str
    kind: str  # a, img, script, css, css-url, link, iframe, canonical, hreflang, meta-refresh
    anchor: str = ""
    nofollow: bool = False


@dataclass
class PageFacts:
    title: str | None = None
    meta_description: str | None = None
    meta_robots: str | None = None
    canonical: str | None = None
    canonical_count: int = 0
    hreflang: list[list[str]] = field(default_factory=list)
    meta_refresh: str | None = None
    meta_refresh_url: str | None = None
    h1_count: int = 0
    h1: str | None = None  # the first <h1>'s text
    word_count: int = 0
    content_hash: str | None = None
    minhash: bytes | None = None  # MinHash signature of the visible text (crawler.minhash)
    structured: StructuredData | None = None  # JSON-LD, Microdata, RDFa items (crawler.structured)
    links: list[Link] = field(default_factory=list)


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split())


def _visible_words(root) -> list[str]:
    body = root.find("body")
    if body is None:
        body = root
    etree.strip_elements(body, "script", "style", "noscript", "template", with_tail=False)
    return etree.tostring(body, method="text", encoding=str).split()


_KEPT_TAGS = ("html", "head", "body", "script", "style", "noscript", "template", *_WANTED_TAGS)
#: any tag but the ones facts are read from
_OTHER_TAGS = re.compile(r"</?(?!(?:%s)\b)[a-zA-Z][^>]*>" % "|".join(_KEPT_TAGS), re.I)


def parse_html(text: str):
    """An lxml root for ``text``, or None when there is no document at all.

    libxml2 stops building the tree past 2,048 nested elements, where a browser goes on;
    such a page is parsed again with every element that carries no fact flattened away.
    """
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        root = etree.fromstring(text.encode("utf-8", "replace"), _PARSER)
        if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in _PARSER.error_log):
            root = etree.fromstring(_OTHER_TAGS.sub(" ", text).encode("utf-8", "replace"), _PARSER)
        return root
    except (etree.LxmlError, ValueError):
        return None


class _Page:
    """A parsed page as the extractors read it: its elements that carry facts, in document
    order and by tag, and the base its links resolve against."""

    def __init__(self, root, text: str, url: str) -> None:
        self.root, self.text, self.url = root, text, url
        #: (tag, element) in document order
        self.elements = [(el.tag, el) for el in root.iter(*_WANTED_TAGS)]
        self.tags: dict[str, list] = {}
        for tag, el in self.elements:
            self.tags.setdefault(tag, []).append(el)
        self.base = next((resolve(url, el.get("href")) or url for el in self.tags.get("base", ())
                          if el.get("href")), url)
        self.description, self.robots, self.refresh = _meta_roles(self.tags.get("meta", ()))

    def all(self, tag: str) -> list:
        return self.tags.get(tag, [])

    def first(self, tag: str):
        found = self.tags.get(tag)
        return found[0] if found else None

    def resolve(self, href: str) -> str | None:
        return resolve(self.base, href)


def _meta_roles(metas) -> tuple:
    """The <meta> elements that say something: the first description, every robots or
    googlebot one, and the first refresh that is neither of those."""
    description, robots, refresh = None, [], None
    for el in metas:
        name = (el.get("name") or "").lower()
        if name == "description" and description is None:
            description = el
        elif name in ("robots", "googlebot"):
            robots.append(el)
        elif (el.get("http-equiv") or "").lower() == "refresh" and refresh is None:
            refresh = el
    return description, robots, refresh


def _rels(el) -> list[str]:
    return (el.get("rel") or "").lower().split()


def _refresh_target(content: str) -> str:
    match = _REFRESH_URL.match(content)
    return match.group(1).strip() if match else ""


def _hreflang_of(el) -> str | None:
    """The language of a <link rel=alternate hreflang>, lower-cased; None for any other <link>."""
    rels = _rels(el)
    if "canonical" in rels or "alternate" not in rels or not el.get("hreflang"):
        return None
    return el.get("hreflang").strip().lower()


# --- the extractors: each returns its facts of a page, in the order EXTRACTORS names them ---

def _title(page: _Page) -> tuple:
    el = page.first("title")
    return (_text(el) if el is not None else None,)


def _meta_description(page: _Page) -> tuple:
    return ((page.description.get("content") or "").strip() if page.description is not None else None,)


def _meta_robots(page: _Page) -> tuple:
    robots = [(el.get("content") or "").strip().lower() for el in page.robots]
    return (", ".join(r for r in robots if r) if robots else None,)


def _meta_refresh(page: _Page) -> tuple:
    if page.refresh is None:
        return None, None
    content = page.refresh.get("content") or ""
    target = _refresh_target(content)
    return content, (page.resolve(target) if target else None)


def _canonical(page: _Page) -> tuple:
    canonicals = [el for el in page.all("link") if "canonical" in _rels(el)]
    targets = (page.resolve(el.get("href")) for el in canonicals if el.get("href"))
    return next((target for target in targets if target is not None), None), len(canonicals)


def _hreflang(page: _Page) -> tuple:
    pairs = []
    for el in page.all("link"):
        lang = _hreflang_of(el)
        target = page.resolve(el.get("href") or "") if lang is not None else None
        if target:
            pairs.append([lang, target])
    return (pairs,)


def _h1(page: _Page) -> tuple:
    h1s = page.all("h1")
    return len(h1s), (_text(h1s[0])[:200] if h1s else None)


def _structured(page: _Page) -> tuple:
    scripts = [el.text or "" for el in page.all("script") if is_json_ld(el)]
    return (structured_data(scripts, page.text, page.url),)


#: a link as written on the page: (href, kind, anchor, nofollow), before it is resolved
_Href = tuple[str | None, str, str, bool]


def _meta_link(page: _Page, el) -> _Href | None:
    target = _refresh_target(el.get("content") or "") if el is page.refresh else ""
    return (target, "meta-refresh", "", False) if target else None


def _link_link(page: _Page, el) -> _Href | None:
    rels, href = _rels(el), el.get("href")
    if "canonical" in rels:
        return href, "canonical", "", False
    lang = _hreflang_of(el)
    if lang is not None:
        return href, "hreflang", lang, False
    kind = next((_RESOURCE_RELS[r] for r in rels if r in _RESOURCE_RELS), None)
    return (href, kind, "", False) if kind else None


def _tag_link(page: _Page, el) -> _Href | None:
    attr, kind = _TAG_LINKS[el.tag]
    href = el.get(attr)
    if not href:
        return None
    if kind == "a":
        return href, "a", _text(el)[:200], "nofollow" in (el.get("rel") or "").lower()
    if kind == "img":
        return href, "img", (el.get("alt") or "")[:200], False
    return href, kind, "", False


#: the link of an element (None if it has none), by its tag
_LINK_READERS: dict[str, Callable[[_Page, Any], _Href | None]] = {
    "meta": _meta_link, "link": _link_link, **{tag: _tag_link for tag in _TAG_LINKS}}


def _links(page: _Page) -> tuple:
    """Every link of the page in document order, then those of its CSS (<style> elements and
    style attributes, whose url()s resolve against the page's base, as a browser does), one
    per (target, kind): followed if any of its links is."""
    base = page.base
    seen: dict[tuple[str, str], Link] = {}

    def add(href: str | None, kind: str, anchor: str = "", nofollow: bool = False) -> None:
        target = resolve(base, href) if href else None
        if target is None:
            return
        link = seen.get((target, kind))
        if link is None:
            seen[(target, kind)] = Link(target, kind, anchor, nofollow)
        elif link.nofollow and not nofollow:
            link.nofollow = False  # one followed link is enough for a crawler

    for tag, el in page.elements:
        reader = _LINK_READERS.get(tag)
        written = reader(page, el) if reader else None
        if written:
            add(*written)
    for style in page.root.iter("style"):
        for href, kind in stylesheet_references(style.text or ""):
            add(href, kind)
    for style in page.root.xpath("//@style"):
        for href, kind in style_attribute_references(style):
            add(href, kind)
    return (list(seen.values()),)


def _visible_text(page: _Page) -> tuple:
    words = _visible_words(page.root)
    digest = hashlib.blake2b(" ".join(words).encode("utf-8", "replace"), digest_size=12).hexdigest()
    return len(words), digest, signature(words)


#: (PageFacts fields, the extractor that reads them), run in this order: the visible text last,
#: as reading it strips scripts and styles (JSON-LD, CSS) from the tree
EXTRACTORS: tuple[tuple[tuple[str, ...], Callable[[_Page], tuple]], ...] = (
    (("title",), _title),
    (("meta_description",), _meta_description),
    (("meta_robots",), _meta_robots),
    (("meta_refresh", "meta_refresh_url"), _meta_refresh),
    (("canonical", "canonical_count"), _canonical),
    (("hreflang",), _hreflang),
    (("h1_count", "h1"), _h1),
    (("structured",), _structured),
    (("links",), _links),
    (("word_count", "content_hash", "minhash"), _visible_text),
)


def extract(text: str, url: str) -> PageFacts:
    """Facts of the HTML ``text`` served at ``url``."""
    root = parse_html(text)
    if root is None:
        return PageFacts()
    page = _Page(root, text, url)
    facts: dict[str, Any] = {}
    for names, extractor in EXTRACTORS:
        facts.update(zip(names, extractor(page), strict=True))
    return PageFacts(**facts)


def link_header_canonical(header: str | None, url: str) -> str | None:
    """The rel=canonical target of an HTTP Link header, normalised."""
    if not header:
        return None
    for part in header.split(","):
        if "rel" in part and re.search(r"""rel\s*=\s*"?[^";]*\bcanonical\b""", part, re.I):
            match = re.search(r"<([^>]*)>", part)
            if match:
                return resolve(url, match.group(1))
    return None


def looks_like_html(content_type: str | None, body: bytes) -> bool:
    """True if the response is HTML, by its Content-Type or (when absent) its first bytes."""
    if content_type:
        ct = content_type.lower()
        return "html" in ct
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<head" in head


__all__ = ["Link", "PageFacts", "extract", "link_header_canonical", "looks_like_html", "parse_html"]
