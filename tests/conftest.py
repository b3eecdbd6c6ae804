"""Shared fixtures: sites served on 127.0.0.1:0 and real crawls of them.

A crawl runs as a real Scrapy crawl in a child process (Twisted's reactor starts once
per process), exactly as `seo-audit crawl` runs it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from crawler.options import CrawlOptions
from crawler.runner import run_crawl
from seo_audit.sitekit import SiteServer

# Fast but bounded settings for loopback sites; the timeout leaves room for a loaded machine.
TEST_CRAWL_DEFAULTS = dict(concurrency=16, timeout=6, retries=2, recheck_max_wait=1.0,
                           trap_cap=10, trap_run=8, log_level="WARNING")


def crawl_site(url: str, store: Path, **options):
    """Crawl ``url`` into ``store``; return the CrawlResult."""
    return run_crawl(CrawlOptions(start_url=url, store=store, **{**TEST_CRAWL_DEFAULTS, **options}))


def read_table(store: Path, table: str, crawl_id: int) -> pd.DataFrame:
    with sqlite3.connect(store) as conn:
        return pd.read_sql_query(f"SELECT * FROM {table} WHERE crawl_id = ?", conn, params=(crawl_id,))


def pages_by_url(store: Path, crawl_id: int) -> dict[str, dict]:
    """pages rows by URL as plain dicts (NULL stays None), attempt_statuses decoded."""
    with sqlite3.connect(store) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute("SELECT * FROM pages WHERE crawl_id = ?", (crawl_id,))]
    for row in rows:
        if row["attempt_statuses"]:
            row["attempt_statuses"] = json.loads(row["attempt_statuses"])
    return {row["url"]: row for row in rows}


@pytest.fixture
def serve():
    """serve(routes[, host=, tls=]) -> a started SiteServer, stopped after the test."""
    servers = []

    def start(routes, **server_options):
        server = SiteServer(routes, **server_options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
