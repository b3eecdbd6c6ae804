"""The flags commands share (crawl, output, stored-crawl and log flags) and the settings they
give, shaped like a job file's (defaults < job file < flags)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from seo_audit.jobs import DEFAULT_STORE_NAME, FAIL_ON


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"must be a port (1 to 65535), got {value}")
    return value


def non_negative(kind):
    def parse(text: str):
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
        return value
    return parse


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()

def add_output_args(p: argparse.ArgumentParser, default_out: str | None) -> None:
    p.add_argument("--out", type=Path, default=Path(default_out) if default_out else None,
                   help="folder for report.html, pages.csv and the other outputs (default audit-output)")
    p.add_argument("--store", type=Path, help=f"crawl store (SQLite); default OUT/{DEFAULT_STORE_NAME}")
    p.add_argument("--no-report", action="store_true", help="crawl and audit only; write no report files")
    p.add_argument("--csv-bom", action="store_true", help="write CSV with a UTF-8 BOM (Excel on Windows)")
    p.add_argument("--fail-on", choices=FAIL_ON,
                   help="exit 1 if any finding has this severity or worse; 'new': any finding the "
                        "previous crawl of the job did not have")
    p.add_argument("--webhook", metavar="URL", help="POST the run's summary JSON here when it ends")
    p.add_argument("--retention", type=positive_int, metavar="N",
                   help="keep only the last N crawls of this job in the store")
    add_memory_arg(p)
    add_script_args(p)
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's full log")


def add_memory_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--memory-budget", metavar="SIZE",
                   help="peak memory of the audit and report, e.g. 2GB (the default) or 512MB; larger "
                        "crawls spill to disk and take longer")


def add_script_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors and the final summary line")
    p.add_argument("--json", action="store_true", help="print the final summary as one JSON object on stdout")


def add_crawl_args(p: argparse.ArgumentParser) -> None:
    """Crawl flags default to "not given" (SUPPRESS), so that a job file's values stand unless a
    flag overrides them; the defaults named in the help are CrawlOptions'."""
    def add(*names, **kwargs):
        p.add_argument(*names, default=argparse.SUPPRESS, **kwargs)

    add("--max-pages", type=positive_int, help="stop admitting URLs after this many (default 100000)")
    add("--max-depth", type=non_negative(int), help="do not fetch URLs more clicks than this from the start")
    add("--max-duration", type=non_negative(float), help="stop the crawl after this many seconds")
    add("--include", action="append", metavar="REGEX", help="only URLs matching one of these (repeatable)")
    add("--exclude", action="append", metavar="REGEX", help="skip URLs matching this (repeatable)")
    add("--trap-cap", type=positive_int, help="URLs per path and set of query parameters (values blanked) before the rest are recorded as a trap (default 500)")
    add("--trap-run", type=positive_int, help="same-pattern pages in a row (next month, next session id...) before the next is recorded as a trap (default 50)")
    add("--strict-origin", action="store_true", help="crawl only the start URL's origin: do not follow its redirects to another host or scheme, nor treat http:// and https:// of a host as one site")
    add("--http-port", type=_port, help="the site's HTTP port: http://host:PORT and https://host:HTTPS-PORT are one site (default 80)")
    add("--https-port", type=_port, help="the site's HTTPS port (default 443)")
    add("--ca-bundle", metavar="FILE", help="PEM file of the CAs HTTPS certificates are checked against (default: the system's)")
    add("--concurrency", type=positive_int, help="requests in flight (default 5)")
    add("--concurrency-per-host", type=positive_int, metavar="N",
        help="requests in flight per host (default: --concurrency); list mode spreads over many hosts")
    add("--delay", type=non_negative(float), help="seconds between requests")
    add("--autothrottle", action="store_true", help="adapt the rate to the server's latency")
    add("--user-agent", help="seo-audit (default), googlebot-desktop, googlebot-smartphone or a full string")
    add("--ignore-robots", action="store_true", help="fetch URLs robots.txt disallows (staging audits); still recorded")
    add("--header", action="append", type=_header, metavar="'NAME: VALUE'", help="extra request header, e.g. for a staging site's auth (never written to outputs)")
    add("--timeout", type=non_negative(float), help="download timeout, seconds (default 20)")
    add("--max-size", type=positive_int, help="max body bytes, decompressed (default 10 MiB)")
    add("--retries", type=non_negative(int), help="retries of a failed download (default 2)")
    add("--no-resources", action="store_true", help="do not check images, scripts, stylesheets")
    add("--no-sampling", action="store_true", help="fetch every member of a URL family, even once a sample of it is all noindex, canonicalised or duplicate")
    add("--sample-size", type=positive_int, help="pages of a URL family fetched before it may be sampled out (default 30)")
    add("--recheck-max-wait", type=non_negative(float), help="longest wait before re-checking a 202 (default 5)")
    add("--recheck-attempts", type=non_negative(int), help="re-checks of a 202 (default 2)")
    add("--memory-limit-mb", type=positive_int, help="stop cleanly (state stopped-at-limit, resumable) past this RSS")
    from crawler.render import RENDER_MODES

    add("--render", choices=RENDER_MODES, help="render pages in the system Chromium: all HTML pages, "
        "or auto: a sample of each template, whole templates where rendering changes links, title, "
        "robots, canonical, h1 or text (default off)")
    add("--render-concurrency", type=positive_int, help="pages rendered at once (default 2)")
    add("--render-timeout", type=non_negative(float), help="seconds per rendered page before it is recorded as a render timeout (default 15)")
    add("--render-pages-per-context", type=positive_int, help="pages per browser context before a fresh one (default 100)")
    add("--extract", action="append", metavar="NAME=[MODE:]KIND:EXPR",
        help="custom extraction from every HTML page (repeatable): KIND css, xpath or regex; MODE "
             "first (default), all or count; e.g. price=css:.price::text, tags=all:css:a.tag::text; "
             "column extract_NAME")
    add("--search", action="append", metavar="NAME=[text:][regex:]TEXT",
        help="flag HTML pages whose HTML (text: their visible text) contains TEXT (repeatable); "
             "column search_NAME (match count), rule custom-search-match")
    add("--search-absent", action="append", metavar="NAME=[text:][regex:]TEXT",
        help="flag HTML pages that lack TEXT (repeatable); rule custom-search-absent")
    _add_segments_arg(p)
    add("--resume", action="store_true", help="continue the last unfinished crawl of this URL in the store")
    add("--job", help="a name for this crawl job (history, comparison, lock); default: the job file's name")
    add("--list", metavar="FILE", help="list mode: fetch exactly these URLs, no start URL (one a line, or a "
                                       "CSV with a url column; - for stdin); see README 'List mode'")
    add("--list-sitemap", metavar="URL", help="list mode: every URL of this sitemap or sitemap index")
    add("--list-depth", type=non_negative(int), metavar="N",
        help="list mode: follow links N clicks from the listed URLs, within their hosts (default 0: none)")


def _add_segments_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--segments", action="append", default=argparse.SUPPRESS, metavar="NAME=REGEX",
                   help="a segment: URLs matching REGEX (repeatable, first match wins; replaces the "
                        "job file's [segments]; default: first path folder)")

def add_store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", type=Path, help="crawl store (default: the job file's)")
    p.add_argument("--job", help="only this job's crawls (default: the job file's)")
    p.add_argument("--config", type=Path, metavar="JOB.toml", help="job file: its store and job name")


def add_stored_crawl_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", type=Path, help="crawl store (default: the job file's)")
    p.add_argument("--crawl", type=int, help="crawl id (default: the latest)")
    p.add_argument("--config", type=Path, metavar="JOB.toml",
                   help="job file: its store, rules and branding")
    _add_segments_arg(p)
    add_script_args(p)

def add_log_args(p: argparse.ArgumentParser, *, files_flag: bool) -> None:
    """The log flags; ``files_flag``: the files as --logs (crawl) rather than positional."""
    if files_flag:
        p.add_argument("--logs", nargs="+", metavar="FILE", default=argparse.SUPPRESS,
                       help="server access logs to join with the crawl (globs allowed; .gz, .bz2)")
    else:
        p.add_argument("files", nargs="*", metavar="FILE",
                       help="server access logs (globs allowed; plain, .gz, .bz2); default: the job file's logs")
    p.add_argument("--format", dest="log_format", default=argparse.SUPPRESS, metavar="FORMAT",
                   help="force the log format: combined, common, vhost, w3c, cloudfront, cloudflare, "
                        "or 'regex:PATTERN' with named groups (default: detected per file)")
    p.add_argument("--bot-ranges", action="append", metavar="[NAME=]FILE", default=argparse.SUPPRESS,
                   help="published IP ranges of a crawler (googlebot.json's format), named after the "
                        "file (googlebot, special-crawlers, bingbot, ...); replaces the snapshot of Google's "
                        "that ships under that name; repeatable")
    p.add_argument("--verify-dns", action="store_true", default=argparse.SUPPRESS,
                   help="also verify bots by reverse and forward DNS (cached, bounded)")


# --- settings from the command line ---------------------------------------------------------

#: top-level job settings and the flag that sets each
_FLAG_OF_SETTING = {"start_url": "url", "out": "out", "store": "store", "job": "job",
                    "retention": "retention", "webhook": "webhook", "fail_on": "fail_on",
                    "memory_budget": "memory_budget"}


def flag_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The flags given, shaped like a job file's settings (see seo_audit.config)."""
    from seo_audit.config import CRAWL_KEYS

    given = {k: v for k, v in vars(args).items() if v is not None}
    settings: dict[str, Any] = {key: given[flag] for key, flag in _FLAG_OF_SETTING.items() if flag in given}
    settings.update({flag: True for flag in ("csv_bom", "resume") if given.get(flag)})
    crawl = {name: given[name] for name in CRAWL_KEYS if name in given}
    if given.get("no_resources"):
        crawl["check_resources"] = False
    if given.get("no_sampling"):
        crawl["sampling"] = False
    if "header" in given:
        crawl["headers"] = dict(given["header"])
    settings["crawl"] = crawl
    settings.update(log_settings(args))
    settings.update(_custom_flags(given))
    return settings


def _custom_flags(given: dict[str, Any]) -> dict[str, dict[str, str]]:
    """--extract, --search, --search-absent and --segments as the job file's tables; ValueError
    names a flag not shaped NAME=SPEC (the specs are checked with the job)."""
    from crawler.extraction import split_spec

    tables = {}
    for flag, what in (("extract", "--extract"), ("search", "--search"), ("search_absent", "--search-absent"),
                       ("segments", "--segments")):
        if flag in given:
            pairs = [split_spec(text, what) for text in given[flag]]
            names = [name for name, _ in pairs]
            repeated = next((name for name in names if names.count(name) > 1), None)
            if repeated:
                raise ValueError(f"{what} {repeated} is given twice")
            tables[flag] = dict(pairs)
    return tables


def job_settings(args: argparse.Namespace, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """defaults < job file (--config) < flags."""
    from seo_audit.config import merge, read_job_file

    base = merge(defaults or {}, read_job_file(args.config) if getattr(args, "config", None) else {})
    return merge(base, flag_settings(args))


def log_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The log flags given, as a job file's ``logs`` settings."""
    given = vars(args)
    settings: dict[str, Any] = {}
    files = given.get("files") or given.get("logs")
    if files:
        settings["logs"] = list(files)
    for flag, key in (("log_format", "log_format"), ("bot_ranges", "bot_ranges"), ("verify_dns", "verify_dns")):
        if flag in given:
            settings[key] = given[flag]
    return settings


def stored_job(args: argparse.Namespace, parser: argparse.ArgumentParser):
    """The job file's store, job name, rules and branding, with --store/--job/--out over them."""
    from seo_audit.config import build_job

    try:
        settings = job_settings(args)
        if not (settings.get("store") or settings.get("out")):
            parser.error("--store or --config is needed")
        job = build_job(settings, crawl=False)
    except ValueError as exc:  # ConfigError too: it names the file, key and line
        parser.error(str(exc))
    if not job.store.exists():
        parser.error(f"no crawl store at {job.store}")
    return job
