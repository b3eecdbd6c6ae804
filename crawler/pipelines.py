"""Item pipeline: hand each record to the store writer (batched, off the event loop)."""

from __future__ import annotations

import logging

from scrapy.utils.defer import deferred_from_coro

from .items import PageRecord
from .store import StoreError

logger = logging.getLogger(__name__)

#: the close reason of a crawl whose store could not be written (disk full, read-only)
STORE_ERROR = "store_error"


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        if isinstance(item, PageRecord) and not self.failed:
            try:
                self.crawler.spider.session.record(item.bundle)
            except StoreError as exc:
                # Crawling on would only fetch what cannot be kept: stop, once, saying why.
                self.failed = True
                logger.error("%s; stopping the crawl", exc)
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=STORE_ERROR))
        return item
