"""`seo-audit history`: the crawls in a store (state, timing, findings); --keep prunes them."""

from __future__ import annotations

import argparse
import json
import sys
import time

from seo_audit.exit_codes import ExitCode
from seo_audit.flags import add_store_args, positive_int, stored_job
from seo_audit.jobs import SEVERITIES


def add_parser(verbs) -> None:
    history = verbs.add_parser("history", help="list the crawls in a store: state, timing, findings")
    add_store_args(history)
    history.add_argument("--keep", type=positive_int, metavar="N",
                         help="first delete all but the last N crawls of --job")
    history.add_argument("--json", action="store_true", help="print the list as JSON")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ExitCode:
    from crawler import store
    from seo_audit import jobs

    job = stored_job(args, parser)
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
        return ExitCode.OK
    print(f"{'id':>5}  {'job':<16}{'start URL':<36}{'started':<20}{'duration':>9}  {'state':<17}"
          f"{'fetched':>8}{'critical':>9}{'warning':>8}{'notice':>7}")
    for r in records:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"]))
        duration = f"{r['duration']:.1f} s" if r["duration"] is not None else "-"
        print(f"{r['id']:>5}  {(r['job'] or '-')[:15]:<16}{r['start_url'][:35]:<36}{started:<20}"
              f"{duration:>9}  {r['state']:<17}{r['fetched']:>8}"
              + "".join(f"{r['findings'][s]:>{w}}" for s, w in zip(SEVERITIES, (9, 8, 7))))
    return ExitCode.OK
