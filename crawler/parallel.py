"""Work in a new process while this one goes on: a second CPU for the few long jobs of a large
audit that are Python's own (a workbook of a million findings, re-auditing the
previous crawl for a comparison). The heavy lifting over links is DuckDB's, which uses every
CPU by itself.

``in_new_process`` starts a new interpreter that gets its work pickled: it holds nothing of this
process's memory but its arguments (keep them small: a few lists, a path), and imports only this
module and the work's (packages import their parts on first use, crawler.lazy; this one lives in
the crawler package, whose ``__init__`` is empty: audit's imports pandas). Only results travel
back, pickled. Many texts go to it in a file: ``handed_over`` a temporary file that
``write_text_batches`` fills with Arrow record batches, which the work reads one at a time
(pickled, they would be held twice more at once: the pickle and its copy).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import traceback
from typing import Any, Callable, Iterable, Sequence, TypeVar

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


def handed_over(prefix: str, start: Callable[[str], Callable[[], T]]) -> Callable[[], T]:
    """``start(path)`` given a new temporary file's path (named ``prefix``...``.arrow``): it fills
    the file and starts the work that reads it (in_new_process), answering the function that
    waits for that work. Answers that function, which removes the file once the work is done;
    the file is removed at once if ``start`` fails."""
    descriptor, path = tempfile.mkstemp(prefix=prefix, suffix=".arrow")
    os.close(descriptor)
    try:
        wait = start(path)
    except BaseException:
        os.remove(path)
        raise

    def done() -> T:
        try:
            return wait()
        finally:
            os.remove(path)

    return done


def write_text_batches(path: str, frames: Iterable[Any], columns: Sequence[str]) -> None:
    """``columns`` of each of ``frames`` (pandas DataFrames) as text, one record batch a frame, in
    the Arrow IPC file at ``path`` (pyarrow.ipc.open_file reads a batch at a time)."""
    import pyarrow as pa

    schema = pa.schema([(name, pa.string()) for name in columns])
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        for frame in frames:
            writer.write_batch(pa.RecordBatch.from_arrays(
                [pa.array(frame[name], type=pa.string(), from_pandas=True) for name in columns], schema=schema))
    pa.default_memory_pool().release_unused()  # the batches' buffers, which the pool would keep
