"""`seo-audit logs FILE... --store STORE`: server access logs joined with a stored crawl.

Reads the logs (plain, .gz, .bz2; globs), verifies the bots, joins their hits with the crawl,
audits it with every rule (the log rules among them) and writes the report with its "What Googlebot
fetched" section, bot-hits.csv and log-summary.json; the run's Googlebot waste share is kept in
the store for `seo-audit compare`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("seo_audit")


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


def add_parser(verbs: Any) -> argparse.ArgumentParser:
    from seo_audit.cli import FAIL_ON, _add_stored_crawl_args

    logs = verbs.add_parser("logs", help="join server access logs with a stored crawl: what Googlebot fetched")
    add_log_args(logs, files_flag=False)
    _add_stored_crawl_args(logs)
    logs.add_argument("--out", type=Path, help="output folder (default: the job file's)")
    logs.add_argument("--csv-bom", action="store_true")
    logs.add_argument("--fail-on", choices=FAIL_ON, help="exit 1 on findings of this severity or worse "
                      "(the log rules' among them), or on findings new since the previous crawl")
    return logs


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


def has_logs(job: Any) -> bool:
    return bool((getattr(job, "logs", None) or {}).get("files"))


def join_for_job(crawl: Any, job: Any) -> None:
    """The job's logs read and joined with ``crawl``, as ``crawl.logs`` (before its audit: the
    log rules read them there)."""
    from audit.logs import join_logs

    logs = job.logs
    crawl.logs = join_logs(logs["files"], crawl, ranges=logs.get("bot_ranges") or (),
                           verify_dns=bool(logs.get("verify_dns")), log_format=logs.get("log_format"))


def restore_for_job(crawl: Any, store_path: Path) -> bool:
    """The facts of the logs last joined with ``crawl`` read back from the store, as
    ``crawl.logs``, when the job gives no logs: auditing it again (`seo-audit report`) keeps
    the log findings and the report's "What Googlebot fetched". False if none were kept."""
    from audit.logs import LogFacts
    from crawler import store

    conn = store.connect(store_path, readonly=True)
    try:
        parts = store.log_facts_of(conn, crawl.crawl_id)
    finally:
        conn.close()
    if parts is None:
        return False
    crawl.logs = LogFacts.from_parts(parts)
    log.info("logs: the server logs joined with crawl %d before are used again (%d lines read then)",
             crawl.crawl_id, crawl.logs.lines_read)
    return True


def place_for_job(crawl: Any, findings: Any, store_path: Path) -> None:
    """After the audit: Googlebot's budget placed by ``findings``, said in the run's log and kept
    in the store with the crawl (for `seo-audit compare`), with the logs' facts when they were
    just read (restore_for_job reads them back)."""
    from audit.logs import place_logs
    from crawler import store

    crawl.logs = place_logs(crawl.logs, crawl, findings)
    _warn(crawl.logs)
    conn = store.connect(store_path)
    try:
        store.set_log_summary(conn, crawl.crawl_id, crawl.logs.headline())
        if not crawl.logs.restored:
            store.set_log_facts(conn, crawl.crawl_id, crawl.logs.to_parts())
    finally:
        conn.close()


def _warn(facts: Any) -> None:
    for file in facts.files:
        if file.get("error"):
            log.warning("logs: %s left out: %s", file["file"], file["error"])
    if facts.lines_rejected:
        log.warning("logs: %d of %d lines could not be read (log-summary.json samples them)",
                    facts.lines_rejected, facts.lines_read)
    if facts.googlebot_trust == "claimed":
        log.warning("logs: no Google IP ranges given (--bot-ranges googlebot.json) nor --verify-dns: "
                    "Googlebot's user agent is taken at its word")
    for ranges in facts.ranges:
        if ranges["stale"]:
            log.warning("logs: %s ranges %s are %s days old (created %s); download newer ones from Google "
                        "and give them with --bot-ranges %s.json", ranges["name"],
                        "shipped with seo-audit" if ranges.get("shipped") else ranges["file"],
                        ranges["age_days"] if ranges["age_days"] is not None else "an unknown number of",
                        (ranges["creation_time"] or "?")[:10], ranges["name"])
    log.info("logs: %d lines read, %d bot hits, Googlebot: %d hits, %.0f%% wasted",
             facts.lines_read, sum(f["bot_lines"] for f in facts.files), facts.budget["hits"],
             facts.budget["waste_share"] * 100)


def cmd_logs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from audit.logs import LogFormatError, RangesError
    from crawler import progress
    from seo_audit.cli import EXIT_USAGE, _end, _live, _stored_job, audit_and_render

    job = _stored_job(args, parser)
    if not has_logs(job):
        parser.error("give log files (or a job file with logs = [...])")
    summary: dict[str, Any] = {"store": str(job.store)}
    try:
        with progress.shown(_live(args)):
            code = audit_and_render(job.store, args.crawl, job, args, summary)
    except (LogFormatError, RangesError) as exc:
        return _end(args, {**summary, "error": f"logs: {exc}"}, EXIT_USAGE)
    return _end(args, summary, code)
