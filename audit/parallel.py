"""Work in a new process while this one goes on: a second CPU for the few long jobs of a large
audit that are Python's own (a workbook of a million findings, storing them, re-auditing the
previous crawl for a comparison). The heavy lifting over links is DuckDB's, which uses every
CPU by itself.

``in_new_process`` starts a new interpreter that gets its work pickled: it holds nothing of this
process's memory but its arguments (keep them small: a few lists, a path). Only results travel
back, pickled.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class ChildError(RuntimeError):
    """Work done in a child process failed; the message is the child's error."""


def _has_second_cpu() -> bool:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cpus >= 2


def in_new_process(work: Callable[..., T], *args: Any, **kwargs: Any) -> Callable[[], T]:
    """Start ``work(*args, **kwargs)`` in a new interpreter and return a function that waits for
    it and returns its result, or raises ChildError (OSError for an OSError). With one CPU,
    ``work`` runs now and the function just returns its result."""
    if not _has_second_cpu():
        result = work(*args, **kwargs)
        return lambda: result
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    job = [work, args, kwargs]
    child = context.Process(target=_child, args=(send, job), daemon=True)
    child.start()
    job.clear()  # the child has its own copy: this process need not keep what only the work reads
    send.close()

    def wait() -> T:
        try:
            outcome = receive.recv()
        except EOFError:  # it died before it could say anything
            outcome = None
        finally:
            child.join()
            receive.close()
        kind, value = outcome or ("error", f"the child process died (exit code {child.exitcode})")
        if kind == "oserror":  # a full disk or a folder it may not write: the caller's to report
            raise OSError(*value)
        if kind == "error":
            raise ChildError(value)
        return value

    return wait


def _child(send: Any, job: list) -> None:
    work, args, kwargs = job
    try:
        send.send(("done", work(*args, **kwargs)))
    except OSError as exc:
        send.send(("oserror", (exc.errno, exc.strerror or str(exc), exc.filename)))
    except BaseException as exc:  # the parent raises it; the child just reports
        send.send(("error", "".join(traceback.format_exception_only(type(exc), exc)).strip()))
    finally:
        send.close()
