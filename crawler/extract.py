"""What a search engine reads in an HTML page: facts only, no judging.

One lxml parse per page and one pass over the elements that matter. Links are resolved
the way a browser does (``<base href>``, relative, protocol-relative) and de-duplicated
per page before anything else sees them. Malformed HTML, odd encodings and NUL bytes
give whatever facts can be read, never an exception.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

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


def extract(text: str, url: str) -> PageFacts:
    """Facts of the HTML ``text`` served at ``url``."""
    facts = PageFacts()
    root = parse_html(text)
    if root is None:
        return facts
    elements = list(root.iter(*_WANTED_TAGS))
    facts.structured = structured_data([el.text or "" for el in elements if el.tag == "script" and is_json_ld(el)],
                                       text, url)
    base = url
    for el in elements:
        if el.tag == "base" and el.get("href"):
            base = resolve(url, el.get("href")) or url
            break

    robots: list[str] = []
    seen: dict[tuple[str, str], Link] = {}

    def add(href: str | None, kind: str, anchor: str = "", nofollow: bool = False) -> None:
        if not href:
            return
        target = resolve(base, href)
        if target is None:
            return
        key = (target, kind)
        if key not in seen:
            seen[key] = Link(target, kind, anchor, nofollow)
        elif seen[key].nofollow and not nofollow:
            seen[key].nofollow = False  # one followed link is enough for a crawler

    for el in elements:
        tag = el.tag
        if tag == "title":
            if facts.title is None:
                facts.title = _text(el)
        elif tag == "meta":
            name = (el.get("name") or "").lower()
            if name == "description" and facts.meta_description is None:
                facts.meta_description = (el.get("content") or "").strip()
            elif name in ("robots", "googlebot"):
                robots.append((el.get("content") or "").strip().lower())
            elif (el.get("http-equiv") or "").lower() == "refresh" and facts.meta_refresh is None:
                facts.meta_refresh = el.get("content") or ""
                match = _REFRESH_URL.match(facts.meta_refresh)
                target = match.group(1).strip() if match else ""
                if target:
                    facts.meta_refresh_url = resolve(base, target)
                    add(target, "meta-refresh")
        elif tag == "link":
            rels = (el.get("rel") or "").lower().split()
            href = el.get("href")
            if "canonical" in rels:
                facts.canonical_count += 1
                if facts.canonical is None and href:
                    facts.canonical = resolve(base, href)
                add(href, "canonical")
            elif "alternate" in rels and el.get("hreflang"):
                target = resolve(base, href or "")
                if target:
                    facts.hreflang.append([el.get("hreflang").strip().lower(), target])
                add(href, "hreflang", el.get("hreflang").strip().lower())
            else:
                kind = next((_RESOURCE_RELS[r] for r in rels if r in _RESOURCE_RELS), None)
                if kind:
                    add(href, kind)
        elif tag == "h1":
            facts.h1_count += 1
            if facts.h1 is None:
                facts.h1 = _text(el)[:200]
        elif tag in _TAG_LINKS:
            attr, kind = _TAG_LINKS[tag]
            href = el.get(attr)
            if not href:
                continue
            if kind == "a":
                rel = (el.get("rel") or "").lower()
                add(href, "a", _text(el)[:200], "nofollow" in rel)
            elif kind == "img":
                add(href, "img", (el.get("alt") or "")[:200])
            else:
                add(href, kind)

    # CSS in the page: <style> elements and style attributes (read before the visible text is
    # taken, which drops <style>); their url()s resolve against the page's base, as a browser does
    for style in root.iter("style"):
        for href, kind in stylesheet_references(style.text or ""):
            add(href, kind)
    for style in root.xpath("//@style"):
        for href, kind in style_attribute_references(style):
            add(href, kind)

    if robots:
        facts.meta_robots = ", ".join(r for r in robots if r)
    words = _visible_words(root)
    facts.word_count = len(words)
    facts.content_hash = hashlib.blake2b(" ".join(words).encode("utf-8", "replace"),
                                         digest_size=12).hexdigest()
    facts.minhash = signature(words)
    facts.links = list(seen.values())
    return facts


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
