"""Tell someone a run ended: POST its summary JSON to a webhook.

A notification is a courtesy, never a reason for a run to fail: errors are logged, one retry
is made (a receiver restarting, a blip), and the run's exit code stays what it was.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 10
RETRY_PAUSE_SECONDS = 1.0


def post_summary(url: str, summary: dict[str, Any], log: logging.Logger, *, attempts: int = 2) -> bool:
    """POST ``summary`` as JSON to ``url``; True once the receiver answers 2xx."""
    body = json.dumps(summary, default=str).encode("utf-8")
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "User-Agent": "seo-audit webhook"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                log.info("webhook %s answered %s", url, response.status)
                return True
        except (urllib.error.URLError, OSError, ValueError) as exc:  # HTTPError is a URLError
            # the last failure is an error: --quiet shows it, the summary went nowhere
            level = logging.ERROR if attempt == attempts else logging.WARNING
            log.log(level, "webhook %s failed (attempt %d of %d): %s", url, attempt, attempts, exc)
        if attempt < attempts:
            time.sleep(RETRY_PAUSE_SECONDS)
    return False
