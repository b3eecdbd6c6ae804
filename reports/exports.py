"""The files beside the HTML report: CSVs, the workbook and summary.json.

File names and key columns are a public contract (scheduled jobs and people's scripts
read them): pages.csv starts with url, status; findings.csv with rule, severity, url,
evidence; each fired rule has findings-<rule>.csv with the same columns.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd

from audit.graph import store_snapshot
from audit.load import stored_rows, typed_reader
from crawler import store as crawl_store
from crawler.facts import FactType
from crawler.parallel import handed_over, in_new_process, write_text_batches
from crawler.store import PAGE_BLOB_COLUMNS, PAGE_COLUMNS, PAGE_FACTS

from .model import ReportModel, rule_csv_name
from .safe import copy_csv, csv_columns, neutralise, register_redact, spreadsheet_safe, write_csv, write_csv_beside
from .workbook import sheet_names, write_workbook_of

#: links.csv columns (the store's link columns)
LINK_CSV_COLUMNS = ["source", "target", "kind", "anchor", "nofollow", "seen_in"]
#: columns of a rule's sheet in the workbook
RULE_SHEET_COLUMNS = ("url", "evidence")
#: findings a rule's sheet holds at most, the first by URL; its CSV has all. A sheet of a
#: hundred thousand rows is as much as a person filters in a spreadsheet, and a million-URL
#: audit's workbook would otherwise take most of the report's time (1M rows: about 45 s)
WORKBOOK_ROWS_PER_RULE = 100_000


def export_pages_csv(path: str | Path, pages: pd.DataFrame, *, bom: bool = False,
                     store: Path | None = None, crawl_id: int | None = None) -> Path:
    """pages.csv: one row per URL, url and status first, list cells as JSON, text neutralised.
    ``store``: the store file ``pages`` (masked) were read from (audit.load_crawl), whose crawl
    ``crawl_id`` gives the stored facts ``pages`` lacks (a run loads only those it reads) and the
    lists, whose JSON text it holds (the frame's Python lists would be made JSON again), streamed
    by DuckDB beside the frame's other columns."""
    columns = pages.columns if store is None else pd.Index([*PAGE_COLUMNS, *pages.columns]).unique()
    first = [c for c in ("url", "status") if c in columns]
    order = first + [c for c in columns if c not in first and c not in PAGE_BLOB_COLUMNS]
    if store is None:
        return write_csv(Path(path), pages[order], bom=bom)
    stored = [fact for fact in PAGE_FACTS if fact.name in order
              and (fact.type is FactType.JSON or fact.name not in pages.columns)]
    kinds = {fact.name: {FactType.JSON: "json", FactType.TEXT: "text"}.get(fact.type, "number") for fact in stored}
    beside = pages[[name for name in order if name not in kinds]]
    conn = crawl_store.connect(store, readonly=True)
    try:
        with store_snapshot(conn) as read:
            if stored_rows(read, "pages", crawl_id) != len(pages):
                raise LookupError(f"crawl {crawl_id} of {store} has other pages than were loaded")
            rows = typed_reader(read, "pages", tuple((fact.name, fact.type) for fact in stored), crawl_id)
            return write_csv_beside(Path(path), rows, kinds, beside, order, bom=bom)
    finally:
        conn.close()


def write_links_csv(path: Path, graph: Any, *, bom: bool = False) -> Path:
    """links.csv: every link of ``graph`` (audit.graph.LinkGraph) in the store's order, written
    by DuckDB as write_csv writes a frame of them: URLs, kinds and anchors masked (safe.redact,
    called for the few texts that may hold credentials) and neutralised in SQL."""
    return links_csv_writer(path, graph, bom=bom)()


def links_csv_writer(path: Path, graph: Any, *, bom: bool = False) -> Callable[[], Path]:
    """write_links_csv as a function to call later, maybe by another thread: the SQL functions
    it needs are given to the graph's connection now (a function given by a connection since
    closed crashes DuckDB), and it writes on a connection of its own, beside the graph's other queries."""
    kinds = {**{column: "text" for column in LINK_CSV_COLUMNS}, "nofollow": "bool"}
    masked = ("source", "target", "kind", "anchor", "seen_in")
    register_redact(graph.con)

    def write() -> Path:
        with graph.con.cursor() as con:
            # on one thread: COPY's ordered output holds the chunks each thread read ahead (32 MiB a thread)
            (threads,) = con.execute("SELECT current_setting('threads')").fetchone()
            con.execute("SET threads = 1")
            try:
                copy_csv(con, f"SELECT {csv_columns(kinds, masked)} FROM links", path, bom=bom)
            finally:
                con.execute(f"SET threads = {int(threads)}")
        return path
    return write


def write_findings_csvs(out_dir: Path, model: ReportModel, *, bom: bool) -> dict[str, Path]:
    """findings.csv with every finding, and findings-<rule>.csv per fired rule.

    findings.csv lists the rules' findings one rule after the other (findings_table's order):
    each rule's file is written once, then copied after the header into findings.csv."""
    written = {"findings.csv": out_dir / "findings.csv"}
    header = write_csv(written["findings.csv"], model.findings_table.header, bom=bom).read_bytes()
    with open(written["findings.csv"], "ab") as everything:
        for section, rows in model.rule_findings():
            written[section.csv_name] = write_csv(out_dir / section.csv_name, rows, bom=bom)
            with open(written[section.csv_name], "rb") as own:
                own.seek(len(header))  # the same header (and BOM): the columns are findings_table's
                shutil.copyfileobj(own, everything)
    return written


def _json_default(value: Any) -> Any:
    """numpy and pandas scalars, sets and anything else a settings dict may hold."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_summary_json(path: Path, summary: dict[str, Any]) -> Path:
    # a round trip through json turns numpy scalars into plain numbers first, then NaN into null
    plain = json.loads(json.dumps(summary, default=_json_default))
    path.write_text(json.dumps(_finite(plain), indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def write_workbook(path: Path, model: ReportModel, summary: dict[str, Any]) -> Path:
    """report.xlsx: a summary sheet, then one sheet per fired rule with its findings (URL and
    evidence; the first WORKBOOK_ROWS_PER_RULE)."""
    return start_workbook(path, model, summary, apart=False)()


def start_workbook(path: Path, model: ReportModel, summary: dict[str, Any], *, apart: bool) -> Callable[[], Path]:
    """Write report.xlsx (write_workbook's), by a new process while this one goes on if
    ``apart`` (crawler.parallel.in_new_process), else now; return the function waiting for it.
    The sheets' rows reach the writer through an Arrow file (workbook_contents), removed once
    it is written: pickled, they would be held twice more at once (the pickle and its copy)."""
    def start(sheets_file: str) -> Callable[[], Path]:
        contents = workbook_contents(model, summary, sheets_file)
        if apart:
            return in_new_process(write_workbook_of, path, *contents, sheets_file)
        write_workbook_of(path, *contents, sheets_file)
        return lambda: path

    return handed_over("seo-audit-sheets-", start)


def workbook_contents(model: ReportModel, summary: dict[str, Any], sheets_file: str) -> tuple[
        tuple[list[tuple[str, Any]], list[str], list[list[Any]]], list[tuple[str, str, int]]]:
    """What write_workbook_of writes, every cell spreadsheet-safe and a plain Python value (its
    process imports neither pandas nor reports.safe): the summary sheet (workbook_summary's facts,
    the header and rows of its table), and per fired rule in its order the name of its sheet, the
    name of the CSV of its findings and how many; the rows each rule's sheet shows (at most
    WORKBOOK_ROWS_PER_RULE) are one record batch each, in that order, of the Arrow IPC file
    ``sheets_file``, which the writer reads a sheet at a time."""
    sheets = []

    def shown() -> Iterator[pd.DataFrame]:
        for section, rows in model.rule_findings(limit=WORKBOOK_ROWS_PER_RULE):
            sheets.append((rule_csv_name(section.id), section.findings))
            yield spreadsheet_safe(rows[list(RULE_SHEET_COLUMNS)])

    write_text_batches(sheets_file, shown(), RULE_SHEET_COLUMNS)
    facts, rules = workbook_summary(model, summary)
    facts = [(label, neutralise(value) if isinstance(value, str) else _cell(value)) for label, value in facts]
    rows = [[_cell(value) for value in row] for row in spreadsheet_safe(rules).itertuples(index=False, name=None)]
    names = sheet_names(list(rules["rule"]))
    return (facts, list(rules.columns), rows), [(name, *sheet) for sheet, name in zip(sheets, names)]


def _cell(value: Any) -> Any:
    """A value xlsxwriter can write: NA as blank, numpy scalars as Python ones."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def workbook_summary(model: ReportModel, summary: dict[str, Any]) -> tuple[list[tuple[str, Any]], pd.DataFrame]:
    """The summary sheet's facts (label, value) and table of fired rules, fix-first order."""
    facts = [
        ("Site", summary["crawl"]["start_url"]),
        ("Crawl", summary["crawl"]["id"]),
        ("State", summary["crawl"]["state"]),
        ("URLs found", summary["pages"]["total"]),
        ("URLs fetched", model.fetched),
        ("Indexable pages worth their crawl", model.unique_indexable),
        ("Wasted fetches", model.budget.get("wasted")),
        ("Waste share", model.budget.get("waste_share")),
        ("Share of fetches to wasteful URL families", model.budget.get("family_share")),
        ("URLs sampled out (not fetched)", model.budget.get("sampled_out")),
        *((f"Findings: {sev}", n) for sev, n in summary["findings"]["by_severity"].items()),
    ]
    rules = pd.DataFrame(
        [(s.id, s.severity, s.category, s.title, s.findings, s.urls) for s in model.sections],
        columns=["rule", "severity", "category", "title", "findings", "urls"],
    )
    return facts, rules
