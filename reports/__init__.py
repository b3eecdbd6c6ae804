"""Rendering a crawl and its findings: the HTML report, CSV exports, workbook and summary.

    from reports import write_outputs
    files = write_outputs("out/", crawl, findings, rules, budget, branding={"client": "ACME"})
    files["report.html"]  # Path of the self-contained report

``crawl`` is any object with ``crawl_id``, ``meta``, ``pages``, ``links``, ``rechecks``
(see the audit package); ``findings`` has columns crawl_id, rule, severity, category,
url, evidence; ``rules`` are objects with id, severity, category, title, why, fix,
learn_more; ``budget`` is a dict with fetched, indexable, wasted, waste_share, by_cause.

Credentials in URLs are masked (``safe.redact``) on the way in, so no output can show them;
masking never makes two URLs one, so what is keyed on URLs afterwards still holds.

links.csv is written by DuckDB from the crawl's links (``crawl.graph``, audit.graph.LinkGraph),
which never become Python objects. The workbook of a large audit is written by a new process
(``crawler.parallel.in_new_process``), which imports the main script as multiprocessing's "spawn"
does: a script calling write_outputs keeps its work under ``if __name__ == "__main__":`` (a
notebook needs nothing).

The names below are imported on first use: a process that writes one output (the workbook's,
crawler.parallel.in_new_process) imports only that output's module, not the report's.
"""

from __future__ import annotations

from crawler.lazy import names_on_first_use

#: public name -> the module that defines it
_HOMES = {
    "BrandingError": "reports.branding",
    "export_pages_csv": "reports.exports",
    **dict.fromkeys(("OutputsMissing", "write_outputs"), "reports.outputs"),
}

__all__ = ["BrandingError", "OutputsMissing", "export_pages_csv", "write_outputs"]


__getattr__, __dir__ = names_on_first_use(globals(), _HOMES)
