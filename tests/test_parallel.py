"""Work done in a new process: the result comes back, and so does a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crawler.parallel import ChildError, in_new_process

starts = pytest.mark.parametrize("start", [in_new_process], ids=["new-process"])


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _fail(path: Path) -> Path:
    raise OSError(28, "No space left on device", str(path))


def _die(path: Path) -> Path:
    os._exit(9)


@starts
def test_the_child_writes_the_file_and_the_parent_gets_its_path(start, tmp_path):
    wait = start(_write_text, tmp_path / "a.csv", "url\r\n")
    assert wait() == tmp_path / "a.csv"
    assert (tmp_path / "a.csv").read_bytes() == b"url\r\n"


def _raise(path: Path) -> Path:
    raise ValueError(f"cannot make {path.name}")


@starts
def test_a_failure_in_the_child_is_raised_in_the_parent_with_its_message(start, tmp_path):
    wait = start(_raise, tmp_path / "b.csv")
    with pytest.raises(ChildError, match="cannot make b.csv"):
        wait()


@starts
def test_an_os_error_in_the_child_is_an_os_error_in_the_parent(start, tmp_path):
    # the CLI turns it into exit code 4, as when the parent itself cannot write
    wait = start(_fail, tmp_path / "b.csv")
    with pytest.raises(OSError, match="No space left on device") as raised:
        wait()
    assert raised.value.errno == 28 and raised.value.filename == str(tmp_path / "b.csv")


@starts
def test_a_child_that_dies_is_reported_not_waited_for_forever(start, tmp_path):
    wait = start(_die, tmp_path / "c.csv")
    with pytest.raises(ChildError, match=r"died \(exit code 9\)"):
        wait()

