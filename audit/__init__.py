"""Audit a crawl: load it into pandas, run the rules, sum up the crawl budget.

In a notebook::

    import audit
    crawl = audit.load_crawl("site.db")      # pages, links, findings... as DataFrames
    findings = audit.run_audit(crawl)
    audit.crawl_budget(crawl, findings)
"""

from audit.budget import crawl_budget
from audit.engine import AuditConfig, run_audit, save_findings, summary_by_severity
from audit.load import Crawl, CrawlOutline, load_crawl, load_outline
from audit.rules import RULES, Rule

__all__ = ["load_crawl", "load_outline", "Crawl", "CrawlOutline", "run_audit", "AuditConfig", "RULES", "Rule", "crawl_budget",
           "save_findings", "summary_by_severity"]
