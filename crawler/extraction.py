"""Custom extraction and search: what the user asked to read from every HTML page.

Pure functions, no crawling: ``parse_extractor``/``parse_search`` turn the specs of
``--extract``/``--search``/``--search-absent`` (and the job file's tables) into checked
definitions, raising ValueError that names the bad one; ``page_extractions`` applies them to
one page's HTML.

Extraction spec: ``[MODE:]KIND:EXPRESSION``
    KIND is ``css`` or ``xpath`` (parsel: ``::text``, ``::attr(name)``, ``@name``, ``text()``)
    or ``regex`` (on the HTML source; the first group if the pattern has one, else the match).
    MODE is ``first`` (default: the first non-empty value), ``all`` (every value, in page
    order) or ``count`` (how many non-empty values). An element selected whole gives its HTML.
Search spec: ``[html:|text:][regex:]TEXT``
    searched in the HTML source (default) or the page's visible text (``text:``); TEXT is a
    plain, case-sensitive substring unless ``regex:`` (Python syntax; ``(?i)`` ignores case).
    The result is the number of matches; ``--search-absent`` flags pages with none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from lxml import etree
from parsel import Selector

EXTRACT_KINDS = ("css", "xpath", "regex")
EXTRACT_MODES = ("first", "all", "count")
SEARCH_SCOPES = ("html", "text")
#: names become column names (extract_NAME, search_NAME) and job-file keys
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
EXTRACT_PREFIX = "extract_"
SEARCH_PREFIX = "search_"
#: values kept per extractor and page, and characters kept per value: a hostile page cannot
#: fill the store
MAX_VALUES = 1000
MAX_VALUE_CHARS = 10_000
_INVISIBLE = ("script", "style", "noscript", "template")
_EMPTY_PAGE = Selector(text="<html><body></body></html>")


@dataclass(frozen=True)
class Extractor:
    name: str
    kind: str  # css, xpath, regex
    expression: str
    mode: str = "first"  # first, all, count

    def values(self, page: Selector | None, html: str) -> list[str]:
        """The non-empty values this extractor reads on a page (``page``: its parse, None when
        only regexes run)."""
        if self.kind == "regex":
            raw = (m.group(1) if m.re.groups else m.group(0) for m in _compiled(self.expression).finditer(html))
        elif self.kind == "css":
            raw = page.css(self.expression).getall()
        else:
            raw = page.xpath(self.expression).getall()
        values = []
        for value in raw:
            value = (value or "").strip()
            if value:
                values.append(value[:MAX_VALUE_CHARS])
                if len(values) >= MAX_VALUES and self.mode != "count":
                    break
        return values


@dataclass(frozen=True)
class Search:
    name: str
    text: str
    regex: bool = False
    scope: str = "html"  # html, text
    absent: bool = False  # --search-absent: pages lacking it are the finding

    def count(self, html: str, visible: str | None) -> int:
        haystack = html if self.scope == "html" else visible or ""
        if self.regex:
            return sum(1 for _ in _compiled(self.text).finditer(haystack))
        return haystack.count(self.text)


_PATTERNS: dict[str, re.Pattern] = {}


def _compiled(pattern: str) -> re.Pattern:
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(pattern)
    return _PATTERNS[pattern]


def check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"{what} name {name!r} must be a letter then up to 39 letters, digits, '_' or '-'")
    return name


def split_spec(text: str, what: str) -> tuple[str, str]:
    """``NAME=SPEC`` as given on the command line -> (name, spec)."""
    name, sep, spec = text.partition("=")
    if not sep or not spec:
        raise ValueError(f"{what} {text!r} must be NAME=SPEC")
    return check_name(name.strip(), what), spec


def parse_extractor(name: str, spec: str) -> Extractor:
    """The extractor ``spec`` describes (module docstring), checked on an empty page; ValueError
    names the extractor and what is wrong."""
    check_name(name, "extract")
    if not isinstance(spec, str):
        raise ValueError(f"extract {name}: must be a string such as 'css:h1::text', not {spec!r}")
    mode, rest = "first", spec
    head, sep, tail = spec.partition(":")
    if sep and head in EXTRACT_MODES:
        mode, rest = head, tail
    kind, sep, expression = rest.partition(":")
    if not sep or kind not in EXTRACT_KINDS or not expression.strip():
        raise ValueError(f"extract {name}={spec!r}: expected [first:|all:|count:]css:SELECTOR, "
                         "xpath:EXPRESSION or regex:PATTERN")
    extractor = Extractor(name, kind, expression.strip() if kind != "regex" else expression, mode)
    try:
        if kind == "regex":
            re.compile(expression)
        else:
            extractor.values(_EMPTY_PAGE, "")
    except (re.error, ValueError, SyntaxError, RuntimeError) as exc:  # cssselect's errors derive from these
        raise ValueError(f"extract {name}: bad {kind} {expression!r}: {exc}") from None
    return extractor


def parse_search(name: str, spec: str, absent: bool = False) -> Search:
    """The search ``spec`` describes (module docstring); ValueError names a bad one."""
    what = "search-absent" if absent else "search"
    check_name(name, what)
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"{what} {name}: must be a non-empty string, not {spec!r}")
    scope, rest = "html", spec
    for prefix in SEARCH_SCOPES:
        if spec.startswith(prefix + ":"):
            scope, rest = prefix, spec[len(prefix) + 1:]
            break
    regex = rest.startswith("regex:")
    text = rest[len("regex:"):] if regex else rest
    if not text:
        raise ValueError(f"{what} {name}={spec!r}: nothing to search for")
    if regex:
        try:
            re.compile(text)
        except re.error as exc:
            raise ValueError(f"{what} {name}: bad regex {text!r}: {exc}") from None
    return Search(name, text, regex, scope, absent)


@dataclass(frozen=True)
class Definitions:
    """Every extractor and search of a crawl, checked: names unique within each kind."""

    extractors: tuple[Extractor, ...] = ()
    searches: tuple[Search, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.extractors or self.searches)


def definitions(extract: Mapping[str, str], search: Mapping[str, str],
                search_absent: Mapping[str, str]) -> Definitions:
    """The checked definitions of a crawl's options (CrawlOptions.extract, .search, .search_absent)."""
    extractors = tuple(parse_extractor(name, spec) for name, spec in extract.items())
    searches = (*(parse_search(name, spec) for name, spec in search.items()),
                *(parse_search(name, spec, absent=True) for name, spec in search_absent.items()))
    both = set(search) & set(search_absent)
    if both:
        raise ValueError(f"search {sorted(both)[0]!r} is given as both a search and a search-absent")
    return Definitions(extractors, searches)


def visible_text(page: Selector) -> str:
    """The page's visible text (no script, style, noscript or template), whitespace collapsed,
    as crawler.extract counts its words. Strips those elements from ``page``: call it last."""
    root = page.root
    if not isinstance(root, etree._Element):
        return ""
    body = root.find("body")
    body = root if body is None else body
    etree.strip_elements(body, *_INVISIBLE, with_tail=False)
    return " ".join(etree.tostring(body, method="text", encoding=str).split())


def page_extractions(html: str, found: Definitions) -> tuple[list[tuple[str, int, str]], list[tuple[str, int]]]:
    """What ``found``'s extractors and searches read on one HTML page: (name, position, value)
    rows (``count`` mode: one row holding the count) and (name, matches) rows, one per search."""
    if "\x00" in html:
        html = html.replace("\x00", "")
    needs_parse = (any(e.kind != "regex" for e in found.extractors)
                   or any(s.scope == "text" for s in found.searches))
    # a page of its own even when empty: visible_text strips elements from it
    page = Selector(text=html if html.strip() else "<html></html>") if needs_parse else None
    values: list[tuple[str, int, str]] = []
    for extractor in found.extractors:
        got = extractor.values(page, html)
        if extractor.mode == "count":
            values.append((extractor.name, 0, str(len(got))))
        else:
            values += [(extractor.name, i, v) for i, v in enumerate(got[:1] if extractor.mode == "first" else got)]
    visible = visible_text(page) if any(s.scope == "text" for s in found.searches) else None
    return values, [(s.name, s.count(html, visible)) for s in found.searches]
