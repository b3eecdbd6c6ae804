"""Downloader middlewares: keep what Scrapy's retries would hide, and slow down when asked."""

from __future__ import annotations

from .errors import describe_failure
from .records import retry_after_seconds

#: the longest Retry-After honoured as a pause (s): longer asks are recorded, not waited out
MAX_RETRY_AFTER = 30.0
RATE_LIMIT_STATUSES = (429, 503)


class AttemptRecorder:
    """Append every attempt's status (or error) to ``request.meta["attempts"]``.

    It sits just outside RetryMiddleware, so it sees each raw response and exception
    before a retry replaces it: a page that answered 503 then 200 keeps its 503.
    """

    def process_response(self, request, response, spider=None):
        request.meta.setdefault("attempts", []).append(response.status)
        return response

    def process_exception(self, request, exception, spider=None):
        request.meta.setdefault("attempts", []).append(describe_failure(exception))
        return None


class RetryAfterThrottle:
    """A 429 or 503 with Retry-After slows the host down as asked, until it answers normally.

    The pause becomes the download slot's delay (capped at MAX_RETRY_AFTER), so the
    retry and every other request to that host wait; the next ordinary answer restores
    the configured delay.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.base_delay = crawler.settings.getfloat("DOWNLOAD_DELAY")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response, spider=None):
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            return response
        # the delay this host normally gets: ours, or its robots.txt Crawl-delay
        normal = max(self.base_delay, downloader.per_slot_settings.get(key, {}).get("delay", 0))
        if response.status in RATE_LIMIT_STATUSES:
            wait = retry_after_seconds(response.headers.get(b"Retry-After", b"").decode("latin-1"))
            if wait:
                slot.delay = max(normal, min(wait, MAX_RETRY_AFTER))
                self.crawler.stats.inc_value("retry_after/slowed")
        elif slot.delay > normal:
            slot.delay = normal
        return response
