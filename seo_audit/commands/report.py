"""`seo-audit report` and `seo-audit audit`: a stored crawl's report re-rendered, or its audit
re-run and summed up, without crawling."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from seo_audit.exit_codes import ExitCode
from seo_audit.flags import FAIL_ON, add_memory_arg, add_stored_crawl_args, stored_job
from seo_audit.output import end, live
from seo_audit.run import audit_and_render


def add_parser(verbs) -> None:
    report = verbs.add_parser("report", help="re-render the report of a stored crawl, without crawling")
    add_stored_crawl_args(report)
    report.add_argument("--out", type=Path, help="output folder (default: the job file's, else required)")
    report.add_argument("--csv-bom", action="store_true")
    add_memory_arg(report)

    audit = verbs.add_parser("audit", help="re-run the audit rules on a stored crawl and print the summary")
    add_stored_crawl_args(audit)
    audit.add_argument("--fail-on", choices=FAIL_ON)
    add_memory_arg(audit)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ExitCode:
    job = stored_job(args, parser)
    if args.verb == "report" and job.out is None:
        parser.error("--out is needed (or a job file with out)")
    if args.verb == "audit":
        job.out = None
    summary: dict[str, Any] = {"store": str(job.store)}
    from crawler import progress

    with progress.shown(live(args)):
        code = audit_and_render(job.store, args.crawl, job, args, summary)
    return end(args, summary, code)
