"""What the spider yields: the rows one response produced, committed together."""

from __future__ import annotations

from dataclasses import dataclass

from .session import Bundle


@dataclass
class PageRecord:
    bundle: Bundle
