"""A run of a job: crawl it under the job's lock, audit it (its server logs joined), compare it
with the previous crawl of the job, write the report, prune; the exit code it ends with."""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import signal
import sqlite3
from pathlib import Path
from typing import Any

from seo_audit.exit_codes import ExitCode
from seo_audit.jobs import SEVERITIES
from seo_audit.output import end, live, log, print_severity_table

#: the full log of a run (Scrapy's included), appended in the output folder (or the store's)
LOG_FILE_NAME = "crawl.log"


def run_job(job, args: argparse.Namespace) -> ExitCode:
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
                progress.shown(live(args)):
            code = _crawl_and_report(job, args, summary)
    except jobs.LockHeld as exc:
        summary["error"], code = str(exc), ExitCode.LOCKED
    except (StoreError, sqlite3.Error) as exc:
        summary["error"], code = f"crawl store {options.store}: {exc}", ExitCode.STORE_ERROR
    except OSError as exc:  # the lock file or the output folder
        summary["error"], code = f"cannot write {exc.filename or ''}: {exc.strerror or exc}", ExitCode.STORE_ERROR
    except KeyboardInterrupt:
        summary["error"], code = "interrupted", ExitCode.INTERRUPTED
    return end(args, summary, code, job.webhook)


def _crawl_and_report(job, args: argparse.Namespace, summary: dict[str, Any]) -> ExitCode:
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
        return ExitCode.CRAWL_FAILED
    finally:
        interrupt_on_signals()  # Scrapy's handlers outlive its reactor and would swallow signals
    summary.update(crawl_id=result.crawl_id)
    if result.state == "incomplete":
        facts = _crawl_facts(options.store, result.crawl_id)
        del facts["findings"]  # not audited: zero findings would read as a clean site
        summary.update(facts)
        log.warning("the crawl was interrupted: what it fetched is kept in crawl %d (state incomplete); "
                    "run the same command with --resume to continue it", result.crawl_id)
        return ExitCode.INTERRUPTED
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
        return ExitCode.CRAWL_FAILED
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
    """How many pages the crawl rendered, and did not, by why (the crawl's render/* stats)."""
    from crawler import store
    from crawler.render import NOT_RENDERED_REASONS, RENDER_REASONS, render_counts

    conn = store.connect(store_path, readonly=True)
    try:
        stats = next((c["stats"] for c in store.crawls(conn) if c["id"] == crawl_id), {})
    finally:
        conn.close()
    return {"rendered": int(stats.get("render/pages", 0)),
            "rendered_by_reason": render_counts(stats, RENDER_REASONS),
            "not_rendered_by_reason": render_counts(stats, NOT_RENDERED_REASONS)}


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
                     summary: dict[str, Any]) -> ExitCode:
    """Audit a stored crawl with the job's rules, compare it with the previous crawl of its job,
    write the report (unless --no-report or no output folder), fill ``summary``, and return
    the --fail-on exit code."""
    from audit import RULES, crawl_budget, load_crawl, run_audit
    from audit.engine import store_audit
    from crawler import store
    from crawler.progress import step
    from seo_audit import jobs
    from seo_audit.compare import compare_crawls, load_for_compare, rules_signature

    reporting = job.out is not None and not getattr(args, "no_report", False)
    if reporting:
        from reports.branding import Branding

        Branding.from_config(job.branding)  # a bad logo or colour stops it before anything is written
    with_logs = has_logs(job)
    steps = 5 if with_logs else 4
    conn = store.connect(store_path, readonly=True)
    try:
        this_id = crawl_id or store.latest_crawl_id(conn)  # None: no crawl, which load_crawl says
        previous_id = jobs.previous_crawl(conn, this_id) if this_id is not None else None
    finally:
        conn.close()
    # before this crawl's load: re-auditing the previous crawl (another release's rules) takes
    # a process of its own, which would otherwise hold a second crawl beside this one
    previous = load_for_compare(store_path, previous_id, job.audit) if previous_id else None
    step("audit", "loading the crawl", steps)
    crawl = load_crawl(store_path, crawl_id, findings=False,  # the audit below replaces them
                       segments=job.segments, memory_budget=job.audit.memory_budget,
                       columns=pages_read(job.audit, reporting=reporting, with_logs=with_logs))
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
    # saved by a thread while the report is written: the store's ingest is in C, the report mostly
    # Python; a store that cannot take them fails the run once the report is written
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="store_audit") as saving:
        saved = saving.submit(store_audit, store_path, crawl.crawl_id, findings, budget)
        crawl.findings = findings  # the audit saved is the crawl's findings now
        comparison = compare_crawls(previous, crawl, job.audit) if previous is not None else None
        missing: dict[str, str] = {}
        if reporting:
            from reports import OutputsMissing, write_outputs

            step("report", f"report.html and exports in {job.out}", 1)
            try:
                paths = write_outputs(job.out, crawl, findings, RULES, budget, branding=job.branding,
                                      bom=job.csv_bom, previous=comparison)
            except OutputsMissing as exc:  # each one logged by name; every other output is written
                paths, missing = exc.files, exc.missing
            if "report.html" in paths:
                summary["report"] = str(paths["report.html"].resolve())
                log.info("report written: %s", summary["report"])
        saved.result()
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
        print_severity_table(findings)
    if missing:
        summary.update(missing=list(missing), error=f"not written in {job.out}: {', '.join(missing)}")
        return ExitCode.STORE_ERROR
    return _fail_on_code(job.fail_on, summary, comparison)


def pages_read(audit: Any, *, reporting: bool, with_logs: bool) -> set[str]:
    """The pages columns audit_and_render reads (what it loads): the audit's and its crawl
    budget's, the comparison's, the logs join's, the list's summary and the report's."""
    from audit.engine import pages_read as audit_reads
    from audit.load import OUTLINE_PAGE_COLUMNS
    from reports.listmode import PAGES_READ as LIST_READS

    columns = {*audit_reads(audit), *OUTLINE_PAGE_COLUMNS, *LIST_READS}
    if with_logs:
        from audit.logs import PAGES_READ as LOG_READS

        columns.update(LOG_READS)
    if reporting:
        from reports.outputs import PAGES_READ as REPORT_READS

        columns.update(REPORT_READS)
    return columns


def _fail_on_code(fail_on: str | None, summary: dict[str, Any], comparison: dict | None) -> ExitCode:
    if fail_on == "new":
        if comparison is None:
            log.warning("--fail-on new: no previous finished crawl of this job to compare with; "
                        "this crawl is the baseline")
            return ExitCode.OK
        changes = comparison["findings"]
        if changes["borderline"] or changes["not_compared"]:
            log.info("--fail-on new: not counted as new: %d timing findings past their threshold by less "
                     "than its margin, %d findings on URLs only one of the two crawls reached (their limits)",
                     changes["borderline"], changes["not_compared"])
        return ExitCode.FINDINGS if changes["new"] else ExitCode.OK
    if fail_on:
        worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        if any(summary["findings"].get(s, 0) for s in worst):
            return ExitCode.FINDINGS
    return ExitCode.OK


# --- server logs ------------------------------------------------------------------------------

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
    from crawler.render import NOT_RENDERED_REASONS, RENDER_REASONS, render_counts

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
    # the report shows none of Googlebot's hits one by one (their budget is placed, the facts are
    # kept): a million rows are freed before it
    crawl.logs = dataclasses.replace(crawl.logs, googlebot=crawl.logs.googlebot.iloc[:0])


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


# --- signals ----------------------------------------------------------------------------------

def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def interrupt_on_signals() -> None:
    """SIGTERM (systemd, CI cancel) ends the CLI as Ctrl-C does: cleanly, with exit code 130."""
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
