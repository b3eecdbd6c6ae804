"""scrapy-playwright's download handler, with each context's pages kept open between renders.

A new page per URL costs Chromium a new target (often a new renderer process) every time:
about twice the CPU of navigating a page already open. So a page whose render went cleanly
is handed to the next render of its context, through scrapy-playwright's own way of reusing a
page (``meta["playwright_page"]``: it drops the old routes before the new navigation).

Nothing of a page's last document may reach the next render:
- a page is reused only after a render that started no navigation but its own and no download
  (``RenderProbe.page_reusable``; a JS redirect or a download could land in the next render);
  any other page is closed, as scrapy-playwright closes the page of a failed render;
- the next render's probe ignores what the old document does until its own navigation commits
  (``RenderProbe.committed``);
- a render that fails on a reused page, other than by its time limit, is done again on a new
  page: its outcome never depends on the page's previous document.
(Going to about:blank between renders would end the old document too, but it cost Chromium a
third more CPU per page: the blank document and the next one each need a renderer again.)

scrapy-playwright routes every request of a page ("**") to give the page's own request the
crawl's headers (its Authorization, say): each script, style, image and XHR would then be a
round trip from Chromium through Playwright's driver to this process and back. Here the page's
URL is routed, through scrapy-playwright's own handler, only when the crawl sends headers of
its own (``--header``, credentials in the start URL); otherwise the browser sends its own, with
the context's user agent and language (the raw fetch's), and nothing is intercepted. What the
page loads goes straight out. Chromium's cache is off for every render (Playwright turns it off
for a page with routes; crawler.render.init_page for the others): transferred bytes and timings
stay those of a first visit.

After the navigation scrapy-playwright asks Playwright's driver for the response's full
headers, TLS details and server address, and its response listener asks every response of the
render for its full headers: one round trip each through the crawl's busy thread. None of them
is recorded for a render (the raw fetch records its own), so ``_Settled`` answers them from
what Playwright already has (``_answer_locally``).

scrapy-playwright reads the rendered HTML with ``page.content()``, which runs in a world of
Playwright's own that each new document has to build again; ``settle`` has read the same HTML
in the page's world already (crawler.render.METRICS_SCRIPT), and ``_Settled`` hands it over.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from contextlib import suppress

from playwright.async_api import TimeoutError as PlaywrightTimeout
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

#: request meta: the Renderer's probe of the render (crawler.render.RenderProbe)
PROBE = "render_probe"
#: request meta: the render's context generation (crawler.render.Renderer recycles contexts)
GENERATION = "render_generation"
#: request meta: whether the crawl sends headers of its own, which the page's request must carry
OWN_HEADERS = "render_own_headers"


class RenderHandler(ScrapyPlaywrightDownloadHandler):
    """Pages are kept for the newest context generation only: an older context gets no new
    renders, so its pages are closed as soon as they are free (open pages stay at the render
    concurrency)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.idle: list = []  # free pages of the newest generation's context
        self.generation = -1  # the newest generation a render asked for
        self.routes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # page -> its render's routes

    async def _download_request_with_retry(self, request, spider, reuse: bool = True):
        meta = request.meta
        if PROBE not in meta:
            return await super()._download_request_with_retry(request, spider)
        meta["playwright_include_page"] = True  # the page comes back here, not to the spider
        reused = meta["playwright_page"] = await self._idle_page(meta[GENERATION]) if reuse else None
        try:
            page = reused or await self._create_page(request=request, spider=spider)
            meta["playwright_page"] = page
            await meta["playwright_page_init_callback"](page, request)
            await self._route(page, request, spider)
            response = await self._download_request_with_page(request, _Settled(page, meta[PROBE]), spider)
        except BaseException as exc:  # cancelled by Scrapy's download timeout too
            await _close(meta.pop("playwright_page", None))
            if reused is None or not isinstance(exc, Exception) or isinstance(exc, PlaywrightTimeout):
                raise
            meta[PROBE].restart()
            return await self._download_request_with_retry(request, spider, reuse=False)
        meta.pop("playwright_page", None)
        await self._release(meta, page)
        return response

    async def _route(self, page, request, spider) -> None:
        """Route the page's own request (its URL, give or take a trailing slash) to give it the
        crawl's headers if it has some, and what robots.txt may block to the probe (registered
        last, so asked first); then drop the previous render's routes. Added before the old ones
        go, so that a page with routes never goes without: Playwright would turn interception
        off and on again, and Chromium's cache with it."""
        probe = request.meta[PROBE]
        routes = []
        if request.meta[OWN_HEADERS]:
            url = request.url.split("#", 1)[0].rstrip("/")
            routes.append((re.compile("^" + re.escape(url) + "/?$"), self._make_request_handler(
                context_name=request.meta["playwright_context"], method=request.method, url=request.url,
                headers=request.headers, body=request.body, encoding=request.encoding, spider=spider,
                initial_request_done=asyncio.Event())))
        if probe.honour_robots and probe.robots_scope is not None:
            routes.append((probe.robots_scope, probe.route))
        for pattern, handler in routes:
            await page.route(pattern, handler)
        for pattern, handler in self.routes.get(page, ()):
            await page.unroute(pattern, handler)
        self.routes[page] = routes

    async def _idle_page(self, generation: int):
        """A free page for a render of ``generation``, or None (scrapy-playwright makes one)."""
        if generation > self.generation:
            self.generation = generation
            stale, self.idle = self.idle, []
            for page in stale:
                await _close(page)
        if generation == self.generation:
            while self.idle:
                page = self.idle.pop()
                if not page.is_closed():
                    return page
        return None

    async def _release(self, meta: dict, page) -> None:
        if page is None or page.is_closed():
            return
        probe = meta[PROBE]
        probe.detach(page)
        if (probe.page_reusable and meta[GENERATION] == self.generation
                and meta.get("playwright_context") in self.context_wrappers):
            self.idle.append(page)
        else:
            await _close(page)


class _Settled:
    """The page as scrapy-playwright's download sees it, with the HTML ``settle`` read as its
    content (page.content() if it read none: a JS redirect left it the old document's), and
    each response's headers answered locally (``_answer_locally``): scrapy-playwright's listener
    asks every response of the render for its full headers, a round trip each, to describe a
    download (which a render refuses)."""

    def __init__(self, page, probe):
        self._page, self._probe = page, probe
        self._listeners: dict = {}  # scrapy-playwright's response listener -> the one the page has

    def __getattr__(self, name):
        return getattr(self._page, name)

    def on(self, event: str, listener):
        if event == "response":
            listener = self._listeners.setdefault(listener, _with_local_answers(listener))
        return self._page.on(event, listener)

    def remove_listener(self, event: str, listener):
        if event == "response":
            listener = self._listeners.pop(listener, listener)
        return self._page.remove_listener(event, listener)

    async def goto(self, *args, **kwargs):
        response = await self._page.goto(*args, **kwargs)
        if response is not None:
            _answer_locally(response)
        return response

    async def content(self) -> str:
        html, self._probe.html = self._probe.html, None
        return html if html is not None else await self._page.content()


def _with_local_answers(listener):
    def on_response(response):
        _answer_locally(response)
        return listener(response)
    return on_response


def _answer_locally(response) -> None:
    """Spare scrapy-playwright's round trips to a response: its headers from
    Playwright's own copy (``response.headers``, which only lacks cookie headers: the rendered
    response only gives its body's content type, the raw fetch records the headers), and no TLS
    details or server address (the raw fetch records those)."""
    headers = response.headers

    async def all_headers() -> dict:
        return headers

    async def nothing() -> None:
        return None

    response.all_headers, response.security_details, response.server_addr = all_headers, nothing, nothing


async def _close(page) -> None:
    if page is not None and not page.is_closed():
        with suppress(Exception):  # already gone with a crashed browser or closed context
            await page.close()
