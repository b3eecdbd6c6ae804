"""Work done in a child process: the result comes back, and so does a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audit.parallel import ChildError, in_child


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _fail(path: Path) -> Path:
    raise OSError(28, "No space left on device", str(path))


def _die(path: Path) -> Path:
    os._exit(9)


def test_the_child_writes_the_file_and_the_parent_gets_its_path(tmp_path):
    wait = in_child(_write_text, tmp_path / "a.csv", "url\r\n")
    assert wait() == tmp_path / "a.csv"
    assert (tmp_path / "a.csv").read_bytes() == b"url\r\n"


def _raise(path: Path) -> Path:
    raise ValueError(f"cannot make {path.name}")


def test_a_failure_in_the_child_is_raised_in_the_parent_with_its_message(tmp_path):
    wait = in_child(_raise, tmp_path / "b.csv")
    with pytest.raises(ChildError, match="cannot make b.csv"):
        wait()


def test_an_os_error_in_the_child_is_an_os_error_in_the_parent(tmp_path):
    # the CLI turns it into exit code 4, as when the parent itself cannot write
    wait = in_child(_fail, tmp_path / "b.csv")
    with pytest.raises(OSError, match="No space left on device") as raised:
        wait()
    assert raised.value.errno == 28 and raised.value.filename == str(tmp_path / "b.csv")


def test_a_child_that_dies_is_reported_not_waited_for_forever(tmp_path):
    wait = in_child(_die, tmp_path / "c.csv")
    with pytest.raises(ChildError, match=r"died \(exit code 9\)"):
        wait()

