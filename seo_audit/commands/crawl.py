"""`seo-audit crawl URL`: crawl a site, audit it, write the report (seo_audit.run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from seo_audit.exit_codes import ExitCode
from seo_audit.flags import add_crawl_args, add_log_args, add_output_args, job_settings
from seo_audit.output import end
from seo_audit.run import run_job


def add_parser(verbs) -> None:
    crawl = verbs.add_parser("crawl", help="crawl a site, audit it, write the report")
    crawl.add_argument("url", nargs="?", help="start URL (optional with --config)")
    crawl.add_argument("--config", type=Path, metavar="JOB.toml", help="job file; flags override it")
    add_output_args(crawl, default_out=None)
    add_crawl_args(crawl)
    crawl.add_argument("--redis", dest="redis_url", default=argparse.SUPPRESS, metavar="URL",
                       help="share the crawl with `seo-audit worker` processes through this Redis "
                            "(redis://[user:password@]host:port/db, rediss:// for TLS)")
    add_log_args(crawl, files_flag=True)


def run(args: argparse.Namespace) -> ExitCode:
    from seo_audit.config import build_job

    try:
        job = build_job(job_settings(args))
    except ValueError as exc:  # ConfigError too: it names the file, key and line
        return end(args, {"error": str(exc)}, ExitCode.USAGE_ERROR)
    return run_job(job, args)
