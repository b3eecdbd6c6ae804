"""Pure functions from what came over the wire to a pages row (a dict of PAGE_COLUMNS)."""

from __future__ import annotations

import dataclasses
import email.utils
import time
from datetime import datetime, timezone

from .extract import PageFacts, link_header_canonical
from .facts import PAGE_COLUMNS
from .urls import resolve


def header(headers, name: str) -> str | None:
    """All values of header ``name`` joined with ', ', decoded leniently; None if absent."""
    values = headers.getlist(name)
    if not values:
        return None
    return ", ".join(v.decode("latin-1") for v in values).strip()


def response_row(*, url: str, entry_fields: dict, method: str, status: int, headers,
                 body_size: int, latency: float | None, attempts: list,
                 ttfb: float | None = None) -> dict:
    """The facts every fetched URL gets, HTML or not."""
    location = header(headers, "Location")
    length = header(headers, "Content-Length")
    row = {
        **entry_fields,
        "url": url,
        "method": method,
        "status": status,
        "attempt_statuses": attempts or [status],
        "location": location,
        "redirect_target": resolve(url, location) if location and 300 <= status < 400 else None,
        "content_type": header(headers, "Content-Type"),
        "content_length": int(length) if length and length.strip().isdigit() else None,
        "x_robots_tag": header(headers, "X-Robots-Tag"),
        "last_modified": header(headers, "Last-Modified"),
        "retry_after": header(headers, "Retry-After"),
        "content_location": header(headers, "Content-Location"),
        "cache_control": header(headers, "Cache-Control"),
        "expires": header(headers, "Expires"),
        "link_canonical": link_header_canonical(header(headers, "Link"), url),
        "hsts": header(headers, "Strict-Transport-Security"),
        "response_time": round(latency, 4) if latency is not None else None,
        "ttfb": ttfb,
        "size": body_size,
        "fetched_at": time.time(),
    }
    return row


#: the PageFacts a pages row keeps as they are, in the column of their name
STORED_FACTS = tuple(f.name for f in dataclasses.fields(PageFacts) if f.name in PAGE_COLUMNS)


def html_fields(facts: PageFacts) -> dict:
    return {
        **{name: getattr(facts, name) for name in STORED_FACTS},
        "hreflang": facts.hreflang or None,  # NULL, not [], for a page without alternates
        **structured_fields(facts),
        "outlinks": len(facts.links),
    }


def structured_fields(facts: PageFacts) -> dict:
    data = facts.structured
    if data is None:
        return {"structured_count": 0}
    return {"structured_types": data.types or None, "structured_count": len(data.items),
            "structured_errors": data.errors or None, "structured_items": data.items or None}


def error_row(*, url: str, entry_fields: dict, method: str, error: str, attempts: list) -> dict:
    return {**entry_fields, "url": url, "method": method, "error": error,
            "attempt_statuses": attempts or [error], "fetched_at": time.time()}


def says_nofollow(*directives: str | None) -> bool:
    return any(d and ("nofollow" in d.lower() or "none" in d.lower().split(", ")) for d in directives)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now_dt = datetime.fromtimestamp(now if now is not None else time.time(), timezone.utc)
    return max(0.0, (when - now_dt).total_seconds())
