"""Audit a crawl: load it into pandas, run the rules, sum up the crawl budget.

In a notebook::

    import audit
    crawl = audit.load_crawl("site.db")      # pages, links, findings... as DataFrames
    findings = audit.run_audit(crawl)
    audit.crawl_budget(crawl, findings)
    logs = audit.load_logs(["access.log.gz"], "site.db")  # what Googlebot fetched (audit.logs)
    # a crawl too large for DataFrames: SQL in DuckDB, a relation (.df(), .arrow())
    audit.query("site.db", "SELECT kind, count(*) FROM links GROUP BY kind").df()
"""

import pandas as pd

# pandas' text ("str") in Python objects, as without pyarrow (which the engine brings): crawled
# text may hold lone surrogates, which Arrow's UTF-8 strings cannot
pd.set_option("mode.string_storage", "python")

from audit.budget import crawl_budget  # noqa: E402
from audit.engine import AuditConfig, run_audit, save_findings, summary_by_severity  # noqa: E402
from audit.load import Crawl, CrawlOutline, load_crawl, load_outline, query  # noqa: E402
from audit.rules import RULES, Rule  # noqa: E402


def load_logs(*args, **kwargs):
    """Server access logs joined with a stored crawl: ``audit.logs.load_logs`` (imported on first
    use: it needs DuckDB)."""
    from audit.logs import load_logs as load

    return load(*args, **kwargs)


__all__ = ["load_crawl", "load_outline", "query", "Crawl", "CrawlOutline", "run_audit", "AuditConfig", "RULES", "Rule", "crawl_budget",
           "save_findings", "summary_by_severity", "load_logs"]
