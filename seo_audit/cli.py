"""`seo-audit`: crawl a site, audit it, write the report. A thin layer over the library.

Exit codes (scripts and CI depend on them):
  0  success
  1  findings at or above --fail-on
  2  usage or configuration error (nothing was crawled or written)
  3  the crawl could not run (start URL unreachable, or it answered nothing usable)
  4  the crawl store could not be opened or written
  130 interrupted before the crawl could be recorded
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_CRAWL_FAILED, EXIT_STORE = 0, 1, 2, 3, 4
SEVERITIES = ("critical", "warning", "notice")
DEFAULT_STORE_NAME = "seo-audit.sqlite"



def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
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
                   required=default_out is None, help="folder for report.html, pages.csv and the other outputs")
    p.add_argument("--store", type=Path, help=f"crawl store (SQLite); default OUT/{DEFAULT_STORE_NAME}")
    p.add_argument("--no-report", action="store_true", help="crawl and audit only; write no report files")
    p.add_argument("--csv-bom", action="store_true", help="write CSV with a UTF-8 BOM (Excel on Windows)")
    p.add_argument("--fail-on", choices=SEVERITIES, help="exit 1 if any finding has this severity or worse")
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's full log")


def _add_crawl_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-pages", type=_positive_int, default=100_000, help="stop admitting URLs after this many (default 100000)")
    p.add_argument("--max-depth", type=_non_negative(int), help="do not fetch URLs more clicks than this from the start")
    p.add_argument("--max-duration", type=_non_negative(float), help="stop the crawl after this many seconds")
    p.add_argument("--include", action="append", default=[], metavar="REGEX", help="only URLs matching one of these (repeatable)")
    p.add_argument("--exclude", action="append", default=[], metavar="REGEX", help="skip URLs matching this (repeatable)")
    p.add_argument("--trap-cap", type=_positive_int, default=500, help="URLs per pattern (numbers and query values blanked) before the rest are recorded as a trap")
    p.add_argument("--concurrency", type=_positive_int, default=5, help="requests in flight (default 5)")
    p.add_argument("--delay", type=_non_negative(float), default=0.0, help="seconds between requests")
    p.add_argument("--autothrottle", action="store_true", help="adapt the rate to the server's latency")
    p.add_argument("--user-agent", default="seo-audit", help="seo-audit, googlebot-desktop, googlebot-smartphone or a full string")
    p.add_argument("--ignore-robots", action="store_true", help="fetch URLs robots.txt disallows (staging audits); still recorded")
    p.add_argument("--header", action="append", type=_header, default=[], metavar="'NAME: VALUE'", help="extra request header, e.g. for a staging site's auth (never written to outputs)")
    p.add_argument("--timeout", type=_non_negative(float), default=20.0, help="download timeout, seconds")
    p.add_argument("--max-size", type=_positive_int, default=10 * 1024 * 1024, help="max body bytes (decompressed)")
    p.add_argument("--retries", type=_non_negative(int), default=2)
    p.add_argument("--no-resources", action="store_true", help="do not check images, scripts, stylesheets")
    p.add_argument("--recheck-max-wait", type=_non_negative(float), default=5.0, help="longest wait before re-checking a 202")
    p.add_argument("--recheck-attempts", type=_non_negative(int), default=2)
    p.add_argument("--resume", action="store_true", help="continue the last unfinished crawl of this URL in the store")
    p.add_argument("--job", help="a name for this crawl job (history, comparison)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seo-audit", description=__doc__.split("\n")[0],
                                     epilog=__doc__.split("\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True)

    crawl = verbs.add_parser("crawl", help="crawl a site, audit it, write the report")
    crawl.add_argument("url", help="start URL")
    _add_output_args(crawl, default_out="audit-output")
    _add_crawl_args(crawl)

    demo = verbs.add_parser("demo", help="crawl the bundled demo site (served on 127.0.0.1) and write its report")
    _add_output_args(demo, default_out="demo-output")

    report = verbs.add_parser("report", help="re-render the report of a stored crawl, without crawling")
    report.add_argument("--store", type=Path, required=True)
    report.add_argument("--crawl", type=int, help="crawl id (default: the latest)")
    report.add_argument("--out", type=Path, required=True)
    report.add_argument("--csv-bom", action="store_true")

    audit = verbs.add_parser("audit", help="re-run the audit rules on a stored crawl and print the summary")
    audit.add_argument("--store", type=Path, required=True)
    audit.add_argument("--crawl", type=int, help="crawl id (default: the latest)")
    audit.add_argument("--fail-on", choices=SEVERITIES)
    return parser


def options_from_args(args) -> "CrawlOptions":
    from crawler.options import CrawlOptions

    return CrawlOptions(
        start_url=args.url, store=args.store or args.out / DEFAULT_STORE_NAME, job=args.job,
        resume=args.resume, include=args.include, exclude=args.exclude, max_pages=args.max_pages,
        max_depth=args.max_depth, max_duration=args.max_duration, trap_cap=args.trap_cap,
        concurrency=args.concurrency, delay=args.delay, autothrottle=args.autothrottle,
        user_agent=args.user_agent, ignore_robots=args.ignore_robots, headers=dict(args.header),
        timeout=args.timeout, max_size=args.max_size, retries=args.retries,
        check_resources=not args.no_resources, recheck_max_wait=args.recheck_max_wait,
        recheck_attempts=args.recheck_attempts, log_level="INFO")


def crawl_and_report(options, args) -> int:
    from crawler.runner import run_crawl
    from crawler.store import StoreError

    try:
        from crawler import store

        store.connect(options.store).close()  # fail before crawling if the store is unusable
        result = run_crawl(options, in_process=True, verbose=args.verbose)
    except StoreError as exc:
        print(f"seo-audit: {exc}", file=sys.stderr)
        return EXIT_STORE
    reachable = _start_answered(options.store, result.crawl_id)
    code = audit_and_render(options.store, result.crawl_id, args.out, args)
    if not reachable:
        print(f"seo-audit: the start URL {options.start_url} could not be fetched "
              "(see pages.csv for the error); nothing else was crawled", file=sys.stderr)
        return EXIT_CRAWL_FAILED
    return code


def _start_answered(store_path: Path, crawl_id: int) -> bool:
    from crawler import store

    conn = store.connect(store_path, readonly=True)
    try:
        row = conn.execute("SELECT count(*) FROM pages WHERE crawl_id = ? AND found_via = 'start' "
                           "AND status IS NOT NULL", (crawl_id,)).fetchone()
    finally:
        conn.close()
    return bool(row and row[0])


def audit_and_render(store_path: Path, crawl_id: int | None, out: Path | None, args) -> int:
    from audit import RULES, crawl_budget, load_crawl, run_audit, save_findings, summary_by_severity
    from crawler import store

    crawl = load_crawl(store_path, crawl_id)
    findings = run_audit(crawl)
    conn = store.connect(store_path)
    try:
        save_findings(conn, crawl.crawl_id, findings)
    finally:
        conn.close()
    budget = crawl_budget(crawl, findings)
    if out is not None and not getattr(args, "no_report", False):
        from reports import write_outputs

        paths = write_outputs(out, crawl, findings, RULES, budget, bom=getattr(args, "csv_bom", False))
        print(f"Report: {paths['report.html'].resolve()}")
    summary = summary_by_severity(findings)
    counts = summary["findings"].to_dict()
    print(f"{'severity':<10}{'findings':>10}{'rules':>8}{'URLs':>8}")
    for severity, row in summary.iterrows():
        print(f"{severity:<10}{row['findings']:>10}{row['rules']:>8}{row['urls']:>8}")
    fetched = int(budget.get("fetched", 0))
    print(f"Crawl {crawl.crawl_id} of {crawl.meta.get('start_url')}: {fetched} URLs fetched, "
          f"{budget.get('waste_share', 0):.0%} of them crawl-budget waste; findings: "
          + ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES))
    fail_on = getattr(args, "fail_on", None)
    if fail_on:
        worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        if any(counts.get(s, 0) for s in worst):
            return EXIT_FINDINGS
    return EXIT_OK


def run_demo(args) -> int:
    from crawler.options import CrawlOptions
    from seo_audit.demo_site import demo_routes
    from seo_audit.sitekit import SiteServer

    with SiteServer(demo_routes()) as site:
        print(f"Demo site served at {site.url}/ (127.0.0.1 only)")
        options = CrawlOptions(start_url=f"{site.url}/", store=args.store or args.out / DEFAULT_STORE_NAME,
                               job="demo", concurrency=16, timeout=5, recheck_max_wait=2)
        return crawl_and_report(options, args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.verb == "crawl":
            try:
                options = options_from_args(args)
                options.validate()
            except ValueError as exc:
                parser.error(str(exc))
            return crawl_and_report(options, args)
        if args.verb == "demo":
            return run_demo(args)
        if args.verb in ("report", "audit"):
            if not args.store.exists():
                parser.error(f"no crawl store at {args.store}")
            return audit_and_render(args.store, args.crawl, getattr(args, "out", None), args)
    except KeyboardInterrupt:
        print("seo-audit: interrupted", file=sys.stderr)
        return 130
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
