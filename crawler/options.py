"""Everything one crawl is told: the options of `seo-audit crawl`, in one dataclass."""

from __future__ import annotations

import re
from base64 import b64encode
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from .extraction import Definitions, definitions
from .chromium import RENDER_MODES, require_chromium
from .urls import normalise

#: user-agent presets (Google's published strings; the robots.txt token is "Googlebot")
USER_AGENTS = {
    "seo-audit": "Mozilla/5.0 (compatible; seo-audit/0.1; +https://github.com/seo-audit/seo-audit)",
    "googlebot-desktop": ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
                          "Googlebot/2.1; +http://www.google.com/bot.html) Chrome/130.0.0.0 Safari/537.36"),
    "googlebot-smartphone": ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) "
                             "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile "
                             "Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
}

_SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization", "x-api-key"}


def redacted_url(url: str) -> str:
    """``url`` with its password (redis://user:password@host) replaced by <redacted>."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:" if parts.username else ":"
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}<redacted>@{host}"))


@dataclass
class CrawlOptions:
    start_url: str
    store: Path = Path("seo-audit.sqlite")
    job: str | None = None
    resume: bool = False  # continue the latest incomplete crawl of this start URL in the store
    # scope and limits: every crawl ends
    include: list[str] = field(default_factory=list)  # regexes a URL must match (any)
    exclude: list[str] = field(default_factory=list)  # regexes that exclude a URL
    extra_origins: list[str] = field(default_factory=list)  # more scheme://host:port in scope
    # the start URL's redirects (at most 10 hops) move the scope to where they end, unless strict
    strict_origin: bool = False
    # the ports of the site's HTTP and HTTPS: http://host:HTTP and https://host:HTTPS are one site
    http_port: int = 80
    https_port: int = 443
    max_pages: int = 100_000
    max_depth: int | None = None
    max_duration: float | None = None  # seconds
    trap_cap: int = 500  # URLs per path and set of query parameters (values blanked)
    trap_run: int = 50  # same-pattern pages in a row (next month, next session id...)
    max_url_length: int = 4096
    # URL families (crawler.families): once the first sample_size fetched pages of a family are all
    # noindex, canonicalised elsewhere or duplicates, its other members are recorded as sampled-out
    sampling: bool = True
    sample_size: int = 30
    # politeness
    concurrency: int = 5
    concurrency_per_host: int | None = None  # requests in flight per host; None: as concurrency
    delay: float = 0.0
    autothrottle: bool = False
    user_agent: str = "seo-audit"  # a preset name or a full string
    ignore_robots: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Authorization for staging
    # downloads
    timeout: float = 20.0
    ca_bundle: str | None = None  # PEM file of the CAs certificates are checked against; None: the system's
    max_size: int = 10 * 1024 * 1024
    retries: int = 2
    check_resources: bool = True
    # 202 re-checks: wait Retry-After (at most recheck_max_wait s), up to recheck_attempts times
    recheck_max_wait: float = 5.0
    recheck_attempts: int = 2
    # list mode: fetch exactly these URLs (their redirects followed to the end, across hosts)
    # and follow links list_depth clicks further, within the list's hosts; the scope is the list
    list_file: str | None = None  # a file of URLs, one a line, or a CSV with a url column; "-": stdin
    list_sitemap: str | None = None  # every URL of this sitemap (or sitemap index) is listed
    list_depth: int = 0
    list_urls: list[str] = field(default_factory=list)  # the list's URLs (crawler.url_list)
    list_counts: dict[str, int] = field(default_factory=dict)  # its lines: UrlList.counts()
    log_level: str = "INFO"
    memory_limit_mb: int = 0  # 0: no guard; else stop cleanly (Scrapy MEMUSAGE_LIMIT_MB)
    # rendering in the system Chromium (crawler.render): off, auto (a sample of each template,
    # whole templates where rendering changes what matters) or all (every HTML page)
    render: str = "off"
    render_concurrency: int = 2  # pages rendered at once
    render_timeout: float = 15.0  # seconds per page before it is recorded as a render timeout
    render_pages_per_context: int = 100  # pages per browser context before a fresh one
    # a crawl shared by worker processes through Redis (crawler.distributed); None: this process only
    redis_url: str | None = None  # redis://[user:password@]host:port/db, rediss:// for TLS
    redis_lease_ttl: float = 10.0  # seconds without a heartbeat before a worker's URLs are re-queued
    # seconds workers go on without a coordinator (it died: `crawl --redis --resume` re-attaches)
    redis_coordinator_timeout: float = 300.0
    # custom extraction and search on every HTML page (crawler.extraction): name -> spec
    extract: dict[str, str] = field(default_factory=dict)
    search: dict[str, str] = field(default_factory=dict)
    search_absent: dict[str, str] = field(default_factory=dict)
    # segments (audit.segments, checked by the job): name -> URL regex or {extract, regex};
    # recorded with the crawl so that its audit and notebook segment it alike, never read by it
    segments: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Credentials in the start URL (https://user:pass@staging/) become an Authorization
        header, as a browser sends them: never part of a recorded URL, never stored."""
        parts = urlsplit(self.start_url.strip())
        if parts.username is None:
            return
        token = b64encode(f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()).decode()
        self.headers = {**self.headers, "Authorization": f"Basic {token}"}
        self.start_url = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))

    @property
    def list_mode(self) -> bool:
        return bool(self.list_file or self.list_sitemap or self.list_urls)

    @property
    def site_ports(self) -> tuple[int, int]:
        return self.http_port, self.https_port

    @property
    def user_agent_string(self) -> str:
        return USER_AGENTS.get(self.user_agent, self.user_agent)

    def validate(self) -> None:
        """Raise ValueError naming the first bad option."""
        if normalise(self.start_url) is None:
            raise ValueError(f"start URL {self.start_url!r} is not an absolute http(s) URL")
        for name in ("max_pages", "trap_cap", "trap_run", "concurrency", "max_url_length", "sample_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("delay", "timeout", "recheck_max_wait", "retries", "recheck_attempts",
                     "memory_limit_mb", "max_size"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        for name in ("http_port", "https_port"):
            if not 0 < getattr(self, name) < 65536:
                raise ValueError(f"{name} must be a port (1 to 65535), got {getattr(self, name)}")
        if self.ca_bundle is not None and not Path(self.ca_bundle).is_file():
            raise ValueError(f"ca_bundle {self.ca_bundle!r} is not a file")
        if self.concurrency_per_host is not None and self.concurrency_per_host < 1:
            raise ValueError(f"concurrency_per_host must be at least 1, got {self.concurrency_per_host}")
        if self.list_depth < 0:
            raise ValueError(f"list_depth must not be negative, got {self.list_depth}")
        if self.list_sitemap is not None and normalise(self.list_sitemap) is None:
            raise ValueError(f"list_sitemap {self.list_sitemap!r} is not an absolute http(s) URL")
        if self.list_mode and self.redis_url:
            raise ValueError("list mode (list, list_sitemap) runs in one process: redis_url cannot be used with it")
        if self.max_depth is not None and self.max_depth < 0:
            raise ValueError(f"max_depth must not be negative, got {self.max_depth}")
        if self.max_duration is not None and self.max_duration <= 0:
            raise ValueError(f"max_duration must be positive, got {self.max_duration}")
        if self.redis_url is not None:
            if urlsplit(self.redis_url).scheme not in ("redis", "rediss", "unix"):
                raise ValueError(f"redis_url must be redis://, rediss:// or unix://, got {self.redis_url!r}")
        if self.render not in RENDER_MODES:
            raise ValueError(f"render must be one of {', '.join(RENDER_MODES)}, got {self.render!r}")
        for name in ("render_concurrency", "render_pages_per_context"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.render_timeout <= 0:
            raise ValueError(f"render_timeout must be positive, got {self.render_timeout}")
        if self.render != "off":
            require_chromium()
        for name in ("redis_lease_ttl", "redis_coordinator_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for pattern in (*self.include, *self.exclude):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad URL pattern {pattern!r}: {exc}") from None
        self.extraction()  # raises ValueError naming a bad selector, regex or name

    def extraction(self) -> Definitions:
        """The checked custom extractions and searches of the crawl."""
        return definitions(self.extract, self.search, self.search_absent)

    def recorded(self) -> dict:
        """The options as stored with the crawl: secrets in headers never leave the process."""
        data = asdict(self)
        data["store"] = str(self.store)
        data["list_urls"] = len(self.list_urls)  # the list is the crawl's pages; its count is enough here
        data["headers"] = {k: ("<redacted>" if k.lower() in _SECRET_HEADERS else v)
                           for k, v in self.headers.items()}
        if self.redis_url:
            data["redis_url"] = redacted_url(self.redis_url)
        return data

    def to_json_dict(self) -> dict:
        data = asdict(self)
        data["store"] = str(self.store)
        return data

    @classmethod
    def from_json_dict(cls, data: dict) -> "CrawlOptions":
        data = dict(data)
        data["store"] = Path(data["store"])
        return cls(**data)
