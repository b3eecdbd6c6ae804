"""`seo-audit`: crawl a site, audit it, write the report. A thin layer over the library.

Exit codes (scripts and CI depend on them):
  0  success
  1  findings at or above --fail-on (with --fail-on new: findings the previous crawl of the
     job did not have)
  2  usage or configuration error (nothing was crawled or written)
  3  the crawl could not run (start URL unreachable, or it answered nothing usable)
  4  the crawl store (or the output folder) could not be opened or written, or the store was
     written by a newer release, or is not a crawl store, or an output could not be written
     (the others are; the summary's "missing" names it)
  5  another run of the same job is running (it holds the job's lock)
  130 interrupted (SIGINT or SIGTERM): what was crawled is kept, the crawl is marked
      incomplete and `--resume` continues it; no report is written
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from seo_audit import sitemap_cmd

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_CRAWL_FAILED, EXIT_STORE, EXIT_LOCKED = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130
#: the word a script reads in the JSON summary's "outcome" for each exit code
OUTCOMES = {EXIT_OK: "ok", EXIT_FINDINGS: "findings", EXIT_USAGE: "usage-error",
            EXIT_CRAWL_FAILED: "crawl-failed", EXIT_STORE: "store-error", EXIT_LOCKED: "locked",
            EXIT_INTERRUPTED: "interrupted"}
#: why a page was rendered (crawler.render), as the summary counts them
RENDER_REASONS = ("all", "auto-sample", "auto-template-differs", "auto-resample")
SEVERITIES = ("critical", "warning", "notice")
FAIL_ON = (*SEVERITIES, "new")
DEFAULT_STORE_NAME = "seo-audit.sqlite"
#: the full log of a run (Scrapy's included), appended in the output folder (or the store's)
LOG_FILE_NAME = "crawl.log"
#: how many URLs `compare` prints per list before pointing to compare.csv
SHOWN_URLS = 20
#: an audit with more findings than this is saved to the store by a process of its own
FINDINGS_STORED_APART = 100_000

log = logging.getLogger("seo_audit")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"must be a port (1 to 65535), got {value}")
    return value


def _non_negative(kind):
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


def _add_output_args(p: argparse.ArgumentParser, default_out: str | None) -> None:
    p.add_argument("--out", type=Path, default=Path(default_out) if default_out else None,
                   help="folder for report.html, pages.csv and the other outputs (default audit-output)")
    p.add_argument("--store", type=Path, help=f"crawl store (SQLite); default OUT/{DEFAULT_STORE_NAME}")
    p.add_argument("--no-report", action="store_true", help="crawl and audit only; write no report files")
    p.add_argument("--csv-bom", action="store_true", help="write CSV with a UTF-8 BOM (Excel on Windows)")
    p.add_argument("--fail-on", choices=FAIL_ON,
                   help="exit 1 if any finding has this severity or worse; 'new': any finding the "
                        "previous crawl of the job did not have")
    p.add_argument("--webhook", metavar="URL", help="POST the run's summary JSON here when it ends")
    p.add_argument("--retention", type=_positive_int, metavar="N",
                   help="keep only the last N crawls of this job in the store")
    _add_script_args(p)
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's full log")


def _add_script_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors and the final summary line")
    p.add_argument("--json", action="store_true", help="print the final summary as one JSON object on stdout")


def _add_crawl_args(p: argparse.ArgumentParser) -> None:
    """Crawl flags default to "not given" (SUPPRESS), so that a job file's values stand unless a
    flag overrides them; the defaults named in the help are CrawlOptions'."""
    def add(*names, **kwargs):
        p.add_argument(*names, default=argparse.SUPPRESS, **kwargs)

    add("--max-pages", type=_positive_int, help="stop admitting URLs after this many (default 100000)")
    add("--max-depth", type=_non_negative(int), help="do not fetch URLs more clicks than this from the start")
    add("--max-duration", type=_non_negative(float), help="stop the crawl after this many seconds")
    add("--include", action="append", metavar="REGEX", help="only URLs matching one of these (repeatable)")
    add("--exclude", action="append", metavar="REGEX", help="skip URLs matching this (repeatable)")
    add("--trap-cap", type=_positive_int, help="URLs per path and set of query parameters (values blanked) before the rest are recorded as a trap (default 500)")
    add("--trap-run", type=_positive_int, help="same-pattern pages in a row (next month, next session id...) before the next is recorded as a trap (default 50)")
    add("--strict-origin", action="store_true", help="crawl only the start URL's origin: do not follow its redirects to another host or scheme, nor treat http:// and https:// of a host as one site")
    add("--http-port", type=_port, help="the site's HTTP port: http://host:PORT and https://host:HTTPS-PORT are one site (default 80)")
    add("--https-port", type=_port, help="the site's HTTPS port (default 443)")
    add("--ca-bundle", metavar="FILE", help="PEM file of the CAs HTTPS certificates are checked against (default: the system's)")
    add("--concurrency", type=_positive_int, help="requests in flight (default 5)")
    add("--concurrency-per-host", type=_positive_int, metavar="N",
        help="requests in flight per host (default: --concurrency); list mode spreads over many hosts")
    add("--delay", type=_non_negative(float), help="seconds between requests")
    add("--autothrottle", action="store_true", help="adapt the rate to the server's latency")
    add("--user-agent", help="seo-audit (default), googlebot-desktop, googlebot-smartphone or a full string")
    add("--ignore-robots", action="store_true", help="fetch URLs robots.txt disallows (staging audits); still recorded")
    add("--header", action="append", type=_header, metavar="'NAME: VALUE'", help="extra request header, e.g. for a staging site's auth (never written to outputs)")
    add("--timeout", type=_non_negative(float), help="download timeout, seconds (default 20)")
    add("--max-size", type=_positive_int, help="max body bytes, decompressed (default 10 MiB)")
    add("--retries", type=_non_negative(int), help="retries of a failed download (default 2)")
    add("--no-resources", action="store_true", help="do not check images, scripts, stylesheets")
    add("--no-sampling", action="store_true", help="fetch every member of a URL family, even once a sample of it is all noindex, canonicalised or duplicate")
    add("--sample-size", type=_positive_int, help="pages of a URL family fetched before it may be sampled out (default 30)")
    add("--recheck-max-wait", type=_non_negative(float), help="longest wait before re-checking a 202 (default 5)")
    add("--recheck-attempts", type=_non_negative(int), help="re-checks of a 202 (default 2)")
    add("--memory-limit-mb", type=_positive_int, help="stop cleanly (state stopped-at-limit, resumable) past this RSS")
    from crawler.render import RENDER_MODES

    add("--render", choices=RENDER_MODES, help="render pages in the system Chromium: all HTML pages, "
        "or auto: a sample of each template, whole templates where rendering changes links, title, "
        "robots, canonical, h1 or text (default off)")
    add("--render-concurrency", type=_positive_int, help="pages rendered at once (default 2)")
    add("--render-timeout", type=_non_negative(float), help="seconds per rendered page before it is recorded as a render timeout (default 15)")
    add("--render-pages-per-context", type=_positive_int, help="pages per browser context before a fresh one (default 100)")
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
    add("--list-depth", type=_non_negative(int), metavar="N",
        help="list mode: follow links N clicks from the listed URLs, within their hosts (default 0: none)")


def _add_segments_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--segments", action="append", default=argparse.SUPPRESS, metavar="NAME=REGEX",
                   help="a segment: URLs matching REGEX (repeatable, first match wins; replaces the "
                        "job file's [segments]; default: first path folder)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seo-audit", description=__doc__.split("\n")[0],
                                     epilog=__doc__.split("\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True)

    crawl = verbs.add_parser("crawl", help="crawl a site, audit it, write the report")
    crawl.add_argument("url", nargs="?", help="start URL (optional with --config)")
    crawl.add_argument("--config", type=Path, metavar="JOB.toml", help="job file; flags override it")
    _add_output_args(crawl, default_out=None)
    _add_crawl_args(crawl)
    crawl.add_argument("--redis", dest="redis_url", default=argparse.SUPPRESS, metavar="URL",
                       help="share the crawl with `seo-audit worker` processes through this Redis "
                            "(redis://[user:password@]host:port/db, rediss:// for TLS)")

    worker = verbs.add_parser("worker", help="join a crawl started with crawl --redis, from any machine")
    worker.add_argument("--redis", required=True, metavar="URL", help="the crawl's Redis URL")
    worker.add_argument("--max-idle", type=_non_negative(float), metavar="S",
                        help="leave after S seconds in a row with nothing to fetch (default: stay to the end)")
    worker.add_argument("--wait", type=_non_negative(float), default=60.0, metavar="S",
                        help="how long to wait for a crawl to start (default 60)")
    worker.add_argument("-v", "--verbose", action="store_true", help="Scrapy's full log")

    demo = verbs.add_parser("demo", help="crawl the bundled demo site (served on 127.0.0.1) and write its report")
    _add_output_args(demo, default_out="demo-output")
    from crawler.render import RENDER_MODES

    demo.add_argument("--render", choices=RENDER_MODES, default=argparse.SUPPRESS,
                      help="render the demo's pages in the system Chromium (auto shows its JavaScript pages)")

    report = verbs.add_parser("report", help="re-render the report of a stored crawl, without crawling")
    _add_stored_crawl_args(report)
    report.add_argument("--out", type=Path, help="output folder (default: the job file's, else required)")
    report.add_argument("--csv-bom", action="store_true")

    audit = verbs.add_parser("audit", help="re-run the audit rules on a stored crawl and print the summary")
    _add_stored_crawl_args(audit)
    audit.add_argument("--fail-on", choices=FAIL_ON)

    history = verbs.add_parser("history", help="list the crawls in a store: state, timing, findings")
    _add_store_args(history)
    history.add_argument("--keep", type=_positive_int, metavar="N",
                         help="first delete all but the last N crawls of --job")
    history.add_argument("--json", action="store_true", help="print the list as JSON")

    compare = verbs.add_parser(
        "compare", help="what changed between two crawls: findings, statuses, URLs, crawl budget",
        description="No id: the newest finished crawl (of --job) against the previous one of its "
                    "job. One id: that crawl against the previous one of its job. Two: OLD NEW.")
    _add_store_args(compare)
    compare.add_argument("ids", nargs="*", type=int, metavar="[OLD] NEW", help="crawl ids (see history)")
    compare.add_argument("--out", type=Path, help="write compare.csv and compare.json here")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")
    sitemap_cmd.register(verbs)

    from seo_audit import logs_cmd

    logs_cmd.add_parser(verbs)
    logs_cmd.add_log_args(crawl, files_flag=True)
    return parser


def _add_store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", type=Path, help="crawl store (default: the job file's)")
    p.add_argument("--job", help="only this job's crawls (default: the job file's)")
    p.add_argument("--config", type=Path, metavar="JOB.toml", help="job file: its store and job name")


def _add_stored_crawl_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", type=Path, help="crawl store (default: the job file's)")
    p.add_argument("--crawl", type=int, help="crawl id (default: the latest)")
    p.add_argument("--config", type=Path, metavar="JOB.toml",
                   help="job file: its store, rules and branding")
    _add_segments_arg(p)
    _add_script_args(p)


# --- settings from the command line ---------------------------------------------------------

#: top-level job settings and the flag that sets each
_FLAG_OF_SETTING = {"start_url": "url", "out": "out", "store": "store", "job": "job",
                    "retention": "retention", "webhook": "webhook", "fail_on": "fail_on"}


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
    from seo_audit.logs_cmd import log_settings

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


# --- output ------------------------------------------------------------------------------------

def _redact_log_records() -> None:
    """Every log record, ours and Scrapy's, with URL credentials masked (user:pass@, tokens)."""
    from reports.safe import redact

    make_record = logging.getLogRecordFactory()

    def redacted_record(*args, **kwargs):
        record = make_record(*args, **kwargs)
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return record

    logging.setLogRecordFactory(redacted_record)


def _setup_logging(quiet: bool) -> None:
    """Plain timestamped lines on stderr, in Scrapy's format, so a cron mail or journal reads as
    one log. Not through the root logger: Scrapy installs its own handler there."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s [seo-audit] %(levelname)s: %(message)s",
                                           "%Y-%m-%d %H:%M:%S"))
    for logger in (log, logging.getLogger("reports")):  # the reports package names what it could not write
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.ERROR if quiet else logging.INFO)


def _summary_line(summary: dict[str, Any]) -> str:
    """The final line of a run: what ran, how it ended, what it found, the exit code."""
    subject = f"crawl {summary['crawl_id']}" if summary.get("crawl_id") else "run"
    if summary.get("job"):
        subject += f" of job {summary['job']}"
    if summary.get("list"):
        subject += f" (list of {summary['list']['urls']:,} URLs on {len(summary['list']['hosts'])} hosts)"
    elif summary.get("start_url"):
        moved = f" -> {summary['site']['url']}" if summary.get("site") else ""
        subject += f" ({summary['start_url']}{moved})"
    parts = [f"seo-audit: {subject}: {summary['outcome']}"]
    if summary.get("state"):
        duration = f" in {summary['duration']:.1f} s" if summary.get("duration") is not None else ""
        parts.append(f"{summary['state']}{duration}, {summary.get('fetched', 0)} URLs fetched"
                     + (f", {summary['waste_share']:.0%} crawl-budget waste"
                        if summary.get("waste_share") is not None else ""))
    if summary.get("rendered_by_reason") is not None:
        reasons = ", ".join(f"{n} {why}" for why, n in summary["rendered_by_reason"].items())
        parts.append(f"{summary['rendered']} pages rendered" + (f" ({reasons})" if reasons else ""))
    if summary.get("googlebot_waste_share") is not None:
        parts.append(f"logs: {summary['log_lines']} lines, {summary['googlebot_hits']} Googlebot hits, "
                     f"{summary['googlebot_waste_share']:.0%} of them wasted")
    if summary.get("findings"):
        parts.append("findings " + ", ".join(f"{summary['findings'].get(s, 0)} {s}" for s in SEVERITIES))
    if summary.get("previous_crawl_id"):
        parts.append(f"since crawl {summary['previous_crawl_id']}: {summary['new_findings']} new, "
                     f"{summary['fixed_findings']} fixed")
    if summary.get("report"):
        parts.append(f"report {summary['report']}")
    if summary.get("error"):
        parts.append(summary["error"])
    return "; ".join(parts) + f"; exit {summary['exit_code']}"


def _end(args: argparse.Namespace, summary: dict[str, Any], code: int, webhook: str | None = None) -> int:
    """Print the final summary (a line, or JSON with --json), notify the webhook, return ``code``."""
    from reports.safe import redact_value

    summary.update(redact_value(summary))  # the summary line, JSON and webhook carry URLs too
    summary.update(exit_code=code, outcome=OUTCOMES[code])
    if summary.get("error"):
        log.error(summary["error"])
    if getattr(args, "json", False):
        print(json.dumps(summary, default=str))
    else:
        print(_summary_line(summary))
    if webhook:
        from seo_audit.notify import post_summary

        post_summary(webhook, summary, log)
    return code


def _live(args: argparse.Namespace) -> bool:
    """Whether the run draws a live display: on a terminal, unless --quiet or --json (then, and
    off a terminal, plain lines, as in a cron mail)."""
    return sys.stderr.isatty() and not (args.quiet or args.json)


def _print_severity_table(findings) -> None:
    from audit import summary_by_severity

    print(f"{'severity':<10}{'findings':>10}{'rules':>8}{'URLs':>8}")
    for severity, row in summary_by_severity(findings).iterrows():
        print(f"{severity:<10}{row['findings']:>10}{row['rules']:>8}{row['urls']:>8}")


# --- crawl ------------------------------------------------------------------------------------

def run_job(job, args: argparse.Namespace) -> int:
    """Crawl, audit, compare with the previous crawl, report, prune: under the job's lock."""
    from crawler import progress
    from crawler.store import StoreError
    from seo_audit import jobs

    options = job.options
    options.log_level = "ERROR" if args.quiet or args.json else "INFO"
    summary: dict[str, Any] = {"job": options.job, "start_url": options.start_url,
                               "store": str(options.store)}
    try:
        with jobs.job_lock(options.store, job.key), \
                progress.log_file((job.out or options.store.parent) / LOG_FILE_NAME, log, debug=args.verbose), \
                progress.shown(_live(args)):
            code = _crawl_and_report(job, args, summary)
    except jobs.LockHeld as exc:
        summary["error"], code = str(exc), EXIT_LOCKED
    except (StoreError, sqlite3.Error) as exc:
        summary["error"], code = f"crawl store {options.store}: {exc}", EXIT_STORE
    except OSError as exc:  # the lock file or the output folder
        summary["error"], code = f"cannot write {exc.filename or ''}: {exc.strerror or exc}", EXIT_STORE
    except KeyboardInterrupt:
        summary["error"], code = "interrupted", EXIT_INTERRUPTED
    return _end(args, summary, code, job.webhook)


def _crawl_and_report(job, args: argparse.Namespace, summary: dict[str, Any]) -> int:
    from crawler import store
    from crawler.runner import run_crawl

    options = job.options
    store.connect(options.store).close()  # fail before crawling if the store is unusable
    if job.url_list is not None:
        log.info("list %s: %s", options.list_file, job.url_list.describe())
    if options.list_mode:
        log.info("list mode: fetching %s (job %s) into %s", " and ".join(filter(None, (
            f"{len(options.list_urls):,} listed URLs" if options.list_urls else None,
            options.list_sitemap and f"the URLs of {options.list_sitemap}"))), options.job or "-", options.store)
    else:
        log.info("crawling %s (job %s) into %s", options.start_url, options.job or "-", options.store)
    try:
        result = run_crawl(options, in_process=True, verbose=args.verbose)
    except RuntimeError as exc:
        summary["error"] = str(exc)
        return EXIT_CRAWL_FAILED
    finally:
        _interrupt_on_signals()  # Scrapy's handlers outlive its reactor and would swallow signals
    summary.update(crawl_id=result.crawl_id)
    if result.state == "incomplete":
        facts = _crawl_facts(options.store, result.crawl_id)
        del facts["findings"]  # not audited: zero findings would read as a clean site
        summary.update(facts)
        log.warning("the crawl was interrupted: what it fetched is kept in crawl %d (state incomplete); "
                    "run the same command with --resume to continue it", result.crawl_id)
        return EXIT_INTERRUPTED
    code = audit_and_render(options.store, result.crawl_id, job, args, summary)
    if options.render != "off":
        summary.update(_render_facts(options.store, result.crawl_id))
    if summary.get("site"):
        log.info("the start URL %s redirects to %s: the crawl's scope is %s", options.start_url,
                 summary["site"]["url"], ", ".join(summary["site"]["scope"]))
    if job.retention:
        _prune(options.store, result.crawl_id, job.retention)
    problem = _start_problem(options.store, result.crawl_id, options)
    if problem:
        summary["error"] = f"the start URL {options.start_url} {problem}"
        return EXIT_CRAWL_FAILED
    return code


def _prune(store_path: Path, crawl_id: int, keep: int) -> None:
    from crawler import store
    from seo_audit import jobs

    conn = store.connect(store_path)
    try:
        deleted = jobs.prune(conn, crawl_id, keep)
    finally:
        conn.close()
    if deleted:
        log.info("retention %d: deleted crawls %s from the store", keep, ", ".join(map(str, deleted)))


def _crawl_facts(store_path: Path, crawl_id: int) -> dict[str, Any]:
    """The summary's view of a stored crawl: state, timing, URLs fetched, findings by severity."""
    from crawler import store
    from seo_audit import jobs

    conn = store.connect(store_path, readonly=True)
    try:
        record = jobs.crawl_record(conn, crawl_id)
        site = store.site_of(conn, crawl_id)
    finally:
        conn.close()
    facts = {key: record[key] for key in ("job", "start_url", "state", "started_at", "finished_at", "duration",
                                          "fetched", "findings")}
    if site:  # the start URL redirected: where the crawl found the site
        facts["site"] = site
    return facts


def _render_facts(store_path: Path, crawl_id: int) -> dict[str, Any]:
    """How many pages the crawl rendered, by why (the crawl's render/* stats)."""
    from crawler import store

    conn = store.connect(store_path, readonly=True)
    try:
        stats = next((c["stats"] for c in store.crawls(conn) if c["id"] == crawl_id), {})
    finally:
        conn.close()
    reasons = {key.split("/", 1)[1]: value for key, value in stats.items()
               if key.startswith("render/") and key.split("/", 1)[1] in RENDER_REASONS}
    return {"rendered": int(stats.get("render/pages", 0)), "rendered_by_reason": reasons}


def _start_problem(store_path: Path, crawl_id: int, options) -> str | None:
    """Why the crawl never got past its start URL, or None if it did (list mode has none)."""
    from crawler import store

    if options.list_mode:
        return None
    conn = store.connect(store_path, readonly=True)
    try:
        start = conn.execute("SELECT status, error, redirect_target FROM pages WHERE crawl_id = ? "
                             "AND found_via = 'start'", (crawl_id,)).fetchone()
        target = start and start[2] and conn.execute(
            "SELECT skip_reason FROM pages WHERE crawl_id = ? AND url = ?", (crawl_id, start[2])).fetchone()
    finally:
        conn.close()
    if not start or start[0] is None:
        reason = start[1] if start else "no answer"
        return f"could not be fetched ({reason}); nothing else was crawled"
    if target and target[0] == "out-of-scope":
        why = ("--strict-origin keeps the start URL's origin" if options.strict_origin
               else "a crawl shared through Redis keeps the start URL's origin")
        return (f"redirects off-site at once, to {start[2]}: nothing in scope was crawled ({why}); "
                "crawl that URL instead")
    return None


def audit_and_render(store_path: Path, crawl_id: int | None, job, args: argparse.Namespace,
                     summary: dict[str, Any]) -> int:
    """Audit a stored crawl with the job's rules, compare it with the previous crawl of its job,
    write the report (unless --no-report or no output folder), fill ``summary``, and return
    the --fail-on exit code."""
    from audit import RULES, crawl_budget, load_crawl, run_audit
    from audit.engine import store_audit
    from audit.parallel import in_new_process
    from crawler import store
    from crawler.progress import step
    from seo_audit import jobs
    from seo_audit.compare import compare_crawls, load_for_compare, rules_signature
    from seo_audit.logs_cmd import has_logs, join_for_job, place_for_job, restore_for_job

    reporting = job.out is not None and not getattr(args, "no_report", False)
    if reporting:
        from reports.branding import Branding

        Branding.from_config(job.branding)  # a bad logo or colour stops it before anything is written
    links_csv = None

    def write_links_csv(links) -> None:
        from reports import start_links_csv

        nonlocal links_csv
        # the largest file, written by a process of its own while this one derives and audits
        links_csv = start_links_csv(job.out, links, bom=job.csv_bom)

    with_logs = has_logs(job)
    steps = 5 if with_logs else 4
    step("audit", "loading the crawl", steps)
    crawl = load_crawl(store_path, crawl_id, findings=False,  # the audit below replaces them
                       on_links=write_links_csv if reporting else None, segments=job.segments)
    if with_logs:
        step("audit", "reading the server logs", steps)
        join_for_job(crawl, job)
    else:  # the logs joined with this crawl before, if any (seo-audit report, audit)
        with_logs = restore_for_job(crawl, store_path)
    step("audit", f"{len(RULES)} rules on {len(crawl.pages):,} URLs", steps)
    findings = run_audit(crawl, job.audit)
    step("audit", "crawl budget", steps)
    budget = crawl_budget(crawl, findings)
    if with_logs:
        place_for_job(crawl, findings, store_path)
    step("audit", f"saving {len(findings):,} findings", steps)
    if links_csv is not None:
        # links.csv is written by the child: tens of millions of links need not stay here
        crawl.links = crawl.links.iloc[:0].copy()  # a copy: a slice would keep all the rows alive
    if len(findings) > FINDINGS_STORED_APART:
        # a million findings take seconds to insert: a new process stores them while this one reports
        stored = in_new_process(store_audit, store_path, crawl.crawl_id, findings, budget)
    else:
        store_audit(store_path, crawl.crawl_id, findings, budget)
        stored = _done
    conn = store.connect(store_path, readonly=True)
    try:
        previous_id = jobs.previous_crawl(conn, crawl.crawl_id)
    finally:
        conn.close()
    crawl.findings = findings  # the audit being saved is the crawl's findings now
    comparison = (compare_crawls(load_for_compare(store_path, previous_id, job.audit), crawl, job.audit)
                  if previous_id else None)
    missing: dict[str, str] = {}
    try:
        if reporting:
            from reports import OutputsMissing, write_outputs

            step("report", f"report.html and exports in {job.out}", 1)
            try:
                paths = write_outputs(job.out, crawl, findings, RULES, budget, branding=job.branding,
                                      bom=job.csv_bom, previous=comparison, links_csv=links_csv)
            except OutputsMissing as exc:  # each one logged by name; every other output is written
                paths, missing = exc.files, exc.missing
            if "report.html" in paths:
                summary["report"] = str(paths["report.html"].resolve())
                log.info("report written: %s", summary["report"])
    finally:
        stored()  # saved even if the report failed
    conn = store.connect(store_path)
    try:
        store.set_audit_rules(conn, crawl.crawl_id, rules_signature(job.audit))
    finally:
        conn.close()
    summary.update(crawl_id=crawl.crawl_id, **_crawl_facts(store_path, crawl.crawl_id),
                   waste_share=budget.get("waste_share", 0.0), previous_crawl_id=previous_id)
    if crawl.mode == "list":
        from reports.listmode import list_facts

        summary["list"] = list_facts(crawl)
    if comparison:
        summary.update(new_findings=comparison["findings"]["new"], fixed_findings=comparison["findings"]["fixed"])
    if with_logs:
        summary.update(log_lines=crawl.logs.lines_read, googlebot_hits=crawl.logs.budget["hits"],
                       googlebot_waste_share=crawl.logs.budget["waste_share"])
    if not (args.quiet or args.json):
        _print_severity_table(findings)
    if missing:
        summary.update(missing=list(missing), error=f"not written in {job.out}: {', '.join(missing)}")
        return EXIT_STORE
    return _fail_on_code(job.fail_on, summary, comparison)


def _done() -> None:
    """Waiting for work already done."""


def _fail_on_code(fail_on: str | None, summary: dict[str, Any], comparison: dict | None) -> int:
    if fail_on == "new":
        if comparison is None:
            log.warning("--fail-on new: no previous finished crawl of this job to compare with; "
                        "this crawl is the baseline")
            return EXIT_OK
        changes = comparison["findings"]
        if changes["borderline"] or changes["not_compared"]:
            log.info("--fail-on new: not counted as new: %d timing findings past their threshold by less "
                     "than its margin, %d findings on URLs only one of the two crawls reached (their limits)",
                     changes["borderline"], changes["not_compared"])
        return EXIT_FINDINGS if changes["new"] else EXIT_OK
    if fail_on:
        worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        if any(summary["findings"].get(s, 0) for s in worst):
            return EXIT_FINDINGS
    return EXIT_OK


def cmd_crawl(args: argparse.Namespace) -> int:
    from seo_audit.config import build_job

    try:
        job = build_job(job_settings(args))
    except ValueError as exc:  # ConfigError too: it names the file, key and line
        return _end(args, {"error": str(exc)}, EXIT_USAGE)
    return run_job(job, args)


def cmd_demo(args: argparse.Namespace) -> int:
    from seo_audit.config import build_job
    from seo_audit.demo_site import demo_routes
    from seo_audit.sitekit import SiteServer

    with SiteServer(demo_routes()) as site:
        log.info("demo site served at %s/ (127.0.0.1 only)", site.url)
        # no job name: crawls are then matched by start URL, and the demo's port is new each
        # time, so a demo report never compares itself with an earlier demo on another port
        defaults = {"start_url": f"{site.url}/",
                    # a short trap run: the demo shows its calendar trap without fetching 50 months
                    "crawl": {"concurrency": 16, "timeout": 5, "recheck_max_wait": 2, "trap_run": 12}}
        return run_job(build_job(job_settings(args, defaults)), args)


# --- stored crawls ----------------------------------------------------------------------------

def _stored_job(args: argparse.Namespace, parser: argparse.ArgumentParser):
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


def cmd_report_or_audit(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    job = _stored_job(args, parser)
    if args.verb == "report" and job.out is None:
        parser.error("--out is needed (or a job file with out)")
    if args.verb == "audit":
        job.out = None
    summary: dict[str, Any] = {"store": str(job.store)}
    from crawler import progress

    with progress.shown(_live(args)):
        code = audit_and_render(job.store, args.crawl, job, args, summary)
    return _end(args, summary, code)


def cmd_history(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from crawler import store
    from seo_audit import jobs

    job = _stored_job(args, parser)
    name = job.name
    if args.keep:
        if not name:
            parser.error("--keep needs --job (or a job file): retention is per job")
        conn = store.connect(job.store)
        try:
            newest = conn.execute("SELECT max(id) FROM crawls WHERE job = ?", (name,)).fetchone()[0]
            deleted = jobs.prune(conn, newest, args.keep) if newest else []
        finally:
            conn.close()
        print(f"deleted {len(deleted)} crawls of job {name}", file=sys.stderr)
    conn = store.connect(job.store, readonly=True)
    try:
        records = jobs.history(conn, name)
    finally:
        conn.close()
    if args.json:
        print(json.dumps(records))
        return EXIT_OK
    print(f"{'id':>5}  {'job':<16}{'start URL':<36}{'started':<20}{'duration':>9}  {'state':<17}"
          f"{'fetched':>8}{'critical':>9}{'warning':>8}{'notice':>7}")
    for r in records:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"]))
        duration = f"{r['duration']:.1f} s" if r["duration"] is not None else "-"
        print(f"{r['id']:>5}  {(r['job'] or '-')[:15]:<16}{r['start_url'][:35]:<36}{started:<20}"
              f"{duration:>9}  {r['state']:<17}{r['fetched']:>8}"
              + "".join(f"{r['findings'][s]:>{w}}" for s, w in zip(SEVERITIES, (9, 8, 7))))
    return EXIT_OK


def cmd_compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from crawler import store
    from seo_audit import jobs
    from reports.safe import redact_value
    from seo_audit.compare import compare_crawls, load_for_compare, write_comparison

    job = _stored_job(args, parser)
    if len(args.ids) > 2:
        parser.error("compare takes at most two crawl ids: OLD NEW")
    conn = store.connect(job.store, readonly=True)
    try:
        new_id = args.ids[-1] if args.ids else jobs.latest_finished_crawl(conn, job.name)
        if new_id is None:
            parser.error("no finished crawl in the store" + (f" for job {job.name}" if job.name else ""))
        old_id = args.ids[0] if len(args.ids) == 2 else jobs.previous_crawl(conn, new_id)
        if old_id is None:
            parser.error(f"crawl {new_id} has no earlier finished crawl of its job to compare with")
    except LookupError as exc:
        parser.error(str(exc))
    finally:
        conn.close()
    try:
        # masked like every other output: URLs may carry credentials
        comparison = redact_value(compare_crawls(load_for_compare(job.store, old_id, job.audit),
                                                 load_for_compare(job.store, new_id, job.audit), job.audit))
    except LookupError as exc:
        parser.error(str(exc))
    if args.out:
        written = write_comparison(args.out, comparison)
        print(f"wrote {', '.join(str(p) for p in written.values())}", file=sys.stderr)
    if args.json:
        print(json.dumps(comparison, default=str))
    else:
        print_comparison(comparison)
    return EXIT_OK


def print_comparison(comparison: dict[str, Any]) -> None:
    findings, budget = comparison["findings"], comparison["budget"]
    print(f"crawl {comparison['old']['crawl_id']} -> crawl {comparison['new']['crawl_id']} of "
          f"{comparison['new']['start_url']}: {findings['new']} new findings, {findings['fixed']} fixed, "
          f"{findings['persisting']} persisting"
          + (f" ({findings['borderline']} borderline timings and {findings['not_compared']} findings on URLs "
             "only one crawl judged: not counted)" if findings["borderline"] or findings["not_compared"] else ""))
    changed_rules = {rule: c for rule, c in findings["by_rule"].items() if c["new"] or c["fixed"]}
    if changed_rules:
        print(f"  {'rule':<40}{'severity':<10}{'new':>6}{'fixed':>7}{'persisting':>12}")
        for rule, c in changed_rules.items():
            print(f"  {rule:<40}{c['severity']:<10}{len(c['new']):>6}{len(c['fixed']):>7}{c['persisting']:>12}")
    _print_urls("status changed", [f"{c['url']}: {c['old']} -> {c['new']}" for c in comparison["status_changes"]])
    _print_urls("appeared", comparison["appeared"])
    _print_urls("disappeared", comparison["disappeared"])
    old, new = budget["old"], budget["new"]
    print(f"crawl-budget waste: {old['waste_share']:.0%} -> {new['waste_share']:.0%} "
          f"({budget['change']['waste_share'] * 100:+.0f} points); wasted URLs {old['wasted']} -> {new['wasted']}")
    if "googlebot" in comparison:
        old, new = comparison["googlebot"]["old"], comparison["googlebot"]["new"]
        print(f"Googlebot's waste (server logs): {old['waste_share']:.0%} -> {new['waste_share']:.0%} "
              f"({comparison['googlebot']['change']['waste_share'] * 100:+.0f} points); wasted hits "
              f"{old['wasted']} -> {new['wasted']}")
    _print_segment_changes(comparison.get("segments", {}))


def _print_segment_changes(segments: dict[str, Any]) -> None:
    """The segments whose waste or findings changed: one line each."""
    changed = {name: s for name, s in segments.items() if s["changed"]}
    print(f"segments changed: {len(changed)} of {len(segments)}")
    for name, segment in list(changed.items())[:SHOWN_URLS]:
        was, now, change = segment["old"] or {}, segment["new"] or {}, segment["change"]
        rules = ", ".join(f"{rule} {n:+d}" for rule, n in change["by_rule"].items())
        print(f"  {name}: waste {was.get('waste_share', 0):.0%} -> {now.get('waste_share', 0):.0%}, "
              f"findings {was.get('findings', 0)} -> {now.get('findings', 0)}" + (f" ({rules})" if rules else ""))
    if len(changed) > SHOWN_URLS:
        print(f"  ... and {len(changed) - SHOWN_URLS} more (compare --out DIR writes them all to compare.csv)")


def _print_urls(title: str, lines: list[str]) -> None:
    print(f"{title}: {len(lines)}")
    for line in lines[:SHOWN_URLS]:
        print(f"  {line}")
    if len(lines) > SHOWN_URLS:
        print(f"  ... and {len(lines) - SHOWN_URLS} more (compare --out DIR writes them all to compare.csv)")


# --- entry point ------------------------------------------------------------------------------

def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _interrupt_on_signals() -> None:
    """SIGTERM (systemd, CI cancel) ends the CLI as Ctrl-C does: cleanly, with exit code 130."""
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(getattr(args, "quiet", False) or getattr(args, "json", False))
    _redact_log_records()
    _interrupt_on_signals()
    from crawler.store import StoreError

    try:
        if args.verb == "crawl":
            return cmd_crawl(args)
        if args.verb == "demo":
            return cmd_demo(args)
        if args.verb == "worker":
            from crawler.runner import worker_main

            return worker_main(args)
        from seo_audit.logs_cmd import cmd_logs

        command = {"report": cmd_report_or_audit, "audit": cmd_report_or_audit,
                   "history": cmd_history, "compare": cmd_compare, "sitemap": sitemap_cmd.run,
                   "logs": cmd_logs}[args.verb]
        try:
            return command(args, parser)
        except (StoreError, sqlite3.Error) as exc:
            print(f"seo-audit: crawl store: {exc}", file=sys.stderr)
            return EXIT_STORE
    except KeyboardInterrupt:
        print("seo-audit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
