"""Work in a child process while this one goes on: a second CPU for a large crawl.

Loading a million-URL crawl reads tens of millions of links, and its report spends most of
its time in a few big files; on a machine with two CPUs these are done side by side.

Two kinds of child: ``in_child`` forks, so the child reads what is already in memory (shared
until either side changes it) instead of receiving a copy: right for short work, or work
started before this process holds much (the loader's link reader). ``in_new_process`` starts
a new interpreter that gets its work pickled: right for long work beside a parent holding
millions of Python objects, which a forked child would come to copy (reading an object
writes its reference count). Only results travel back, pickled.
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing
import os
import traceback
from typing import Any, Callable, TypeVar

import numpy as np

T = TypeVar("T")


class ChildError(RuntimeError):
    """Work done in a child process failed; the message is the child's error."""


def can_fork() -> bool:
    """Whether in_child runs work in a child: fork exists and there is a second CPU."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return "fork" in multiprocessing.get_all_start_methods() and cpus >= 2


def shared_array(length: int, dtype: Any) -> np.ndarray:
    """A zeroed array in memory that children forked later share with this process: what a child
    writes there, the parent sees, with nothing to send back."""
    dtype = np.dtype(dtype)
    buffer = mmap.mmap(-1, max(length * dtype.itemsize, 1))  # anonymous, MAP_SHARED
    return np.frombuffer(buffer, dtype=dtype, count=length)


#: forked children not yet waited for: garbage collection stays frozen while there are any
_running: set[int] = set()


def in_child(work: Callable[..., T], *args: Any, **kwargs: Any) -> Callable[[], T]:
    """Start ``work(*args, **kwargs)`` in a forked child and return a function that waits for
    it and returns its result, or raises ChildError (OSError for an OSError). Without
    ``can_fork()``, ``work`` runs now and the function just returns its result.

    The child shares this process's memory until either side changes a page of it: whatever
    either side changes meanwhile is held twice. Reading a Python object changes its page
    (its reference count), so a child working long beside a parent that holds many objects
    comes to hold a copy of most of them: see in_new_process."""
    return _start("fork", work, args, kwargs)


def in_new_process(work: Callable[..., T], *args: Any, **kwargs: Any) -> Callable[[], T]:
    """in_child in a new interpreter: ``work`` and its arguments are pickled to it (so keep
    them small: a few lists, a path), and it holds nothing of this process's memory but
    them. For work that runs long beside a parent holding millions of objects."""
    return _start("spawn", work, args, kwargs)


def _start(method: str, work: Callable[..., T], args: tuple, kwargs: dict) -> Callable[[], T]:
    if not can_fork():
        result = work(*args, **kwargs)
        return lambda: result
    context = multiprocessing.get_context(method)
    receive, send = context.Pipe(duplex=False)
    job = [work, args, kwargs]
    child = context.Process(target=_child, args=(send, job), daemon=True)
    forked = method == "fork"
    if forked:
        # objects that exist now are left out of garbage collections until the children are
        # done: a collection writes to every object it scans, which would copy the pages they share
        gc.freeze()
    child.start()
    job.clear()  # the child has its own copy: this process need not keep what only the work reads
    if forked:
        _running.add(child.pid)
    send.close()

    def wait() -> T:
        try:
            outcome = receive.recv()
        except EOFError:  # it died before it could say anything
            outcome = None
        finally:
            child.join()
            receive.close()
            if forked:
                _running.discard(child.pid)
                if not _running:
                    gc.unfreeze()
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
