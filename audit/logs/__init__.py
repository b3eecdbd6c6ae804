"""Server access logs joined with the crawl: what Googlebot really fetched.

In a notebook::

    import audit
    logs = audit.load_logs(["access.log.gz"], "site.db", ranges=["googlebot.json"])
    logs.bot_hits      # url, bot, verified, hits, statuses, first_hit, last_hit
    logs.urls          # per URL Googlebot fetched: hits, statuses, days since last hit, crawl facts
    logs.budget        # Googlebot's crawl budget: waste share by cause

Only bots' hits are kept: a visitor's line is counted and dropped inside the engine, so no
frame, file or store row holds a visitor's IP address.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from audit.logs.bots import BOTS, DnsVerifier, Ranges, RangesError, read_ranges, shipped_ranges
from audit.logs.join import BOT_HITS_COLUMNS, GOOGLEBOT, googlebot_budget, join_hits, url_facts, verify_senders
from audit.logs.read import FORMATS, LogFormatError, compression, connect, read_logs

__all__ = ["LogFacts", "load_logs", "analyse_logs", "join_logs", "place_logs", "FORMATS", "LogFormatError", "RangesError",
           "BOTS", "BOT_HITS_COLUMNS", "GOOGLEBOT", "DnsVerifier"]

log = logging.getLogger(__name__)


@contextmanager
def _timed(stage: str):
    """Logs (debug) how long a stage of join_logs took; its record carries ``stage`` and
    ``seconds`` for the benchmark's table of stages."""
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    log.debug("logs: %s in %.1f s", stage, seconds, extra={"stage": stage, "seconds": seconds})


@dataclass
class LogFacts:
    """What the logs say, as frames (see the module docstring) and the run's figures."""

    files: list[dict]  # per file: file, format, compression, lines, bot_lines, human_lines, rejected
    rejected: pd.DataFrame  # file, why, lines, samples ([{"line", "text"}])
    bot_hits: pd.DataFrame  # BOT_HITS_COLUMNS
    googlebot: pd.DataFrame  # trusted Googlebot hits: url, day, status, hits, first_hit, last_hit
    urls: pd.DataFrame  # per URL Googlebot fetched: hits, statuses, first/last hit, days since (+ crawl facts once placed)
    daily: pd.DataFrame  # day, bot, verified, status_class, hits, response_time
    spoofed: pd.DataFrame  # url, hits, addresses
    monitors: pd.DataFrame  # per day and bot (not spoofed): hits answered 202, hits on the crawl's status monitors
    budget: dict[str, Any]  # googlebot_budget; {} until placed by the crawl's audit (place_logs)
    ranges: list[dict]  # the ranges files used: name, file, creation_time, age_days, stale
    googlebot_trust: str  # 'verified' or 'claimed' (no ranges nor DNS: Googlebot's word taken)
    window: tuple[Any, Any]
    dns: dict[str, Any] = field(default_factory=dict)
    restored: bool = False  # read back from the store (from_parts), not from the log files

    #: the frames kept in the store by to_parts
    FRAMES = ("rejected", "bot_hits", "googlebot", "urls", "daily", "spoofed", "monitors")

    def to_parts(self) -> dict[str, bytes]:
        """What join_logs gave, for the store (crawler.store.set_log_facts): the figures as JSON,
        each frame as Parquet (types kept). Googlebot's budget is left out: place_logs derives
        it again from the audit that reads these facts."""
        import json

        parts = {name: _parquet(getattr(self, name)) for name in self.FRAMES}
        figures = {"files": self.files, "ranges": self.ranges, "googlebot_trust": self.googlebot_trust,
                   "window": [None if t is None else t.isoformat() for t in self.window], "dns": self.dns}
        parts["figures"] = json.dumps(figures, default=str).encode()
        return parts

    @classmethod
    def from_parts(cls, parts: dict[str, bytes]) -> "LogFacts":
        """The facts to_parts kept, for a crawl audited again without its log files."""
        import io
        import json

        figures = json.loads(parts["figures"])
        frames = {name: pd.read_parquet(io.BytesIO(parts[name])) for name in cls.FRAMES}
        frames["urls"] = frames["urls"][[c for c in frames["urls"].columns if c not in _CRAWL_FACTS]]
        frames["rejected"]["samples"] = [[dict(s) for s in samples] for samples in frames["rejected"]["samples"]]
        window = tuple(None if t is None else pd.Timestamp(t) for t in figures["window"])
        return cls(figures["files"], budget={}, ranges=figures["ranges"], googlebot_trust=figures["googlebot_trust"],
                   window=window, dns=figures["dns"], restored=True, **frames)

    @property
    def lines_read(self) -> int:
        return sum(f["lines"] for f in self.files)

    @property
    def lines_rejected(self) -> int:
        return sum(f["rejected"] for f in self.files)

    def summary(self) -> dict[str, Any]:
        """log-summary.json's figures (also summary.json's ``logs``)."""
        bots = self.bot_hits.groupby(["bot", "verified"])["hits"].sum()
        per_bot: dict[str, dict[str, int]] = {}
        for (bot, verified), hits in bots.items():
            per_bot.setdefault(bot, {"yes": 0, "no": 0, "unknown": 0})[verified] = int(hits)
        start, end = self.window
        return {
            "files": self.files,
            "lines_read": self.lines_read,
            "lines_rejected": self.lines_rejected,
            "bot_lines": sum(f["bot_lines"] for f in self.files),
            "human_lines": sum(f["human_lines"] for f in self.files),
            "rejected_samples": self.rejected.to_dict("records"),
            "window": {"first_hit": start.isoformat() if start is not None else None,
                       "last_hit": end.isoformat() if end is not None else None},
            "bots": {bot: {"verified": v["yes"], "spoofed": v["no"], "unverified": v["unknown"]}
                     for bot, v in sorted(per_bot.items())},
            "googlebot": {"trust": self.googlebot_trust, **self.budget},
            "spoofed_googlebot_hits": int(self.spoofed["hits"].sum()) if len(self.spoofed) else 0,
            "verification": {"ranges": self.ranges, **self.dns},
        }


    def headline(self) -> dict[str, Any]:
        """summary.json's ``logs`` (and what the store keeps for comparisons): the figures a
        dashboard follows."""
        summary = self.summary()
        return {key: summary[key] for key in ("lines_read", "lines_rejected", "bot_lines", "human_lines",
                                              "window", "bots", "googlebot", "spoofed_googlebot_hits")}


#: rows of a frame turned into Parquet at a time (to_parts): a million-row frame whole in Arrow
#: held a hundred MiB more at once
PARQUET_ROWS = 65_536


def _parquet(frame: pd.DataFrame) -> bytes:
    """``frame`` (its index left out) as Parquet, as pandas' to_parquet writes it, PARQUET_ROWS
    rows of it in Arrow at a time."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, schema) as writer:
        for at in range(0, len(frame), PARQUET_ROWS):
            writer.write_table(pa.Table.from_pandas(frame.iloc[at:at + PARQUET_ROWS], schema=schema,
                                                    preserve_index=False))
    return buffer.getvalue()


def _expand(patterns: Iterable[str]) -> list[str]:
    """Paths of the files named, globs expanded (sorted); a pattern matching nothing is an error."""
    import glob

    paths: list[str] = []
    for pattern in patterns:
        found = sorted(glob.glob(str(pattern))) if glob.has_magic(str(pattern)) else [str(pattern)]
        if not found:
            raise LogFormatError(f"no log file matches {pattern}")
        for path in found:
            if not Path(path).is_file():
                raise LogFormatError(f"no log file at {path}")
        paths += [p for p in found if p not in paths]
    return paths


def join_logs(paths: Iterable[str], crawl: Any, *, ranges: Iterable[str | Path | Ranges] = (),
              verify_dns: bool | DnsVerifier = False, log_format: str | None = None,
              threads: int | None = None, shipped: bool = True) -> LogFacts:
    """The logs at ``paths`` (globs allowed) read, their bots verified and their hits joined with
    ``crawl`` (audit.load_crawl): what the log rules read. Bots are verified by the ranges the
    package ships (audit.logs.bots.SHIPPED; ``shipped=False``: none) and ``ranges``, which
    replace the shipped file of their name. Googlebot's budget and the crawl's
    facts per URL wait for the crawl's audit (place_logs)."""
    files = _expand(paths)
    given = {r.name: r for r in (r if isinstance(r, Ranges) else read_ranges(r) for r in ranges)}
    # the snapshot that ships, each file replaced by a given one of its name
    by_name = {**({r.name: r for r in shipped_ranges()} if shipped else {}), **given}
    loaded = list(by_name.values())
    dns = verify_dns if isinstance(verify_dns, DnsVerifier) else DnsVerifier() if verify_dns else None
    monitor_urls = crawl.pages.loc[crawl.pages["fetch_kind"].eq("status-url"), "url"].tolist()
    with connect(threads) as con:
        with _timed("read"):
            read = read_logs(con, files, log_format)
        with _timed("verify"):
            verify_senders(con, by_name, dns)
        with _timed("join"):
            joined = join_hits(con, crawl.pages["url"], crawl.start_url, by_name, dns, monitor_urls)
    rejected = read.rejected.groupby("file")["lines"].sum()
    described = [{"file": f.path, "format": f.format, "compression": compression(f.path),
                  "lines": read.lines[f.path], "bot_lines": read.bots[f.path],
                  "human_lines": read.humans[f.path], "rejected": int(rejected.get(f.path, 0))}
                 for f in read.files]
    described += [{"file": path, "format": None, "compression": None, "lines": 0, "bot_lines": 0, "human_lines": 0,
                   "rejected": 0, "error": why} for path, why in read.unreadable.items()]
    return LogFacts(described, read.rejected, joined.bot_hits, joined.googlebot,
                    url_facts(joined.googlebot_urls, joined.window[1]), joined.daily, joined.spoofed,
                    joined.monitors, {}, [r.describe() for r in loaded], joined.googlebot_trust, joined.window,
                    {"dns": bool(dns), "dns_lookups": len(dns.cache) if dns else 0,
                     "dns_skipped": joined.dns_skipped})


def place_logs(facts: LogFacts, crawl: Any, findings: pd.DataFrame) -> LogFacts:
    """``facts`` with Googlebot's crawl budget and the crawl's facts per URL, placed by the
    crawl's audit (``findings``: what its rules found, the causes of waste of audit.budget)."""
    from audit.budget import waste_causes

    causes = waste_causes(crawl, findings)
    return dataclasses.replace(facts, budget=googlebot_budget(facts.googlebot, crawl.pages, causes),
                               urls=_with_crawl_facts(facts.urls, crawl.pages, causes))


def analyse_logs(paths: Iterable[str], crawl: Any, **options: Any) -> LogFacts:
    """join_logs then place_logs, by the findings ``crawl`` holds (its stored audit)."""
    return place_logs(join_logs(paths, crawl, **options), crawl, crawl.findings)


#: the pages columns join_logs and place_logs read (besides audit.budget.waste_causes')
PAGES_READ = ("url", "fetch_kind", "status", "indexable", "crawlable", "in_sitemap")
#: the columns _with_crawl_facts adds to LogFacts.urls
_CRAWL_FACTS = ("in_crawl", "crawl_status", "indexable", "crawlable", "in_sitemap", "crawl_cause")


def _with_crawl_facts(facts: pd.DataFrame, pages: pd.DataFrame, causes: pd.Series) -> pd.DataFrame:
    rows = pd.Index(pages["url"]).get_indexer(facts["url"])
    known = rows >= 0

    def column(values: pd.Series, missing: Any) -> list:
        taken = values.to_numpy(dtype=object)
        return [taken[r] if r >= 0 else missing for r in rows]

    return facts.assign(in_crawl=known, crawl_status=pd.array(column(pages["status"], None), dtype="Int64"),
                        indexable=column(pages["indexable"], False), crawlable=column(pages["crawlable"], False),
                        in_sitemap=column(pages["in_sitemap"], False),
                        crawl_cause=[c if isinstance(c, str) else None for c in column(causes, None)])


def load_logs(paths: Iterable[str], store: str | Path, crawl_id: int | None = None, **options: Any) -> LogFacts:
    """The notebook API: the logs at ``paths`` joined with crawl ``crawl_id`` (the latest if None)
    of ``store``; ``options`` as analyse_logs takes them (ranges, verify_dns, log_format)."""
    from audit.engine import run_audit
    from audit.load import load_crawl

    crawl = load_crawl(store, crawl_id)
    if not len(crawl.findings):
        crawl.findings = run_audit(crawl)
    return analyse_logs(paths, crawl, **options)
