"""scrapy-playwright's download handler, with each context's pages kept open between renders.

A new page per URL costs Chromium a new target (often a new renderer process) every time:
about twice the CPU of navigating a page already open. So a page whose render went cleanly
is handed to the next render of its context, through scrapy-playwright's own way of reusing a
page (``meta["playwright_page"]``: it drops the old routes before the new navigation).

A page is reused only when nothing of its last document can reach the next render: that render
started no navigation but its own and no download (``RenderProbe.page_reusable``), and the page
then went to ``about:blank`` (which ends the old document, its timers and fetches) without a
download or navigation meanwhile. Any other page is closed, as scrapy-playwright closes the page
of a failed render.
"""

from __future__ import annotations

from contextlib import suppress

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

#: request meta: the Renderer's probe of the render (crawler.render.RenderProbe)
PROBE = "render_probe"
#: request meta: the render's context generation (crawler.render.Renderer recycles contexts)
GENERATION = "render_generation"
#: seconds a page is given to go to about:blank before it is closed instead
RESET_TIMEOUT = 2.0


class RenderHandler(ScrapyPlaywrightDownloadHandler):
    """Pages are kept for the newest context generation only: an older context gets no new
    renders, so its pages are closed as soon as they are free (open pages stay at the render
    concurrency)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.idle: list = []  # free pages of the newest generation's context
        self.generation = -1  # the newest generation a render asked for

    async def _download_request_with_retry(self, request, spider):
        meta = request.meta
        if PROBE not in meta:
            return await super()._download_request_with_retry(request, spider)
        meta["playwright_include_page"] = True  # the page comes back here, not to the spider
        meta["playwright_page"] = await self._idle_page(meta[GENERATION])
        try:
            response = await super()._download_request_with_retry(request, spider)
        except BaseException:
            await _close(meta.pop("playwright_page", None))
            raise
        await self._release(meta, meta.pop("playwright_page", None))
        return response

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
        if (meta[GENERATION] == self.generation and meta.get("playwright_context") in self.context_wrappers
                and probe.page_reusable and await _reset(page)):
            self.idle.append(page)
        else:
            await _close(page)


async def _reset(page) -> bool:
    """Take ``page`` to about:blank; whether it got there with nothing else happening."""
    events = []

    def on_navigation(request):
        if request.is_navigation_request():
            events.append("navigation")

    def on_download(download):
        events.append("download")

    page.on("download", on_download)
    page.on("request", on_navigation)
    try:
        await page.goto("about:blank", timeout=RESET_TIMEOUT * 1000)
        return not events and page.url == "about:blank"
    except Exception:  # noqa: BLE001 - a page that cannot be reset is closed
        return False
    finally:
        page.remove_listener("download", on_download)
        page.remove_listener("request", on_navigation)


async def _close(page) -> None:
    if page is not None and not page.is_closed():
        with suppress(Exception):  # already gone with a crashed browser or closed context
            await page.close()
