"""Crawl jobs over time: the history of a store, which crawl came before which, retention,
and the lock that keeps two runs of one job from overlapping.

A job is identified by its name (``crawls.job``) or, for crawls run without one, by its
start URL. Every run is a row of the store's ``crawls`` table already; this module only reads
and prunes them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from crawler.store import SEVERITIES

#: crawls that ran to their end (a limit in the options is an end too): only these are compared,
#: because an interrupted crawl would show every URL it did not reach as "disappeared"
FINISHED_STATES = ("complete", "stopped-at-limit")
#: what --fail-on and fail_on accept: a severity (that or worse fails) or "new" (regressions)
FAIL_ON = (*SEVERITIES, "new")
#: a job's store in its output folder, unless it names one
DEFAULT_STORE_NAME = "seo-audit.sqlite"


class LockHeld(RuntimeError):
    """Another run of the same job holds its lock."""


def lock_path(store: str | Path, job_key: str) -> Path:
    """The lock file of a job: beside its store, named after the job (hashed: any text is safe)."""
    store = Path(store)
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", job_key).strip("-")[:40]
    digest = hashlib.sha1(job_key.encode()).hexdigest()[:10]
    return store.with_name(f"{store.name}.{readable}-{digest}.lock")


@contextmanager
def job_lock(store: str | Path, job_key: str) -> Iterator[Path]:
    """Hold the job's lock for the block, or raise LockHeld at once.

    flock, not a pid file: the kernel releases it when the holder dies, even by SIGKILL, so a
    killed run never blocks the next one. The holder's pid is written in the file for messages.
    """
    path = lock_path(store, job_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            raise LockHeld(f"another run of job {job_key!r} is running"
                           + (f" (pid {holder})" if holder else "")
                           + f"; it holds {path}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _same_job(conn: sqlite3.Connection, crawl_id: int) -> tuple[str, tuple]:
    """SQL condition and parameters selecting the crawls of the job ``crawl_id`` belongs to."""
    row = conn.execute("SELECT job, start_url FROM crawls WHERE id = ?", (crawl_id,)).fetchone()
    if row is None:
        raise LookupError(f"no crawl {crawl_id} in the store")
    job, start_url = row
    return ("job = ?", (job,)) if job else ("job IS NULL AND start_url = ?", (start_url,))


def previous_crawl(conn: sqlite3.Connection, crawl_id: int) -> int | None:
    """The latest finished crawl of the same job before ``crawl_id``, if any."""
    where, params = _same_job(conn, crawl_id)
    row = conn.execute(
        f"SELECT max(id) FROM crawls WHERE {where} AND id < ? AND state IN {FINISHED_STATES}",
        (*params, crawl_id)).fetchone()
    return row[0]


def latest_finished_crawl(conn: sqlite3.Connection, job: str | None = None) -> int | None:
    """The newest finished crawl of ``job`` (of any job if None)."""
    where, params = ("job = ?", (job,)) if job else ("1", ())
    row = conn.execute(f"SELECT max(id) FROM crawls WHERE {where} AND state IN {FINISHED_STATES}",
                       params).fetchone()
    return row[0]


def history(conn: sqlite3.Connection, job: str | None = None) -> list[dict[str, Any]]:
    """Crawls of ``job`` (all if None), newest first; see ``crawl_record`` for the keys."""
    return _records(conn, *(("c.job = ?", (job,)) if job else ("1", ())))


def crawl_record(conn: sqlite3.Connection, crawl_id: int) -> dict[str, Any]:
    """One crawl: id, job, start_url, started_at, finished_at, duration (s), state, fetched
    (pages and resources that answered or failed) and findings per severity (as audited)."""
    records = _records(conn, "c.id = ?", (crawl_id,))
    if not records:
        raise LookupError(f"no crawl {crawl_id} in the store")
    return records[0]


def _records(conn: sqlite3.Connection, where: str, params: tuple) -> list[dict[str, Any]]:
    severity_columns = ", ".join(
        f"(SELECT count(*) FROM findings f WHERE f.crawl_id = c.id AND f.severity = '{s}') AS {s}"
        for s in SEVERITIES)
    rows = conn.execute(f"""
        SELECT c.id, c.job, c.start_url, c.started_at, c.finished_at, c.state,
               (SELECT count(*) FROM pages p WHERE p.crawl_id = c.id
                  AND p.fetch_kind IN ('page', 'resource')
                  AND (p.status IS NOT NULL OR p.error IS NOT NULL)) AS fetched,
               {severity_columns}
        FROM crawls c WHERE {where} ORDER BY c.id DESC""", params).fetchall()
    return [{"id": crawl_id, "job": job, "start_url": start_url,
             "started_at": started, "finished_at": finished,
             "duration": round(finished - started, 1) if finished else None,
             "state": state, "fetched": fetched, "findings": dict(zip(SEVERITIES, counts))}
            for crawl_id, job, start_url, started, finished, state, fetched, *counts in rows]


def prune(conn: sqlite3.Connection, crawl_id: int, keep: int) -> list[int]:
    """Delete all but the newest ``keep`` crawls of ``crawl_id``'s job from every table of the
    store, in one transaction; return the deleted ids. ``crawl_id`` itself is always kept."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    where, params = _same_job(conn, crawl_id)
    ids = [row[0] for row in conn.execute(
        f"SELECT id FROM crawls WHERE {where} AND id != ? ORDER BY id DESC LIMIT -1 OFFSET ?",
        (*params, crawl_id, keep - 1))]
    if not ids:
        return []
    # every table keyed by crawl_id, found in the schema: a table added later is pruned too
    tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
              if any(col[1] == "crawl_id" for col in conn.execute(f"PRAGMA table_info({name})"))]
    marks = ", ".join("?" * len(ids))
    with conn:
        for table in tables:
            conn.execute(f"DELETE FROM {table} WHERE crawl_id IN ({marks})", ids)
        conn.execute(f"DELETE FROM crawls WHERE id IN ({marks})", ids)
    return ids
