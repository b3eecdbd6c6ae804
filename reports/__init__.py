"""Rendering a crawl and its findings: the HTML report, CSV exports, workbook and summary.

    from reports import write_outputs
    files = write_outputs("out/", crawl, findings, rules, budget, branding={"client": "ACME"})
    files["report.html"]  # Path of the self-contained report

``crawl`` is any object with ``crawl_id``, ``meta``, ``pages``, ``links``, ``rechecks``
(see the audit package); ``findings`` has columns crawl_id, rule, severity, category,
url, evidence; ``rules`` are objects with id, severity, category, title, why, fix,
learn_more; ``budget`` is a dict with fetched, indexable, wasted, waste_share, by_cause.

Credentials in URLs are masked (``safe.redact``) on the way in, so no output can show them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

import pandas as pd

from audit.parallel import in_child

from .branding import Branding, BrandingError
from .exports import (LINK_CSV_COLUMNS, export_pages_csv, write_findings_csvs, write_summary_json,
                      write_workbook)
from .html import render_report
from .model import COMPARE_CSV, build_model, summary_dict
from .safe import redact_frame, redact_value, write_csv

T = TypeVar("T")

__all__ = ["BrandingError", "export_pages_csv", "start_crawl_tables", "write_outputs"]

#: a crawl with more URLs and links than this has pages.csv and links.csv written by a process
#: of its own
ROWS_FOR_A_PROCESS = 200_000
#: findings CSVs and workbook of more findings than this are written by a process of its own
FINDINGS_FOR_A_PROCESS = 100_000


def write_outputs(out_dir: str | Path, crawl: Any, findings: pd.DataFrame, rules: list[Any],
                  budget: Mapping[str, Any], *, branding: Mapping[str, Any] | None = None,
                  bom: bool = False, previous: dict | None = None,
                  max_rows_per_rule: int = 300,
                  crawl_tables: Callable[[], dict[str, Path]] | None = None) -> dict[str, Path]:
    """Write report.html, pages.csv, links.csv, findings.csv, findings-<rule>.csv per fired
    rule, summary.json and report.xlsx into ``out_dir``; return {file name: path}.

    ``previous`` (the comparison with the last crawl, seo_audit.compare's dict) adds the
    report's "Since last crawl" section and compare.csv, and is copied into summary.json.
    Raises BrandingError for a bad accent colour or unreadable logo before writing anything.
    ``crawl_tables``: pages.csv and links.csv are already being written
    (``start_crawl_tables``); wait for them instead of writing them here.
    """
    brand = Branding.from_config(branding)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    crawl, findings, previous = _redacted(crawl), redact_frame(findings), redact_value(previous)
    model = build_model(crawl, findings, rules, dict(budget or {}), max_rows_per_rule, previous)
    names = ["pages.csv", "links.csv", "findings.csv", *(s.csv_name for s in model.sections),
             *([COMPARE_CSV] if previous is not None else []), "report.html", "report.xlsx", "summary.json"]
    summary = summary_dict(model, sorted(names), previous)

    # pages.csv and links.csv first (or their writer waited for): each forked writer copies
    # most of the crawl's text by reading it, so no more than two run at once
    files = _write_crawl_tables(out, crawl, bom=bom) if crawl_tables is None else crawl_tables()
    # the findings files of a large audit are written by two forked processes while this one
    # writes the rest (they read the model already in memory; this one changes little of it)
    start = in_child if len(findings) > FINDINGS_FOR_A_PROCESS else _now
    findings_files = [start(lambda: write_findings_csvs(out, model, bom=bom)),
                      start(lambda: {"report.xlsx": write_workbook(out / "report.xlsx", model, summary)})]
    if previous is not None:
        files[COMPARE_CSV] = _write_compare_csv(out / COMPARE_CSV, previous, bom=bom)
    report = out / "report.html"
    report.write_text(render_report(model, crawl, findings, brand, max_rows_per_rule), encoding="utf-8")
    files["report.html"] = report
    files["summary.json"] = write_summary_json(out / "summary.json", summary)
    for written in findings_files:
        files.update(written())
    return files


def start_crawl_tables(out_dir: str | Path, crawl: Any, *, bom: bool = False) -> Callable[[], dict[str, Path]] | None:
    """Start writing pages.csv and links.csv of a loaded crawl into ``out_dir`` in a forked
    process, on another CPU while this one audits the crawl: the largest files of a large
    crawl. Give the function returned to write_outputs. None if the crawl has
    ROWS_FOR_A_PROCESS URLs and links or fewer (quicker written with the rest)."""
    if len(crawl.pages) + len(crawl.links) <= ROWS_FOR_A_PROCESS:
        return None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # masked in the child too: that work is done on the other CPU as well
    return in_child(lambda: _write_crawl_tables(out, _redacted(crawl), bom=bom))


def _write_crawl_tables(out: Path, crawl: Any, *, bom: bool) -> dict[str, Path]:
    """pages.csv and links.csv of a redacted crawl."""
    return {"pages.csv": export_pages_csv(out / "pages.csv", crawl.pages, bom=bom),
            "links.csv": write_csv(out / "links.csv", crawl.links.reindex(columns=LINK_CSV_COLUMNS), bom=bom)}


def _now(work: Callable[[], T]) -> Callable[[], T]:
    """in_child's answer for work done here and now."""
    result = work()
    return lambda: result


def _redacted(crawl: Any) -> Any:
    """A shallow copy of ``crawl`` whose records show no URL credentials."""
    redacted = copy.copy(crawl)
    redacted.meta = redact_value(dict(crawl.meta or {}))
    redacted.pages = redact_frame(crawl.pages)
    redacted.links = redact_frame(crawl.links)
    rechecks = getattr(crawl, "rechecks", None)
    redacted.rechecks = None if rechecks is None else redact_frame(rechecks)
    return redacted


def _write_compare_csv(path: Path, previous: dict[str, Any], *, bom: bool) -> Path:
    # imported here: seo_audit.compare writes its own CSVs with this package's write_csv
    from seo_audit.compare import change_rows

    return write_csv(path, change_rows(previous), bom=bom)
