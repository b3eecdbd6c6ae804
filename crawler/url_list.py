"""List mode's input: the URLs of a text file (one a line) or of a CSV's ``url`` column.

``parse_url_list`` is pure: lines in, the URLs to fetch (normalised as the crawl normalises
every URL, so two spellings of one URL are one) and a count of every line it did not take, by
reason. Nothing in a list stops it: a list of junk is a list with no URL, which the caller
refuses before anything is crawled.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .urls import NON_FETCHABLE_SCHEMES, normalise

#: why a line gave no URL to fetch, in the order the reasons are reported
SKIP_REASONS = {
    "blank": "empty line",
    "comment": "a line starting with #",
    "duplicate": "a URL listed before (after normalisation)",
    "not-http": "a URL of another scheme (ftp:, mailto:, javascript: ...)",
    "not-a-url": "text that is not an absolute http(s) URL",
    "too-long": "longer than the crawl's max_url_length",
    "bad-row": "a CSV row that cannot be read or has no url field",
}
#: a list file's column holding the URLs (case-insensitive), when the file is a CSV
URL_COLUMN = "url"
#: how many skipped lines are kept, per reason, to show where they are
EXAMPLES = 3
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CSV_DELIMITERS = ",;\t"


@dataclass
class UrlList:
    """What a list held: ``urls`` to fetch, in first-listed order, and the lines skipped."""

    urls: list[str] = field(default_factory=list)
    lines: int = 0  # lines read (a CSV's header included)
    skipped: Counter[str] = field(default_factory=Counter)  # reason (SKIP_REASONS) -> lines
    #: reason -> the first few skipped lines as (line number, text cut to 80 characters)
    examples: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    csv: bool = False  # read as a CSV, its url column

    def counts(self) -> dict[str, int]:
        """lines, urls and one count per skip reason (zero included): what the crawl records."""
        return {"lines": self.lines, "urls": len(self.urls),
                **{reason: self.skipped.get(reason, 0) for reason in SKIP_REASONS}}

    def describe(self) -> str:
        """One line for the log: "3 URLs from 9 lines; skipped: 2 duplicate, 1 not-http (line 4: ...)"."""
        skipped = [f"{n} {reason}" for reason in SKIP_REASONS if (n := self.skipped.get(reason))]
        text = f"{len(self.urls):,} URLs from {self.lines:,} lines" + (" (CSV, its url column)" if self.csv else "")
        if skipped:
            first = min((line, reason) for reason, shown in self.examples.items() for line, _ in shown[:1])
            text += f"; skipped: {', '.join(skipped)} (first at line {first[0]}: {first[1]})"
        return text

    def _skip(self, reason: str, number: int, line: str) -> None:
        self.skipped[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES:
            shown.append((number, line[:80]))


def parse_url_list(lines: Iterable[str], *, max_url_length: int = 4096, as_csv: bool | None = None) -> UrlList:
    """The URLs of ``lines``: one a line, or a CSV's ``url`` column. ``as_csv`` None: a CSV if
    the first line that is not blank or a comment is a header naming a url column (a file of
    URLs has no such line: a URL is never the word "url")."""
    result = UrlList()
    seen: set[str] = set()
    column: int | None = None  # the url column, once a CSV header was read
    for number, raw in enumerate(lines, start=1):
        result.lines = number
        line = raw.rstrip("\r\n").lstrip("\ufeff")
        if len(line) > max_url_length:  # judged by its length before any parsing
            result._skip("too-long", number, line)
            continue
        text = line.strip()
        if not text or text.startswith("#"):
            result._skip("comment" if text else "blank", number, line)
            continue
        if column is None and as_csv is not False:
            names = [name.strip().lower() for name in _csv_fields(line) or []]
            if URL_COLUMN in names:
                column, result.csv = names.index(URL_COLUMN), True
                continue
            if as_csv:  # a CSV without its header: nothing in it can be read
                result._skip("bad-row", number, line)
                continue
            as_csv = False
        if column is not None:
            fields = _csv_fields(line)
            if fields is None or len(fields) <= column:
                result._skip("bad-row", number, line)
                continue
            text = fields[column].strip()
            if not text:
                result._skip("blank", number, line)
                continue
        reason, url = _judge(text, max_url_length, seen)
        if reason:
            result._skip(reason, number, line)
        else:
            seen.add(url)
            result.urls.append(url)
    return result


def _csv_fields(line: str) -> list[str] | None:
    """The fields of one CSV line (its delimiter the most frequent of , ; and tab), None if unreadable."""
    delimiter = max(_CSV_DELIMITERS, key=line.count)
    try:
        rows = list(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error:
        return None
    return rows[0] if rows else None


def _judge(text: str, max_url_length: int, seen: set[str]) -> tuple[str | None, str | None]:
    """(skip reason, None) or (None, the normalised URL)."""
    url = None if any(c.isspace() for c in text) else normalise(text)
    if url is None:
        scheme = _SCHEME.match(text)
        other_scheme = scheme and (text[scheme.end():].startswith("//")
                                   or text[:scheme.end()].lower() in NON_FETCHABLE_SCHEMES)
        return ("not-http" if other_scheme and not text.lower().startswith(("http:", "https:"))
                else "not-a-url"), None
    if len(url) > max_url_length:  # percent-encoding made it longer
        return "too-long", None
    if url in seen:
        return "duplicate", None
    return None, url


def read_url_list(source: str | Path, *, max_url_length: int = 4096) -> UrlList:
    """The URLs of a list file, or of standard input for ``-``; OSError if it cannot be read.
    Bytes that are not UTF-8 are replaced (such a line is then judged as text): never a crash."""
    if str(source) == "-":
        stream = open(sys.stdin.fileno(), encoding="utf-8-sig", errors="replace", closefd=False)
    else:
        stream = open(source, encoding="utf-8-sig", errors="replace", newline="")
    as_csv = True if str(source).lower().endswith(".csv") else None
    with stream:
        return parse_url_list(stream, max_url_length=max_url_length, as_csv=as_csv)
