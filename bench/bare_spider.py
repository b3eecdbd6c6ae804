"""The "bare" contender: a plain Scrapy spider that follows links with LinkExtractor and yields
url + status. Default Scrapy settings except concurrency, robots.txt, logging and the two
listening ports (telnet console, 2.19's remote control).

    scrapy runspider bench/bare_spider.py -a url=http://127.0.0.1:8080/ \
        -s CONCURRENT_REQUESTS=16 -s CONCURRENT_REQUESTS_PER_DOMAIN=16 -O /tmp/bare.jsonl

With ``-a list=FILE`` (bench/list_bench.py) it fetches the URLs of FILE, one a line, and follows
no links.
"""

from urllib.parse import urlsplit

import scrapy
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor


class BareSpider(scrapy.Spider):
    name = "bare"
    custom_settings = {
        "ROBOTSTXT_OBEY": False,
        "LOG_LEVEL": "INFO",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
    }

    def __init__(self, url=None, *args, list=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.follow = list is None
        if list is not None:
            with open(list) as lines:
                self.start_urls = [line.strip() for line in lines if line.strip()]
            return
        self.start_urls = [url]
        # host only: Scrapy's offsite check compares host names, an entry with a port never matches
        self.allowed_domains = [urlsplit(url).hostname]
        self.link_extractor = LinkExtractor()

    def parse(self, response):
        yield {"url": response.url, "status": response.status}
        if not self.follow or not isinstance(response, TextResponse):
            return
        for link in self.link_extractor.extract_links(response):
            yield scrapy.Request(link.url, callback=self.parse)
