"""Item pipeline: hand each record to the store writer (batched, off the event loop)."""

from __future__ import annotations

from .items import PageRecord


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        if isinstance(item, PageRecord):
            self.crawler.spider.session.record(item.bundle)
        return item
