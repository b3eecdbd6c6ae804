"""What a run prints: its log on stderr (URL credentials masked), the final summary (a line, or
JSON with --json) and the webhook that gets it."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from seo_audit.exit_codes import ExitCode
from seo_audit.jobs import SEVERITIES

log = logging.getLogger("seo_audit")


def redact_log_records() -> None:
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


def setup_logging(quiet: bool) -> None:
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
        not_rendered = ", ".join(f"{n} {why}" for why, n in summary.get("not_rendered_by_reason", {}).items())
        parts.append(f"{summary['rendered']} pages rendered" + (f" ({reasons})" if reasons else "")
                     + (f", not rendered: {not_rendered}" if not_rendered else ""))
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


def end(args: argparse.Namespace, summary: dict[str, Any], code: ExitCode,
        webhook: str | None = None) -> ExitCode:
    """Print the final summary (a line, or JSON with --json), notify the webhook, return ``code``."""
    from reports.safe import redact_value

    summary.update(redact_value(summary))  # the summary line, JSON and webhook carry URLs too
    summary.update(exit_code=int(code), outcome=code.outcome)
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


def live(args: argparse.Namespace) -> bool:
    """Whether the run draws a live display: on a terminal, unless --quiet or --json (then, and
    off a terminal, plain lines, as in a cron mail)."""
    return sys.stderr.isatty() and not (args.quiet or args.json)


def print_severity_table(findings) -> None:
    from audit import summary_by_severity

    print(f"{'severity':<10}{'findings':>10}{'rules':>8}{'URLs':>8}")
    for severity, row in summary_by_severity(findings).iterrows():
        print(f"{severity:<10}{row['findings']:>10}{row['rules']:>8}{row['urls']:>8}")
