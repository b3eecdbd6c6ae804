"""The HTML report: one self-contained file (styles, script, charts and logo inline).

Jinja2 autoescapes every value. Links are drawn only to http(s) URLs; anything else
from the site (javascript:, data:, file:) is shown as text. The pages explorer's data
sits in a JSON block that the inline script reads and draws with textContent, never as
markup; a Content-Security-Policy with a per-report nonce keeps any script that slipped
in from running and any resource from being fetched.

Each part of the report (a section, a chart, a rule's findings) is drawn on its own
(``{% guarded "name" %}``): a part that fails is replaced by a note and named in the
run's log and summary, and the rest of the report is still written.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import time
from typing import Any, Callable, Iterator

import jinja2
import jinja2.ext
import numpy as np
import pandas as pd
from markupsafe import Markup

from . import charts
from .branding import Branding
from .logs import log_section
from .model import ReportModel, crawl_dates
from .safe import http_url
from .toolkit import near_duplicate_clusters, structured_data_by_folder

#: the package holding report.html.j2 and what it includes (the top-level templates/ folder)
TEMPLATES = "templates"
#: rows of a rule's table shown open; the rest (up to max_rows_per_rule) sit behind "show more",
#: so a report with thirty fired rules still reads as a report, not a listing
ROWS_OPEN = 10
#: URLs the pages explorer holds at most: 100,000 open in about a second; a million would make
#: a report of over 100 MB that a browser takes long to open
EXPLORER_MAX_URLS = 100_000
#: explorer rows made into JSON at a time (explorer_json)
EXPLORER_PIECE_ROWS = 5_000

#: pages explorer columns: (key, heading, numeric); the script reads the keys from the data block
EXPLORER_COLUMNS = (
    ("url", "URL", False),
    ("status", "Status", False),
    ("content_type", "Type", False),
    ("indexable", "Indexable", False),
    ("depth", "Depth", True),
    ("inlinks", "Inlinks", True),
    ("response_ms", "Time (ms)", True),
    ("word_count", "Words", True),
    ("structured_types", "Structured data", False),
    ("title", "Title", False),
)


#: the columns of pages and of findings the charts read (charts.py)
CHART_PAGE_COLUMNS = ("status", "status_class", "depth", "response_time")
CHART_FINDING_COLUMNS = ("url", "category", "severity")
#: the pages columns the explorer's data reads (explorer_json), beside the segment and the custom columns
EXPLORER_READS = ("url", "status", "status_class", "content_type", "indexable", "depth", "inlinks", "response_time",
                  "word_count", "structured_types", "title", "error", "skip_reason")
#: the pages columns render_report reads: the explorer's (the custom columns are derived), the
#: charts', the segments' and the structured data table's (reports.toolkit)
PAGES_READ = (*EXPLORER_READS, "segment", "is_html", *CHART_PAGE_COLUMNS)

#: columns that follow EXPLORER_COLUMNS: a page's segment, then its custom extractions and searches
_CUSTOM_PREFIXES = ("extract_", "search_")

log = logging.getLogger(__name__)


class GuardedParts(jinja2.ext.Extension):
    """``{% guarded "Since last crawl" %}...{% endguarded %}``: a part of the report drawn on
    its own. If drawing it raises, a note takes its place, the failure is logged, and the
    render's ``failed_parts`` (a dict given to render) gets {name: why}; the rest of the
    template goes on."""

    tags = {"guarded"}

    def parse(self, parser: Any) -> jinja2.nodes.Node:
        lineno = next(parser.stream).lineno
        name = parser.parse_expression()
        body = parser.parse_statements(("name:endguarded",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_draw", [jinja2.nodes.ContextReference(), name]),
                                      [], [], body).set_lineno(lineno)

    def _draw(self, context: jinja2.runtime.Context, name: str, caller: Callable[[], str]) -> str:
        try:
            return caller()
        except Exception as exc:  # any bug or odd value: this part is lost, not the report
            context["failed_parts"][name] = f"{type(exc).__name__}: {exc}"
            log.error("report.html: %s could not be drawn: %s: %s", name, type(exc).__name__, exc)
            log.debug("report.html: %s", name, exc_info=exc)
            return Markup('<p class="failed-part" role="alert"><strong>%s</strong> could not be drawn; '
                          'the run\'s log and summary.json say why.</p>') % name


@functools.cache
def _environment() -> jinja2.Environment:
    """The report's environment, made once: its compiled templates are kept for the next report."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(TEMPLATES, ""),
        extensions=[GuardedParts],
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["http_url"] = http_url
    env.filters["count"] = lambda n: f"{int(n):,}"
    env.filters["percent"] = lambda share: f"{float(share) * 100:.1f}%"
    env.filters["signed"] = signed
    env.filters["points"] = lambda change: signed(round(float(change) * 100, 1), " pts")
    env.filters["tone"] = tone
    env.filters["json_value"] = lambda v: json.dumps(v, default=str, ensure_ascii=False)
    return env


def signed(change: float, unit: str = "") -> str:
    """A change with its sign: "+3", "−1.5 pts" (a true minus sign), "±0"."""
    return f"{change:+,}{unit}".replace("-", "\N{MINUS SIGN}") if change else f"±0{unit}"


def tone(change: float, up: str = "worse") -> str:
    """Whether a change is good news, as a CSS class: a rise is ``up`` ("worse", "better" or
    "neutral"), a fall the opposite."""
    if not change or up == "neutral":
        return "delta-same"
    rose = change > 0
    return "delta-worse" if rose == (up == "worse") else "delta-better"


def script_json(value: str) -> Markup:
    """JSON text made safe inside <script type="application/json">.

    Every "<" becomes \\u003c, which JSON.parse reads back as "<", so neither "</script>"
    nor "<!--" from a crawled title can end the block early.
    """
    return Markup(value.replace("<", "\\u003c"))


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _integers(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce").round().astype("Int64")


def explorer_pages(pages: pd.DataFrame) -> pd.DataFrame:
    """The URLs the pages explorer holds: all, up to EXPLORER_MAX_URLS; past that, the URLs
    needing attention first (not a 2xx answer, or not indexable), then by click depth, so
    the report stays quick to open (pages.csv has every URL). Only the columns the explorer
    reads: 100,000 rows of every page fact would be a copy of tens of MiB."""
    pages = pages[[name for name in pages.columns
                   if name in EXPLORER_READS or name == "segment" or name.startswith(_CUSTOM_PREFIXES)]]
    if len(pages) <= EXPLORER_MAX_URLS:
        return pages
    fine = (pages["status_class"].eq("2xx") & pages["indexable"].fillna(False)).to_numpy(dtype=bool)
    depth = pd.to_numeric(pages["depth"]).astype(float).to_numpy(copy=True)
    depth[np.isnan(depth)] = np.inf  # never reached by links: last
    order = np.lexsort((depth, fine))[:EXPLORER_MAX_URLS]  # last key first: problems, then depth
    return pages.iloc[np.sort(order)]


def _types_cell(kinds: Any) -> str | None:
    """A page's structured data types as one explorer cell ("Offer, Product"), None for none."""
    return ", ".join(kinds) if isinstance(kinds, list) and kinds else None


def explorer_columns(pages: pd.DataFrame) -> tuple[tuple[str, str, bool], ...]:
    """EXPLORER_COLUMNS, then the segment and one column per custom extraction and search
    (headed by its name; a count or a search's matches is numeric)."""
    custom = [(name, name.split("_", 1)[1], pd.api.types.is_numeric_dtype(pages[name].dtype))
              for name in pages.columns if name.startswith(_CUSTOM_PREFIXES)]
    segment = [("segment", "Segment", False)] if "segment" in pages else []
    return (*EXPLORER_COLUMNS, *segment, *custom)


def _cell_texts(column: pd.Series) -> pd.Series:
    """An all-mode extraction's lists as one text ("a | b"); other values as they are."""
    if column.dtype != object:
        return column
    return column.map(lambda v: " | ".join(map(str, v)) if isinstance(v, list) else v)


def explorer_json(pages: pd.DataFrame) -> list[Markup]:
    """The pages explorer's data: {"columns": [...], "rows": [[...], ...]}, one array per URL
    of ``pages``, as pieces of EXPLORER_PIECE_ROWS rows each (made safe by script_json), to be
    written one after the other: 100,000 URLs' text made whole, then escaped, then drawn into its
    part of the report, was four copies of it at once.

    ``note`` says why a URL has no status: its network error or why it was not fetched.
    """
    extra = explorer_columns(pages)[len(EXPLORER_COLUMNS):]
    keys = list(_explorer_table(pages.iloc[:0], extra).columns)
    pieces = [script_json(f'{{"columns":{json.dumps(keys)},"rows":[')]
    for start in range(0, len(pages), EXPLORER_PIECE_ROWS):
        rows = _explorer_table(pages.iloc[start:start + EXPLORER_PIECE_ROWS], extra).to_json(orient="values", force_ascii=False)
        pieces.append(script_json(("," if start else "") + rows[1:-1]))  # the rows, without their list's brackets
    pieces.append(Markup("]}"))
    return pieces


def _explorer_table(pages: pd.DataFrame, extra: tuple[tuple[str, str, bool], ...]) -> pd.DataFrame:
    """The explorer's cells of ``pages``: EXPLORER_COLUMNS, the note, then ``extra``."""
    table = pd.DataFrame({
        "url": pages["url"],
        "status": _integers(pages["status"]),
        "status_class": pages["status_class"],
        "content_type": pages["content_type"].map(_media_type, na_action="ignore"),
        "indexable": pages["indexable"].fillna(False).astype(bool),
        "depth": _integers(pages["depth"]),
        "inlinks": _integers(pages["inlinks"]),
        "response_ms": _integers(pd.to_numeric(pages["response_time"], errors="coerce") * 1000),
        "word_count": _integers(pages["word_count"]),
        "structured_types": pages["structured_types"].map(_types_cell),
        "title": pages["title"],
        "note": pages["error"].where(pages["error"].notna(), pages["skip_reason"]),
    })
    for key, _, numeric in extra:
        table[key] = _integers(pages[key]) if numeric else _cell_texts(pages[key])
    return table


def _waste_chart(budget: dict[str, Any]) -> Markup | None:
    causes = {cause: n for cause, n in (budget.get("by_cause") or {}).items() if n}
    if not causes:
        return None
    return charts.hbar_chart(charts.count_bars(causes, "fill-warning"), "Wasted fetches by cause",
                             label_width=170)


def _charts(crawl: Any, findings: pd.DataFrame) -> list[tuple[str, Callable[[], Markup]]]:
    """(caption, draw) per chart: the template draws each as a part of its own."""
    return _charts_of(crawl.pages, findings)


def _segment_charts(model: ReportModel, crawl: Any,
                    findings: pd.DataFrame) -> list[tuple[str, Callable[[], list[tuple[str, Callable[[], Markup]]]]]]:
    """(segment, its charts) for each segment the report shows: the site's charts, on its pages."""
    pages = crawl.pages
    if "segment" not in pages or not model.segments:
        return []

    @functools.cache
    def by_segment() -> tuple[pd.DataFrame, dict, pd.DataFrame, dict]:
        """The columns of pages and findings the charts read, and each segment's rows of both,
        found once on the first segment drawn: a row filter of the whole pages frame per segment
        copies every column (1M URLs, 12 segments: 11 s)."""
        segment = pages["segment"].to_numpy()
        rows = pd.Index(pages["url"]).get_indexer(findings["url"])
        on_pages = np.flatnonzero(rows >= 0)  # a segment's findings are those on its pages' URLs
        of_finding = pd.Series(on_pages).groupby(segment[rows[on_pages]], sort=False).indices
        return (pages[list(CHART_PAGE_COLUMNS)], pages.groupby(segment, sort=False).indices,
                findings[list(CHART_FINDING_COLUMNS)], {name: on_pages[at] for name, at in of_finding.items()})

    def charts_of(name: str) -> Callable[[], list[tuple[str, Callable[[], Markup]]]]:
        def charts() -> list[tuple[str, Callable[[], Markup]]]:
            charted, of_page, found, of_finding = by_segment()
            none = np.array([], dtype=np.intp)
            return _charts_of(charted.iloc[of_page.get(name, none)], found.iloc[of_finding.get(name, none)])
        return charts
    return [(view.name, charts_of(view.name)) for view in model.segments]


def _segment_budget_chart(model: ReportModel) -> Markup | None:
    """Fetches per segment: indexable, wasted and the rest, stacked."""
    bars = [charts.Bar(view.name, (charts.Segment(view.indexable, "fill-2xx"),
                                   charts.Segment(view.wasted, "fill-warning"),
                                   charts.Segment(max(view.fetched - view.indexable - view.wasted, 0), "fill-other")))
            for view in model.segments if view.fetched]
    if not bars:
        return None
    return charts.hbar_chart(bars, "Fetches per segment: indexable, wasted, other", label_width=170)


def _charts_of(pages: pd.DataFrame, findings: pd.DataFrame) -> list[tuple[str, Callable[[], Markup]]]:
    drawn = [
        ("Status codes", lambda: charts.hbar_chart(charts.status_code_bars(pages), "URLs by status code")),
        ("Click depth", lambda: charts.column_chart(charts.depth_bars(pages), "Fetched URLs by click depth")),
        ("Response time (ms)", lambda: charts.column_chart(charts.response_time_bars(pages),
                                                           "Fetched URLs by response time in milliseconds")),
    ]
    if len(findings):
        drawn.append(("Findings by category", lambda: charts.hbar_chart(charts.category_bars(findings),
                                                                        "Findings by category and severity")))
    return drawn


def render_report(model: ReportModel, crawl: Any, findings: pd.DataFrame, branding: Branding,
                  max_rows_per_rule: int, failed_parts: dict[str, str] | None = None) -> Iterator[str]:
    """The report's HTML, a piece at a time as the template makes it (to be written as it
    comes: a 100k-URL report held whole is tens of MiB, and as much again encoded). Parts that
    could not be drawn are notes in it, and {name: why} in ``failed_parts`` once it is all read."""
    failed = {} if failed_parts is None else failed_parts
    explorer = explorer_pages(crawl.pages)
    # the explorer's data is drawn in its part as a mark, and its pieces written in the mark's
    # place as the report is written: a part is drawn whole (GuardedParts), its data need not be
    mark, data = f"<!--pages-data-{secrets.token_hex(16)}-->", []

    def explorer_data() -> Markup:
        data[:] = explorer_json(explorer)
        return Markup(mark)

    return _with_pieces(_environment().get_template("report.html.j2").generate(
        failed_parts=failed,
        model=model,
        since=model.since_last_crawl,
        branding=branding,
        dates=crawl_dates(model.meta),
        charts=_charts(crawl, findings),
        waste_chart=lambda: _waste_chart(model.budget),
        explorer_columns=explorer_columns(explorer),
        segment_charts=_segment_charts(model, crawl, findings),
        segment_budget_chart=lambda: _segment_budget_chart(model),
        explorer_data=explorer_data,
        explorer_urls=len(explorer),
        max_rows_per_rule=max_rows_per_rule,
        rows_open=ROWS_OPEN,
        nonce=secrets.token_urlsafe(16),
        near_duplicate_clusters=lambda: near_duplicate_clusters(findings),
        structured_data=lambda: structured_data_by_folder(crawl.pages),
        generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        has_logs=getattr(crawl, "logs", None) is not None,
        log_section=lambda: log_section(crawl.logs, model.budget),
    ), mark, data)


def _with_pieces(html: Iterator[str], mark: str, pieces: list[Markup]) -> Iterator[str]:
    """``html`` with ``pieces`` written one by one where ``mark`` is, once."""
    for part in html:
        if mark in part:
            before, after = part.split(mark, 1)
            yield before
            yield from pieces
            pieces.clear()
            part = after
        yield part
