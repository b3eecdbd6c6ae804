"""Audit a crawl: load it into pandas, run the rules, sum up the crawl budget.

In a notebook::

    import audit
    crawl = audit.load_crawl("site.db")      # pages, links, findings... as DataFrames
    findings = audit.run_audit(crawl)
    audit.crawl_budget(crawl, findings)
    logs = audit.load_logs(["access.log.gz"], "site.db")  # what Googlebot fetched (audit.logs)
    # a crawl too large for DataFrames: SQL in DuckDB, a relation (.df(), .arrow())
    audit.query("site.db", "SELECT kind, count(*) FROM links GROUP BY kind").df()

The names below are imported on first use: a process that needs one part of the package (a
child of crawler.parallel, the logs' reader) does not pay for the rules, Scrapy and the rest.
"""


import os

import pandas as pd
import pyarrow as pa

from crawler.lazy import names_on_first_use

# pandas' text ("str") in Python objects, as without pyarrow (which the engine brings): crawled
# text may hold lone surrogates, which Arrow's UTF-8 strings cannot (the texts a store holds
# can: audit.load keeps some of them Arrow's, PageFact.distinct)
pd.set_option("mode.string_storage", "python")

# Arrow's memory from jemalloc, which gives what is freed back at once: Arrow's default pool
# (mimalloc) keeps what the rules' passing arrays took, 170 MiB at a million pages. A pool
# the user chose (ARROW_DEFAULT_MEMORY_POOL) stays.
if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ and "jemalloc" in pa.supported_memory_backends():
    pa.set_memory_pool(pa.jemalloc_memory_pool())
    pa.jemalloc_set_decay_ms(0)

#: public name -> the module that defines it
_HOMES = {
    "crawl_budget": "audit.budget",
    **dict.fromkeys(("AuditConfig", "run_audit", "save_findings", "summary_by_severity"), "audit.engine"),
    **dict.fromkeys(("Crawl", "CrawlOutline", "load_crawl", "load_outline", "query"), "audit.load"),
    **dict.fromkeys(("RULES", "Rule"), "audit.rules"),
    "load_logs": "audit.logs",
}


__getattr__, __dir__ = names_on_first_use(globals(), _HOMES)


__all__ = ["load_crawl", "load_outline", "query", "Crawl", "CrawlOutline", "run_audit", "AuditConfig", "RULES", "Rule", "crawl_budget",
           "save_findings", "summary_by_severity", "load_logs"]
