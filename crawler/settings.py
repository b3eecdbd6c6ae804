"""Scrapy settings of the auditor. Each one changed from Scrapy's defaults says why.

`seo-audit crawl` starts from these and overrides the per-crawl ones (concurrency,
delay, timeout, sizes, user agent) from its options; `scrapy crawl site -a url=...`
uses them as they are.
"""

BOT_NAME = "seo-audit"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "Mozilla/5.0 (compatible; seo-audit/0.1; +https://github.com/seo-audit/seo-audit)"

# The spider fetches robots.txt itself and records blocked URLs with the blocking rule;
# Scrapy's RobotsTxtMiddleware would drop them without a trace.
ROBOTSTXT_OBEY = False

# The frontier scheduler de-duplicates URLs before they become Requests, redirects
# included; Scrapy's dupe filter would drop a redirect to an already-seen URL.
SCHEDULER = "crawler.frontier.FrontierScheduler"
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"

# Every status reaches the spider: a 404 or a 503 is a record, not noise.
HTTPERROR_ALLOW_ALL = True
# Each redirect hop is its own record: the spider follows Location itself.
REDIRECT_ENABLED = False
METAREFRESH_ENABLED = False

# Scrapy's HTTP/1.1 handler, also measuring each response's time to first byte by the
# kernel's clocks (crawler.timing): download_latency counts our own parsing too.
DOWNLOAD_HANDLERS = {
    "http": "crawler.timing.TimedHTTPDownloadHandler",
    "https": "crawler.timing.TimedHTTPDownloadHandler",
}

# Retries keep Scrapy's policy; AttemptRecorder keeps every attempt's status.
RETRY_TIMES = 2
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.AttemptRecorder": 560,
    "crawler.middlewares.RetryAfterThrottle": 570,
}
# A response yields one record: Scrapy's default of 100 parallel item workers per response
# costs 101 asyncio tasks a page (13% of the crawl's CPU) for nothing.
CONCURRENT_ITEMS = 1
ITEM_PIPELINES = {
    "crawler.pipelines.StorePipeline": 300,
}
EXTENSIONS = {
    "crawler.progress.Progress": 500,
    "scrapy.extensions.logstats.LogStats": None,  # Progress says the same, in our words
}

# A crawler that identifies itself should not also carry one session's cookies around:
# search engines crawl without them, and session-id sites would look different.
COOKIES_ENABLED = False
# The referrer is recorded from the links table; the header costs time on every request.
REFERER_ENABLED = False
# URL length and depth are recorded and capped by the frontier, not silently dropped.
URLLENGTH_LIMIT = 0
DEPTH_LIMIT = 0
DEPTH_STATS_VERBOSE = False

# Polite defaults for real sites; `seo-audit demo` and the tests raise them on loopback.
CONCURRENT_REQUESTS = 5
CONCURRENT_REQUESTS_PER_DOMAIN = 5
DOWNLOAD_DELAY = 0
DOWNLOAD_TIMEOUT = 20
# 10 MiB per body, decompressed (gzip bombs included); larger is recorded as max-size.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0

# No listening ports of our own unless the user asks.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Scrapy looks for a generator callback's `return value` by parsing its source; its cache is
# keyed by weak references to bound methods, which die at once, so it parsed SiteSpider.parse
# again for every response (about 2.7 ms each, more than the page's own extraction).
WARN_ON_GENERATOR_RETURN_VALUE = False

LOG_LEVEL = "INFO"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
