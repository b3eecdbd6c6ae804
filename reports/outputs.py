"""write_outputs: every output of an audit, each written on its own (see the package's docstring)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import logging
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pandas as pd

from .branding import Branding, BrandingError
from .compare_csv import change_rows
from .exports import export_pages_csv, start_workbook, links_csv_writer, write_findings_csvs, write_summary_json
from .html import PAGES_READ as HTML_READS, render_report
from .logs import LOG_OUTPUTS
from .model import COMPARE_CSV, PAGES_READ as MODEL_READS, build_model, summary_dict
from .safe import redact_frame, redact_value, write_csv

log = logging.getLogger(__name__)

#: the workbook of more findings than this is written by a process of its own
FINDINGS_FOR_A_PROCESS = 100_000
#: the pages columns write_outputs reads (audit.load_crawl's ``columns``); pages.csv reads the
#: stored facts from the store (reports.exports.export_pages_csv)
PAGES_READ = (*MODEL_READS, *HTML_READS)


class OutputsMissing(Exception):
    """write_outputs could not write some outputs; it wrote every other one.

    ``files``: {file name: path} of those written; ``missing``: {name: why} of those not, a
    file name ("report.xlsx") or a part of the report ("report.html: Since last crawl")."""

    def __init__(self, files: dict[str, Path], missing: dict[str, str]) -> None:
        super().__init__("not written: " + "; ".join(f"{name} ({why})" for name, why in missing.items()))
        self.files, self.missing = files, missing


class _Outputs:
    """The outputs of one write_outputs: those written and those that failed, each on its own."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: dict[str, Path] = {}
        self.missing: dict[str, str] = {}

    @contextlib.contextmanager
    def writing(self, *names: str) -> Iterator[None]:
        """Write ``names`` in the block; if it raises, they are missing (a partly written file
        removed), logged by name, and the next outputs are written all the same."""
        try:
            yield
        except Exception as exc:  # any bug or odd value: these outputs are lost, not the others
            why = f"{type(exc).__name__}: {exc}"
            for name in names:
                self.missing[name] = why
                if name not in self.files:
                    (self.out / name).unlink(missing_ok=True)
            log.error("%s could not be written: %s", " and ".join(names), why)
            log.debug("%s", " and ".join(names), exc_info=exc)


def write_outputs(out_dir: str | Path, crawl: Any, findings: pd.DataFrame, rules: list[Any],
                  budget: Mapping[str, Any], *, branding: Mapping[str, Any] | None = None,
                  bom: bool = False, previous: dict | None = None,
                  max_rows_per_rule: int = 300) -> dict[str, Path]:
    """Write report.html, pages.csv, links.csv, findings.csv, findings-<rule>.csv per fired
    rule, summary.json and report.xlsx into ``out_dir``; return {file name: path}. A crawl
    with server logs attached (``crawl.logs``, audit.logs) adds bot-hits.csv and log-summary.json.

    ``previous`` (the comparison with the last crawl, seo_audit.compare's dict) adds the
    report's "Since last crawl" section and compare.csv, and is copied into summary.json.
    Raises BrandingError for a bad accent colour or unreadable logo before writing anything.

    Each output (and each part of report.html) is written on its own: if one fails, the others
    are still written, summary.json lists the missing ones under "missing", and OutputsMissing
    is raised at the end.
    """
    brand = Branding.from_config(branding)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    done = _Outputs(out)
    # links.csv is DuckDB's work, in C: a thread writes it beside the masking, the model and the
    # findings CSVs, which are Python's (at 1M URLs it is done before report.html, the peak of memory)
    links_csv = None
    with done.writing("links.csv"):
        write_links_csv = _links_csv_writer(out, crawl, bom)
    beside = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="links.csv")
    try:
        if "links.csv" not in done.missing:
            links_csv = beside.submit(write_links_csv)
        summary = _write_the_rest(done, crawl, findings, rules, budget, brand, bom, previous, max_rows_per_rule)
    finally:
        beside.shutdown()
    if links_csv is not None:
        with done.writing("links.csv"):
            done.files.update(links_csv.result())
    with done.writing("summary.json"):
        summary.update(files=sorted([*done.files, "summary.json"]), missing=dict(done.missing))
        done.files["summary.json"] = write_summary_json(out / "summary.json", summary)
    if done.missing:
        raise OutputsMissing(done.files, done.missing)
    return done.files


def _write_the_rest(done: _Outputs, crawl: Any, findings: pd.DataFrame, rules: list[Any],
                    budget: Mapping[str, Any], brand: Branding, bom: bool, previous: dict | None,
                    max_rows_per_rule: int) -> dict[str, Any]:
    """Every output but links.csv and summary.json, each on its own (``done``); return the summary."""
    out = done.out
    from_model = ["findings.csv", *([COMPARE_CSV] if previous is not None else []), "report.html", "report.xlsx"]
    model = masked = None
    with done.writing("pages.csv", *from_model):  # nothing is written unmasked
        masked = _redacted(crawl), redact_frame(findings), redact_value(previous)
    if masked is not None:
        crawl, findings, previous = masked
        with done.writing(*from_model):
            model = build_model(crawl, findings, rules, dict(budget or {}), max_rows_per_rule, previous)
    waiting = []
    if model is not None:
        summary = summary_dict(model, [], previous)
        # The workbook of a large audit is written by a new process while this one writes the rest:
        # a forked one would come to hold a copy of the pages this one reads meanwhile
        # (in_new_process); what it needs is the sheets' rows, which it reads from a file.
        with done.writing("report.xlsx"):
            workbook = start_workbook(out / "report.xlsx", model, summary, apart=len(findings) > FINDINGS_FOR_A_PROCESS)
            waiting.append(("report.xlsx", lambda: {"report.xlsx": workbook()}))
        with done.writing("findings.csv"):
            done.files.update(write_findings_csvs(out, model, bom=bom))
        if previous is not None:
            with done.writing(COMPARE_CSV):
                done.files[COMPARE_CSV] = _write_compare_csv(out / COMPARE_CSV, previous, bom=bom)
        with done.writing("report.html"):
            failed_parts: dict[str, str] = {}
            with (out / "report.html").open("w", encoding="utf-8") as html:
                html.writelines(render_report(model, crawl, findings, brand, max_rows_per_rule, failed_parts))
            done.files["report.html"] = out / "report.html"
            done.missing.update((f"report.html: {part}", why) for part, why in failed_parts.items())
    else:  # what can be said without the model: which crawl, and what is missing
        summary = {"crawl": {"id": int(crawl.crawl_id)}}
    logs = getattr(crawl, "logs", None)  # server logs joined with the crawl (audit.logs)
    if logs is not None:
        with done.writing("summary.json"):
            summary["logs"] = logs.headline()
        for name, write in LOG_OUTPUTS.items():
            with done.writing(name):
                done.files[name] = write(out, logs, bom=bom)
    if masked is not None:
        with done.writing("pages.csv"):
            done.files["pages.csv"] = export_pages_csv(out / "pages.csv", crawl.pages, bom=bom,
                                                       store=getattr(crawl, "store", None), crawl_id=crawl.crawl_id)
    for name, written in waiting:
        with done.writing(name):
            done.files.update(written())
    return summary


def _links_csv_writer(out: Path, crawl: Any, bom: bool) -> Callable[[], dict[str, Path]]:
    graph = getattr(crawl, "graph", None)
    if graph is None:  # any object with a links frame (see the module docstring)
        from audit.graph import LinkGraph

        graph = LinkGraph.from_frame(crawl.links)
    write = links_csv_writer(out / "links.csv", graph, bom=bom)
    return lambda: {"links.csv": write()}


def _redacted(crawl: Any) -> Any:
    """A shallow copy of ``crawl`` whose pages, re-checks and meta show no URL credentials
    (links.csv is masked as DuckDB writes it)."""
    redacted = copy.copy(crawl)
    redacted.meta = redact_value(dict(crawl.meta or {}))
    redacted.pages = redact_frame(crawl.pages)
    rechecks = getattr(crawl, "rechecks", None)
    redacted.rechecks = None if rechecks is None else redact_frame(rechecks)
    return redacted


def _write_compare_csv(path: Path, previous: dict[str, Any], *, bom: bool) -> Path:
    return write_csv(path, change_rows(previous), bom=bom)
