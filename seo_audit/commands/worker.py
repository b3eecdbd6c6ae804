"""`seo-audit worker --redis URL`: join a crawl started with `crawl --redis` (crawler.runner.run_worker)."""

from __future__ import annotations

import argparse
import sys

from seo_audit.exit_codes import ExitCode
from seo_audit.flags import non_negative


def add_parser(verbs) -> None:
    worker = verbs.add_parser("worker", help="join a crawl started with crawl --redis, from any machine")
    worker.add_argument("--redis", required=True, metavar="URL", help="the crawl's Redis URL")
    worker.add_argument("--max-idle", type=non_negative(float), metavar="S",
                        help="leave after S seconds in a row with nothing to fetch (default: stay to the end)")
    worker.add_argument("--wait", type=non_negative(float), default=60.0, metavar="S",
                        help="how long to wait for a crawl to start (default 60)")
    worker.add_argument("-v", "--verbose", action="store_true", help="Scrapy's full log")


def run(args: argparse.Namespace) -> ExitCode:
    """0 when the crawl ended or this worker left it; 2 when no crawl started in time or Redis
    cannot be reached."""
    import redis

    from crawler.runner import run_worker

    try:
        reason = run_worker(args.redis, max_idle=args.max_idle, wait=args.wait,
                            log_level="DEBUG" if args.verbose else "INFO", verbose=args.verbose)
    except (LookupError, redis.RedisError) as exc:
        print(f"seo-audit worker: {exc}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    print(f"seo-audit worker: stopped ({reason})", file=sys.stderr)
    return ExitCode.OK
