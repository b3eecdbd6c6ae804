"""Downloader middleware: keep what Scrapy's retries would hide."""

from __future__ import annotations

from .errors import describe_failure


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
