"""`seo-audit logs FILE... --store STORE`: server access logs joined with a stored crawl.

Reads the logs (plain, .gz, .bz2; globs), verifies the bots, joins their hits with the crawl,
audits it with every rule (the log rules among them) and writes the report with its "What Googlebot
fetched" section, bot-hits.csv and log-summary.json; the run's Googlebot waste share is kept in
the store for `seo-audit compare`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from seo_audit.exit_codes import ExitCode
from seo_audit.flags import FAIL_ON, add_log_args, add_stored_crawl_args, stored_job
from seo_audit.output import end, live
from seo_audit.run import audit_and_render, has_logs


def add_parser(verbs: Any) -> argparse.ArgumentParser:
    logs = verbs.add_parser("logs", help="join server access logs with a stored crawl: what Googlebot fetched")
    add_log_args(logs, files_flag=False)
    add_stored_crawl_args(logs)
    logs.add_argument("--out", type=Path, help="output folder (default: the job file's)")
    logs.add_argument("--csv-bom", action="store_true")
    logs.add_argument("--fail-on", choices=FAIL_ON, help="exit 1 on findings of this severity or worse "
                      "(the log rules' among them), or on findings new since the previous crawl")
    return logs


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ExitCode:
    from audit.logs import LogFormatError, RangesError
    from crawler import progress

    job = stored_job(args, parser)
    if not has_logs(job):
        parser.error("give log files (or a job file with logs = [...])")
    summary: dict[str, Any] = {"store": str(job.store)}
    try:
        with progress.shown(live(args)):
            code = audit_and_render(job.store, args.crawl, job, args, summary)
    except (LogFormatError, RangesError) as exc:
        return end(args, {**summary, "error": f"logs: {exc}"}, ExitCode.USAGE_ERROR)
    return end(args, summary, code)
