"""What a person sees of a run: on a terminal, a live display of its phases (robots.txt and
sitemaps, crawl, 202 re-checks, audit, report), each with a bar, rate and ETA (rich); otherwise
plain timestamped lines. Scrapy's warnings are said in SEO words; its full log goes to a file.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Iterator

from scrapy import signals
from twisted.internet import task

from . import store

#: Scrapy loggers whose start-up lists and stats dump drown what a user reads (still in the log file)
CHATTY_LOGGERS = ("scrapy.middleware", "scrapy.crawler", "scrapy.utils.log", "scrapy.statscollectors",
                  "scrapy.addons", "scrapy.extensions.telnet", "scrapy.core.engine",
                  "scrapy.core.downloader.handlers.http11")
#: a retry given up on is recorded (attempt_statuses): its log line adds nothing for a user
RETRY_LOGGER = "scrapy.downloadermiddlewares.retry"
_REQUEST = r"<(?:GET|HEAD|POST) (?P<url>[^>\s]+)>"
#: Scrapy's messages meant for Scrapy developers, said as an SEO reads them (first match wins)
SEO_MESSAGES = (
    (re.compile(r"Got data loss in (?P<url>\S+?)\. If you want"),
     "response cut short by the server (fewer bytes than announced; recorded as connection-reset): {url}"),
    (re.compile(r"(?:Expected to receive|Received) (?P<size>\d+) bytes which is larger than download "
                rf"max size \((?P<limit>\d+)\) in request {_REQUEST}"),
     "response over the size limit ({size} bytes > --max-size {limit}), not downloaded: {url}"),
    (re.compile(r"Cancelling download of (?P<url>\S+): expected response size \((?P<size>\d+)\) larger "
                r"than download max size \((?P<limit>\d+)\)"),
     "response over the size limit ({size} bytes > --max-size {limit}), not downloaded: {url}"),
    (re.compile(r"Memory usage exceeded (?P<mb>\d+)\s*MiB"),
     "memory limit reached ({mb} MiB, --memory-limit-mb): the crawl stops; --resume continues it"),
    (re.compile(rf"Spider error processing {_REQUEST}"),
     "a page could not be read (an internal error; details in crawl.log): {url}"),
    (re.compile(rf"Error downloading {_REQUEST}"), "no answer from the server: {url}"),
)


def seo_message(message: str) -> str | None:
    """The SEO wording of a known Scrapy message; None for any other message."""
    for pattern, wording in SEO_MESSAGES:
        match = pattern.search(message)
        if match:
            return wording.format(**match.groupdict())
    return None


class SeoFormatter(logging.Formatter):
    """Formats Scrapy's known messages in SEO words, without their traceback; others as they are.
    A formatter, not a filter: the log file's handler still sees the record untouched."""

    def format(self, record: logging.LogRecord) -> str:
        wording = seo_message(record.getMessage())
        if wording is not None:
            record = logging.makeLogRecord({**record.__dict__, "msg": wording, "args": (),
                                            "exc_info": None, "exc_text": None})
        return super().format(record)


class UserFacing(logging.Filter):
    """Drops what only a Scrapy developer reads: start-up lists, stats dumps, retry notes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == RETRY_LOGGER:
            return record.levelno >= logging.CRITICAL
        return not (record.name in CHATTY_LOGGERS and record.levelno < logging.WARNING)


#: Scrapy's log format, so our lines and its read as one log (a cron mail, a journal)
LOG_FORMAT, LOG_DATE_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s", "%Y-%m-%d %H:%M:%S"
_USER_HANDLER = "seo-audit-stderr"


def show_logs(level: str, verbose: bool) -> None:
    """The crawl's log on stderr at ``level``: in SEO words and without Scrapy's developer
    chatter, unless ``verbose`` asks for its full log. Installed in place of Scrapy's root
    handler (LOG_INSTALL_ROOT_HANDLER is off), so a crawler cannot replace it; the
    log file (at INFO) still gets everything this one drops."""
    for handler in [h for h in logging.root.handlers if h.get_name() == _USER_HANDLER]:
        logging.root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_USER_HANDLER)
    handler.setLevel(level)
    if verbose:
        handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
    else:
        handler.setFormatter(SeoFormatter(LOG_FORMAT, LOG_DATE_FORMAT))
        handler.addFilter(UserFacing())
        for name in (*CHATTY_LOGGERS, RETRY_LOGGER):  # no DEBUG record per response: CPU for nobody
            logging.getLogger(name).setLevel(logging.INFO)
    logging.root.setLevel(logging.NOTSET)  # as Scrapy sets it: each handler has its level
    logging.root.addHandler(handler)


@contextmanager
def log_file(path: Path, *loggers: logging.Logger, debug: bool = False) -> Iterator[Path]:
    """The run's full log, Scrapy's and ``loggers``' (which do not propagate), appended to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG if debug else logging.INFO)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
    targets = [logging.root, *loggers]
    for logger in targets:
        logger.addHandler(handler)
    try:
        yield path
    finally:
        for logger in targets:
            logger.removeHandler(handler)
        handler.close()


# --- the live display ---------------------------------------------------------------------------
class Terminal:
    """The live display of one run on a terminal: one bar per phase, the current one moving.
    Log lines written to stderr meanwhile are printed above it."""

    current: ClassVar["Terminal | None"] = None

    def __init__(self):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bars, SpinnerColumn,
                                   TextColumn, TimeElapsedColumn, TimeRemainingColumn)

        self.bars = Bars(SpinnerColumn(finished_text="[green]✓"), TextColumn("[bold]{task.description:<23}"),
                         BarColumn(bar_width=30), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                         TextColumn("ETA"), TimeRemainingColumn(compact=True), TimeElapsedColumn(),
                         TextColumn("{task.fields[detail]}"),
                         console=Console(file=sys.stderr), redirect_stderr=True,
                         redirect_stdout=sys.stdout.isatty())  # the same screen: above the bars too
        self._phase: str | None = None
        self._task = None
        self._steps = 0
        self._repointed: list[tuple[logging.StreamHandler, object]] = []

    def __enter__(self) -> "Terminal":
        real = sys.stderr
        self.bars.start()  # sys.stderr is now rich's proxy: lines written there go above the bars
        for logger in (logging.root, *logging.root.manager.loggerDict.values()):  # placeholders have none
            for handler in getattr(logger, "handlers", ()):
                if isinstance(handler, logging.StreamHandler) and handler.stream is real:
                    self._repointed.append((handler, handler.setStream(sys.stderr)))
        Terminal.current = self
        return self

    def __exit__(self, exc_type, *exc) -> None:
        Terminal.current = None
        if exc_type is None:  # a phase that failed is left as it stood
            self._finish()
        self.bars.stop()
        for handler, stream in self._repointed:
            handler.setStream(stream)

    def phase(self, name: str, total: int | None = None) -> None:
        """Enter phase ``name`` (the one before it is done); nothing if it is the current one."""
        if name != self._phase:
            self._finish()
            self._phase, self._steps = name, 0
            self._task = self.bars.add_task(name, total=total, rate="", detail="")

    @property
    def current_phase(self) -> str | None:
        return self._phase

    def update(self, *, completed: int, total: int | None, rate: str = "", detail: str = "") -> None:
        if self._task is not None:
            self.bars.update(self._task, completed=completed, total=total, rate=rate, detail=detail)

    def step(self, name: str, detail: str, total: int) -> None:
        """Phase ``name`` has ``total`` steps; ``detail`` is the one starting now."""
        self.phase(name, total)
        self.update(completed=self._steps, total=total, detail=detail)
        self._steps += 1

    def _finish(self) -> None:
        """The current phase is over: a phase of steps has made them all, one of unknown length
        (re-checks) is as long as it went; a crawl keeps its numbers (an interrupted one shows it)."""
        if self._task is not None:
            ended = next(t for t in self.bars.tasks if t.id == self._task)
            if ended.total is None:
                self.bars.update(self._task, total=max(ended.completed, 1), completed=max(ended.completed, 1))
            elif self._steps:
                self.bars.update(self._task, completed=ended.total)
            self._task = None


@contextmanager
def shown(live: bool) -> Iterator[Terminal | None]:
    """A live display for the run if ``live`` (a terminal, not --quiet/--json), else nothing."""
    if not live:
        yield None
        return
    with Terminal() as terminal:
        yield terminal


def step(phase: str, detail: str, total: int) -> None:
    """Mark a step of ``phase`` on the live display, if the run has one."""
    if Terminal.current is not None:
        Terminal.current.step(phase, detail, total)


# --- the crawl's part: a Scrapy extension ------------------------------------------------------
_STATUS, _ERROR = (list(store.PAGE_COLUMNS).index(c) for c in ("status", "error"))


class Progress:
    """Feeds the live display (every half second) or logs a plain line (every 10 s)."""

    def __init__(self, crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.errors: Counter[str] = Counter()  # failed downloads by error name, 4xx/5xx by status
        self._loop: task.LoopingCall | None = None
        self._last = (time.monotonic(), 0)
        self._rechecking = False
        self.rechecked = 0  # 202 re-checks recorded

    @classmethod
    def from_crawler(cls, crawler):
        interval = crawler.settings.getfloat("SEO_PROGRESS_INTERVAL", 0.5 if Terminal.current else 10.0)
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.count_errors, signal=signals.item_scraped)
        return ext

    def opened(self, spider):
        self._loop = task.LoopingCall(self.report)
        self._loop.start(self.interval, now=Terminal.current is not None)  # the first phase at once

    def closed(self, spider, reason):
        if self._loop and self._loop.running:
            self._loop.stop()
        if Terminal.current is not None:
            self.report()

    def count_errors(self, item, response=None, spider=None):
        bundle = getattr(item, "bundle", None)
        self.rechecked += len(getattr(bundle, "rechecks", ()))
        for row in getattr(bundle, "pages", ()):
            if row[_ERROR]:
                self.errors[row[_ERROR]] += 1
            elif row[_STATUS] is not None and row[_STATUS] >= 400:
                self.errors[f"HTTP {row[_STATUS]}"] += 1

    def _counts(self) -> tuple[int, int, float]:
        """URLs done (fetched or failed), queued, and done per second since the last call."""
        session = self.crawler.spider.session
        done = session.stats["fetched"] + session.stats["errors"]
        now = time.monotonic()
        last_time, last_done = self._last
        self._last = (now, done)
        queued = len(self.crawler.engine._slot.scheduler) if self.crawler.engine._slot else 0
        return done, queued, (done - last_done) / max(now - last_time, 1e-6)

    def line(self) -> str:
        session = self.crawler.spider.session
        done, queued, rate = self._counts()
        return (f"{done} fetched, {queued}{'+' if session.frontier.has_pending() and queued else ''} "
                f"queued, {rate:.0f}/s, {session.stats['errors']} errors, "
                f"{sum(v for k, v in session.stats.items() if k.startswith('skipped/'))} skipped")

    def _phase(self) -> tuple[str, str]:
        """The crawl's phase now, and what it waits for."""
        spider = self.crawler.spider
        timer = getattr(spider, "_recheck_timer", None)
        if timer is not None and timer.active():
            self._rechecking = True
            from twisted.internet import reactor

            return "202 re-checks", f"waiting {max(timer.getTime() - reactor.seconds(), 0):.0f} s (Retry-After)"
        if self._rechecking:
            return "202 re-checks", "re-checking"
        stats = spider.session.stats
        if spider.session.robots_pending() or not stats["fetched"] + stats["errors"]:
            return "robots.txt and sitemaps", ""
        return "crawl", ""

    def report(self) -> None:
        terminal = Terminal.current
        if terminal is None:
            self.crawler.spider.logger.info(self.line())
            return
        name, detail = self._phase()
        counts = self._counts()
        if terminal.current_phase == "crawl" != name:  # the crawl, when left, keeps its last numbers
            self._show_pages(terminal, *counts)
        terminal.phase(name)
        if name == "crawl":
            self._show_pages(terminal, *counts)
        elif name == "202 re-checks":  # how many more is known only as they answer
            terminal.update(completed=self.rechecked, total=None, detail=detail)
        else:
            listed = self.crawler.stats.get_value("sitemap/urls", 0)
            terminal.update(completed=0, total=None, detail=f"{listed} URLs listed in sitemaps")

    def _show_pages(self, terminal: Terminal, done: int, queued: int, rate: float) -> None:
        limit = self.crawler.spider.options.max_pages
        errors = ", ".join(f"{kind} {n}" for kind, n in self.errors.most_common(4))
        parts = [f"errors: {errors}" if errors else "no errors"]
        if done + queued >= limit:
            parts.append(f"stops at --max-pages {limit}")
        terminal.update(completed=done, total=max(done + queued, 1), rate=f"{rate:.0f} pages/s",
                        detail=" · ".join(parts))
