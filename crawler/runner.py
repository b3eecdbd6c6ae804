"""Run one crawl: `run_crawl(CrawlOptions(...))` returns what it recorded; `run_worker` joins
a crawl shared through Redis (crawler.distributed) as one more worker.

Twisted's reactor starts once per process, so by default the crawl runs in a child
process (`python -m crawler.runner`): a notebook, a test or a scheduler can crawl
many times. The CLI runs it in its own process (``in_process=True``), where signals
(Ctrl-C, SIGTERM) reach Scrapy directly and stop the crawl cleanly.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .options import CrawlOptions
from .progress import show_logs


@dataclass
class CrawlResult:
    crawl_id: int
    state: str  # complete, incomplete (interrupted), stopped-at-limit
    finish_reason: str
    store: Path


def scrapy_settings(options: CrawlOptions):
    """The project's Scrapy settings with this crawl's options applied."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    headers = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
               "Accept-Language": "en", **options.headers}
    settings.setdict({
        "CONCURRENT_REQUESTS": options.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": min(options.concurrency_per_host or options.concurrency,
                                              options.concurrency),
        "DOWNLOAD_DELAY": options.delay,
        "AUTOTHROTTLE_ENABLED": options.autothrottle,
        "DOWNLOAD_TIMEOUT": options.timeout,
        "DOWNLOAD_MAXSIZE": options.max_size,
        "RETRY_TIMES": options.retries,
        "USER_AGENT": options.user_agent_string,
        "DEFAULT_REQUEST_HEADERS": headers,
        "CLOSESPIDER_TIMEOUT": options.max_duration or 0,
        "LOG_LEVEL": options.log_level,
        "MEMUSAGE_LIMIT_MB": options.memory_limit_mb,
        "MEMUSAGE_CHECK_INTERVAL_SECONDS": 5.0,
        # stderr gets crawler.progress.show_logs' handler, which a crawler does not replace
        "LOG_INSTALL_ROOT_HANDLER": False,
    }, priority="cmdline")
    if options.render != "off":
        from .render import scrapy_settings as render_settings

        settings.setdict(render_settings(options), priority="cmdline")
    return settings


def run_crawl(options: CrawlOptions, *, in_process: bool = False, verbose: bool = True) -> CrawlResult:
    options.validate()
    if not in_process:
        return _run_in_child(options)
    from scrapy.crawler import CrawlerProcess

    from .spiders.site import SiteSpider

    spider_class = SiteSpider
    if options.list_mode:
        from .spiders.listed import ListSpider as spider_class
    elif options.redis_url:  # the coordinator of a crawl shared through Redis
        from .distributed import SharedSiteSpider as spider_class, check_redis

        check_redis(options)
    settings = scrapy_settings(options)
    if not verbose:
        settings.set("LOG_VERSIONS", [], priority="cmdline")
    show_logs(options.log_level, verbose)
    # a failed render is recorded (render_outcome, render_error); its traceback adds nothing
    logging.getLogger("scrapy-playwright").setLevel(logging.ERROR)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider_class)
    process.crawl(crawler, options=options)
    process.start()
    spider = crawler.spider
    if spider is None or not hasattr(spider, "session"):
        raise RuntimeError("the crawl could not start (see the log above)")
    reason = crawler.stats.get_value("finish_reason") or "unknown"
    from . import store
    from .pipelines import STORE_ERROR

    if reason == STORE_ERROR:
        raise store.StoreError(f"the crawl store {options.store} could not be written "
                               "(disk full or read-only?); what was committed is intact: "
                               "free space and run again with --resume")
    conn = store.connect(options.store, readonly=True)
    try:
        state = conn.execute("SELECT state FROM crawls WHERE id = ?",
                             (spider.session.crawl_id,)).fetchone()[0]
    finally:
        conn.close()
    return CrawlResult(spider.session.crawl_id, state, reason, Path(options.store))


def run_worker(redis_url: str, *, max_idle: float | None = None, wait: float = 60.0,
               log_level: str = "INFO", verbose: bool = True) -> str:
    """Join the crawl running on ``redis_url`` until it ends; returns why this worker stopped."""
    from scrapy.crawler import CrawlerProcess

    from .distributed import WAITING_WORKER_NAME, SharedSiteSpider, connect, join_crawl

    keys, options = join_crawl(connect(redis_url, WAITING_WORKER_NAME), wait)
    options.redis_url, options.log_level = redis_url, log_level
    logging.getLogger(__name__).info("joining crawl %s of %s", keys.crawl, options.start_url)
    show_logs(log_level, verbose)
    process = CrawlerProcess(scrapy_settings(options))
    crawler = process.create_crawler(SharedSiteSpider)
    process.crawl(crawler, options=options, keys=keys, max_idle=max_idle)
    process.start()
    return crawler.stats.get_value("finish_reason") or "unknown"


def _run_in_child(options: CrawlOptions) -> CrawlResult:
    with tempfile.TemporaryDirectory(prefix="seo-audit-") as tmp:
        result_path = Path(tmp) / "result.json"
        proc = subprocess.run([sys.executable, "-m", "crawler.runner",
                               json.dumps(options.to_json_dict()), str(result_path)])
        if proc.returncode != 0 or not result_path.exists():
            raise RuntimeError(f"the crawl process failed (exit code {proc.returncode})")
        data = json.loads(result_path.read_text())
    return CrawlResult(data["crawl_id"], data["state"], data["finish_reason"], Path(data["store"]))


def _child_main(argv: list[str]) -> int:
    options = CrawlOptions.from_json_dict(json.loads(argv[0]))
    result = run_crawl(options, in_process=True)
    Path(argv[1]).write_text(json.dumps({**result.__dict__, "store": str(result.store)}))
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
