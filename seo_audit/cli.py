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
import sqlite3
import sys

from seo_audit.commands import compare, crawl, demo, history, logs, report, sitemap, worker
from seo_audit.exit_codes import ExitCode
from seo_audit.output import redact_log_records, setup_logging
from seo_audit.run import interrupt_on_signals


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seo-audit", description=__doc__.split("\n")[0],
                                     epilog=__doc__.split("\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True)
    for command in (crawl, worker, demo, report, history, compare, sitemap, logs):  # the help's order
        command.add_parser(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(getattr(args, "quiet", False) or getattr(args, "json", False))
    redact_log_records()
    interrupt_on_signals()
    from crawler.store import StoreError

    try:
        if args.verb == "crawl":
            return crawl.run(args)
        if args.verb == "demo":
            return demo.run(args)
        if args.verb == "worker":
            return worker.run(args)
        command = {"report": report.run, "audit": report.run, "history": history.run,
                   "compare": compare.run, "sitemap": sitemap.run, "logs": logs.run}[args.verb]
        try:
            return command(args, parser)
        except (StoreError, sqlite3.Error) as exc:
            print(f"seo-audit: crawl store: {exc}", file=sys.stderr)
            return ExitCode.STORE_ERROR
    except KeyboardInterrupt:
        print("seo-audit: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
