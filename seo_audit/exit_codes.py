"""The exit codes of `seo-audit`: scripts and CI depend on them (README's table lists them, the
help's epilog too; tests/test_cli.py checks both against this enum)."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Each code's name is the word a script reads in the JSON summary's "outcome"."""

    OK = 0
    FINDINGS = 1
    USAGE_ERROR = 2
    CRAWL_FAILED = 3
    STORE_ERROR = 4
    LOCKED = 5
    INTERRUPTED = 130

    @property
    def outcome(self) -> str:
        return self.name.lower().replace("_", "-")
