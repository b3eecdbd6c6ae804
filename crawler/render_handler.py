"""scrapy-playwright's download handler, with each context's pages kept open between renders.

A page per URL costs Chromium a new target (and often a renderer process) every time: most of
a render's CPU on a small page. Here a page whose render completed goes back to its context's
idle list, without the routes and listeners of that render, and the next render in that
context navigates it again (the new document gets the context's init script afresh). A page
whose render failed (timeout, crash, error) is closed, as scrapy-playwright closes it: a page
stuck loading is not handed on. Render requests ask for ``playwright_include_page`` so the
handler returns the page here instead of closing it; the page never reaches the spider.
"""

from __future__ import annotations

from contextlib import suppress

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

#: request meta: whether the render's page was reused (crawler.render.init_page reads it)
REUSED = "render_page_reused"


class RenderHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.idle: dict[str, list] = {}  # context name -> pages open and free

    async def _create_page(self, request, spider):
        name = request.meta.get("playwright_context")
        for other in [n for n in self.idle if n != name]:
            # renders go to the newest context only (crawler.render recycles them): an older
            # one's free pages are never asked for again
            for page in self.idle.pop(other):
                with suppress(Exception):
                    await page.close()
        pages = self.idle.get(name, [])
        while pages:
            page = pages.pop()
            if not page.is_closed():
                request.meta[REUSED] = True
                return page
        request.meta[REUSED] = False
        return await super()._create_page(request, spider)

    async def _download_request(self, request, spider=None):
        try:
            response = await super()._download_request(request, spider)
        except BaseException:
            page = request.meta.pop("playwright_page", None)
            if page is not None and not page.is_closed():
                with suppress(Exception):
                    await page.close()
            raise
        await self._release(request, request.meta.pop("playwright_page", None))
        return response

    async def _release(self, request, page) -> None:
        if page is None or page.is_closed():
            return
        probe = request.meta.get("render_probe")
        try:
            await page.unroute("**")  # this render's routes: robots.txt's and scrapy-playwright's
            if probe is not None:
                probe.detach(page)
        except Exception:  # noqa: BLE001 - a page that cannot be cleaned is not reused
            with suppress(Exception):
                await page.close()
            return
        name = request.meta.get("playwright_context")
        if name in self.context_wrappers:
            self.idle.setdefault(name, []).append(page)
        else:
            with suppress(Exception):
                await page.close()
