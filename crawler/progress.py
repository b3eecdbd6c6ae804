"""Progress of a running crawl: one line on a terminal, plain timestamped lines otherwise."""

from __future__ import annotations

import sys
import time

from scrapy import signals
from twisted.internet import task


class Progress:
    def __init__(self, crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.tty = sys.stderr.isatty()
        self._loop: task.LoopingCall | None = None
        self._last = (time.monotonic(), 0)

    @classmethod
    def from_crawler(cls, crawler):
        interval = crawler.settings.getfloat("SEO_PROGRESS_INTERVAL", 1.0 if sys.stderr.isatty() else 10.0)
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider):
        self._loop = task.LoopingCall(self.report)
        self._loop.start(self.interval, now=False)

    def closed(self, spider, reason):
        if self._loop and self._loop.running:
            self._loop.stop()
        if self.tty:
            sys.stderr.write("\n")

    def line(self) -> str:
        session = self.crawler.spider.session
        done = session.stats["fetched"] + session.stats["errors"]
        now = time.monotonic()
        last_time, last_done = self._last
        rate = (done - last_done) / max(now - last_time, 1e-6)
        self._last = (now, done)
        queued = len(self.crawler.engine._slot.scheduler) if self.crawler.engine._slot else 0
        return (f"{done} fetched, {queued}{'+' if session.frontier.has_pending() and queued else ''} "
                f"queued, {rate:.0f}/s, {session.stats['errors']} errors, "
                f"{sum(v for k, v in session.stats.items() if k.startswith('skipped/'))} skipped")

    def report(self) -> None:
        line = self.line()
        if self.tty:
            sys.stderr.write(f"\r\033[K{line}")
            sys.stderr.flush()
        else:
            self.crawler.spider.logger.info(line)
