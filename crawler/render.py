"""Rendering: what a page looks like after its JavaScript ran, beside what its raw HTML said.

The raw fetch of a page stays exactly as it is. When a page is to be rendered (``--render all``,
or ``auto``: see ``AutoSampler``; a page that can run no script, ``may_script``, is not), the
spider hands its finished raw record to ``Renderer``, which asks for the same URL again through
scrapy-playwright (``meta["playwright"]``, a download slot of its own, no retry, no dedup) in the
system Chromium. The rendered facts are merged into
the same bundle, so a page's raw and rendered rows are committed together (a SIGKILL between
the two loses both, and ``--resume`` fetches the page again).

Bounds: ``render_concurrency`` pages at once (the "render" download slot), ``render_timeout``
seconds per page (the navigation's limit; past it the page is recorded as a render timeout), a
browser context recycled every ``render_pages_per_context`` pages, downloads refused, service
workers blocked, ``window.open`` and dialogs neutralised. Sub-resources honour robots.txt, as
Googlebot's renderer does; a page that had some blocked is rendered once more without the
block, to say whether they changed what the page shows. Requests to other origins are made by
the browser and recorded (XHR list), never followed as pages.

Pure parts (tested as such): ``rendered_fields``, ``differences``, ``template_key``, ``may_script``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import weakref
from collections import deque
from dataclasses import dataclass, field, fields
from functools import partial
from typing import Any, Callable
from urllib.parse import urlsplit

from .chromium import LAUNCH_ARGS, RENDER_MODES, RenderUnavailable, chromium_executable, require_chromium
from .extract import Link, PageFacts, extract
from .facts import PAGE_COLUMNS
from .records import says_nofollow
from .urls import origin

RENDER_SLOT = "render"
#: pages waiting for a render beyond which the raw crawl waits too (bounds what they hold)
RENDER_BACKLOG = 500
#: why a page was rendered, and why one was not (auto: its raw HTML can run no script): the
#: crawl's render/<why> stats
RENDER_REASONS = ("all", "auto-sample", "auto-template-differs", "auto-resample")
NOT_RENDERED_REASONS = ("no-script",)
#: seconds between two render starts at least (see scrapy_settings)
RENDER_SLOT_DELAY = 0.01
#: after the load event, wait until no fetch/XHR has been in flight for this long (s), counted
#: from the render's start or the last fetch/XHR to start or end, and until every fetch/XHR the
#: page says it started (INIT_SCRIPT) has been seen: a fetch chained on another's answer starts
#: within it; and until the page started none for as long after its load event ended
#: (METRICS_SCRIPT): a timer the load sets going starts its fetch within it...
SETTLE_QUIET = 0.1
#: ...but no longer than this (s), within the page's time limit
SETTLE_MAX = 3.0
#: seconds a read of the page (read_page) may take beyond the wait it makes in the page
READ_SLACK = 2.0
#: sub-resource kinds whose robots.txt block is re-checked by a render without it
RENDERING_RESOURCE_TYPES = ("script", "stylesheet", "xhr", "fetch")
#: words rendered / raw beyond which the content is said to differ
WORD_RATIO = 1.5
#: kept per list column (console errors, XHRs...): a page with thousands says enough with these
MAX_LISTED = 50

# Neutralise what could stall a page (popups, dialogs), record LCP and CLS from the start,
# count the fetches and XHRs (http and https: those Chromium makes requests of) the document
# starts, and keep the browser's own serializers for reading the DOM back (state.html: what
# Playwright's page.content() returns, read in the page's world: page.content() runs in a world
# of Playwright's own, which each new document has to build, a fifth of a render's CPU).
INIT_SCRIPT = """
(() => {
  if (window.__seoAudit) return;
  const state = window.__seoAudit = {lcp: null, cls: 0, fetches: 0};
  const Serializer = XMLSerializer, serialize = XMLSerializer.prototype.serializeToString;
  const outerHTML = Object.getOwnPropertyDescriptor(Element.prototype, 'outerHTML').get;
  state.html = () => (document.doctype ? serialize.call(new Serializer(), document.doctype) : '') +
                     (document.documentElement ? outerHTML.call(document.documentElement) : '');
  window.open = () => null;
  window.alert = window.confirm = window.prompt = () => undefined;
  const started = url => {
    try {
      if (/^https?:$/.test(new URL(url, location.href).protocol)) {
        state.fetches++;
        state.lastFetch = performance.now();
      }
    } catch (e) {}
  };
  const fetch = window.fetch;
  window.fetch = function (input) {
    const answer = fetch.apply(this, arguments);
    started(input instanceof Request ? input.url : input);
    return answer;
  };
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    const answer = open.apply(this, arguments);
    this.__seoAuditUrl = url;
    return answer;
  };
  XMLHttpRequest.prototype.send = function () {
    const answer = send.apply(this, arguments);
    started(this.__seoAuditUrl);
    return answer;
  };
  try {
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) state.lcp = e.renderTime || e.loadTime || e.startTime;
    }).observe({type: 'largest-contentful-paint', buffered: true});
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) state.cls += e.value;
    }).observe({type: 'layout-shift', buffered: true});
  } catch (e) {}
})();
"""
# Chromium's own figures for this load: navigation timing, resource timing, the observers above;
# and the DOM (read with them: one round trip less). Read once the page started no fetch/XHR for
# [quiet] ms since its load event ended (at most [longest] ms from now): a timer the load sets
# going (setTimeout(fetch, 50)) starts its fetch in that window, and then it is waited for.
# Counted in the page's own clock, that window has mostly passed by the time this runs.
METRICS_SCRIPT = """
async ([quiet, longest]) => {
  const nav = performance.getEntriesByType('navigation')[0] || {};
  const state = window.__seoAudit || {};
  const until = performance.now() + longest, loaded = nav.loadEventEnd || performance.now();
  for (;;) {
    const wait = Math.min(Math.max(loaded, state.lastFetch || 0) + quiet, until) - performance.now();
    if (wait <= 0) break;
    await new Promise(done => setTimeout(done, wait));
  }
  const resources = performance.getEntriesByType('resource');
  const bytes = resources.reduce((sum, r) => sum + (r.transferSize || 0), nav.transferSize || 0);
  return {ttfb: nav.responseStart || null, dcl: nav.domContentLoadedEventEnd || null,
          load: nav.loadEventEnd || null, lcp: state.lcp, cls: state.cls || 0,
          bytes: bytes, requests: 1 + resources.length, fetches: state.fetches || 0,
          html: typeof state.html === 'function' ? state.html() : null};
}
"""


def scrapy_settings(options) -> dict[str, Any]:
    """The Scrapy settings rendering adds: scrapy-playwright's handler (only requests with
    meta playwright=True go through the browser), the system Chromium, and the bounds."""
    handler = "crawler.render_handler.RenderHandler"
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        # renders come on top of the raw crawl's fetches, which keep --concurrency to themselves
        "CONCURRENT_REQUESTS": options.concurrency + options.render_concurrency,
        # Playwright's launch makes a fresh temporary profile (user-data dir) and talks to the
        # browser over a pipe: no listening port
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": require_chromium(), "headless": True,
                                      "args": LAUNCH_ARGS, "handle_sigint": False,
                                      "handle_sigterm": False},
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": options.render_timeout * 1000,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": options.render_concurrency,
        "PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER": True,
        # a slot's queue hands out every queued request at once when it has no delay (the
        # concurrency check runs before the downloads it started count): a small delay keeps
        # renders at render_concurrency
        "DOWNLOAD_SLOTS": {RENDER_SLOT: {"concurrency": options.render_concurrency,
                                         "delay": max(options.delay, RENDER_SLOT_DELAY)}},
    }


# --- pure parts ----------------------------------------------------------------------------

def _limited(items: list) -> list:
    return items[:MAX_LISTED]


#: the PageFacts of the rendered DOM a pages row keeps as they are, in rendered_<name>
RENDERED_FACTS = tuple(f.name for f in fields(PageFacts) if f"rendered_{f.name}" in PAGE_COLUMNS)


def rendered_fields(facts: PageFacts, probe: "RenderProbe", final_url: str) -> dict[str, Any]:
    """The rendered_* columns of a page from the facts of its rendered DOM and what the
    browser saw while it loaded."""
    metrics = probe.metrics or {}

    def ms(name: str) -> float | None:
        value = metrics.get(name)
        return round(float(value), 1) if isinstance(value, (int, float)) else None

    return {
        "render_outcome": "ok",
        **{f"rendered_{name}": getattr(facts, name) for name in RENDERED_FACTS},
        "rendered_outlinks": len(facts.links),
        "rendered_final_url": final_url,
        "rendered_console_errors": _limited(probe.console_errors),
        "rendered_js_errors": _limited(probe.js_errors),
        "rendered_failed_requests": _limited(probe.failed_requests),
        "rendered_xhr": _limited(probe.xhr),
        "rendered_blocked_resources": _limited(probe.blocked) or None,
        "rendered_ttfb_ms": ms("ttfb"),
        "rendered_dcl_ms": ms("dcl"),
        "rendered_load_ms": ms("load"),
        "rendered_lcp_ms": ms("lcp"),
        "rendered_cls": round(float(metrics["cls"]), 4) if isinstance(metrics.get("cls"), (int, float)) else None,
        "rendered_bytes": int(metrics["bytes"]) if isinstance(metrics.get("bytes"), (int, float)) else None,
        "rendered_requests": int(metrics["requests"]) if isinstance(metrics.get("requests"), (int, float)) else None,
    }


def _page_links(facts: PageFacts) -> set[str]:
    return {link.target for link in facts.links if link.kind == "a"}


def differences(raw: PageFacts, rendered: PageFacts) -> list[str]:
    """What matters for indexing that differs between the raw and the rendered view: links,
    title, meta_robots, canonical, h1, word_count (in that order)."""
    found = []
    if _page_links(raw) != _page_links(rendered):
        found.append("links")
    for name in ("title", "meta_robots", "canonical"):
        if getattr(raw, name) != getattr(rendered, name):
            found.append(name)
    if (raw.h1_count, raw.h1) != (rendered.h1_count, rendered.h1):
        found.append("h1")
    low, high = sorted((raw.word_count, rendered.word_count))
    if high > max(low, 1) * WORD_RATIO and high - low >= 20:
        found.append("word_count")
    return found


def render_counts(stats: dict, reasons: tuple[str, ...]) -> dict[str, int]:
    """The crawl's render/<why> stats for the given whys, by why."""
    return {why: int(stats[f"render/{why}"]) for why in reasons if stats.get(f"render/{why}")}


# What can run script or load a document that can (a same-origin frame may reach its parent):
# script tags, inline event handlers (<img onerror=...>, <body onload=...>), javascript: URLs,
# frames, objects and embeds, an XSLT stylesheet. Text that only looks like one costs a render.
_SCRIPTING = re.compile(r"""<script\b|<i?frame\b|<object\b|<embed\b|<\?xml-stylesheet|javascript:"""
                        r"""|[\s/"']on[a-z]+\s*=""", re.I)


def may_script(html: str) -> bool:
    """Whether a page's raw HTML can run JavaScript at all: one that cannot renders as it reads
    (``auto`` records it raw, as "no-script", without spending a render or a sample on it)."""
    return _SCRIPTING.search(html) is not None


_SCRIPT_SRC = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']?([^"'\s>?#]+)""", re.I)
_SCRIPT_TAG = re.compile(r"<script\b", re.I)


def url_pattern(url: str) -> str:
    """A page's URL family: its first path segment, how many segments follow, its parameter
    names (/shop/boots and /shop/tents -> /shop/*; /p/1?c=2 -> /p/*?c)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    pattern = "/" + "/".join(segments[:1] + ["*"] * (len(segments) - 1))
    if parts.query:
        pattern += "?" + "&".join(sorted({kv.split("=", 1)[0] for kv in parts.query.split("&") if kv}))
    return pattern


def template_key(url: str, html: str, facts: PageFacts) -> tuple:
    """The group a page is sampled in (``auto``): its URL family and the shape of its raw HTML,
    that is the scripts it loads (by path), how many script tags it has, and its amount of
    text in powers of four (an app shell has next to none). Pages of one template built by one
    script share it, however many links each lists."""
    scripts = tuple(sorted({src.rsplit("/", 1)[-1] for src in _SCRIPT_SRC.findall(html)}))
    return (url_pattern(url), scripts, min(len(_SCRIPT_TAG.findall(html)), 8),
            facts.word_count.bit_length() // 2)


# --- auto: sample each template, render the templates where it matters -------------------

@dataclass
class _Group:
    sampled: int = 0  # sample renders asked for
    in_flight: int = 0  # sample renders not back yet
    seen: int = 0  # pages of the group met once it was settled
    next_resample: int = 0  # the seen count at which it is re-sampled next
    differs: bool = False
    waiting: list = field(default_factory=list)  # pages held until the samples are back


class AutoSampler:
    """Render ``sample`` pages of each template group. Pages of the group met while its samples
    are out are held (up to ``hold`` of them, then recorded raw) until the samples are back:
    then a group where raw and rendered differ in what matters is rendered whole, held pages
    included, and a group found alike is recorded raw and re-sampled at its ``resample_every``-th
    page, then each time its count doubles (one template can behave differently further in, but
    each alike sample makes that less likely: a few renders per template over the whole crawl)."""

    def __init__(self, sample: int = 2, resample_every: int = 100, hold: int = 200):
        self.sample = sample
        self.resample_every = resample_every
        self.hold = hold
        self.groups: dict[tuple, _Group] = {}

    def reason(self, key: tuple, page: Any = None) -> str | None:
        """Why to render a page of group ``key`` now; "held" if it was kept in the group's
        waiting list (with ``page``); None to record it raw."""
        group = self.groups.setdefault(key, _Group())
        if group.differs:
            return "auto-template-differs"
        if group.sampled < self.sample:
            group.sampled += 1
            group.in_flight += 1
            return "auto-sample"
        if group.in_flight:
            if len(group.waiting) < self.hold:
                group.waiting.append(page)
                return "held"
            return None
        group.seen += 1
        if group.seen < (group.next_resample or self.resample_every):
            return None
        group.next_resample = 2 * group.seen
        return "auto-resample"

    def learn(self, key: tuple, reason: str, differs: bool | None) -> tuple[bool, list]:
        """A render of group ``key`` is back (``differs`` None: it failed). Returns whether the
        group is rendered whole, and the held pages to release now."""
        group = self.groups[key]
        if reason == "auto-sample":
            group.in_flight -= 1
            if differs is None:
                group.sampled -= 1  # the next page is a sample again
        group.differs = group.differs or bool(differs)
        if group.differs or not group.in_flight:
            released, group.waiting = group.waiting, []
            return group.differs, released
        return group.differs, []


# --- what the browser saw ------------------------------------------------------------------

@dataclass
class RenderProbe:
    """Events of one page's render, filled by Playwright's event callbacks."""

    blocked_rule: Callable[[str], str | None]  # robots.txt rule blocking a sub-resource URL
    honour_robots: bool = True
    # the URLs whose robots.txt may block them (their origins'), a regex; None: nothing to check
    robots_scope: re.Pattern | None = None
    console_errors: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    failed_requests: list[list[str]] = field(default_factory=list)
    xhr: list[list] = field(default_factory=list)  # [url, status]
    blocked: list[list[str]] = field(default_factory=list)  # [url, resource type, rule]
    metrics: dict[str, Any] | None = None
    html: str | None = None  # the DOM once settled (None: read it with page.content())
    in_flight: int = 0
    fetches: int = 0  # fetch/XHR requests of the main frame seen (the page counts those it starts)
    last_activity: float = field(default_factory=time.monotonic)
    context: Any = None  # the Playwright BrowserContext the page ran in
    started: float = field(default_factory=time.monotonic)
    main_frame: Any = None  # the page's main frame, whose navigations are counted
    cdp: Any = None  # the page's CDP session (PageEvents), through which settle reads the page
    navigations: int = 0  # navigation requests of the main frame: the render's own, redirects, JS's
    downloads: int = 0
    # A reused page's previous document lives until this render's navigation commits: what it
    # does meanwhile (its last fetches failing, a timer's console error) is not this page's.
    committed: bool = False  # the main frame committed a navigation of this render
    requests: set = field(default_factory=set)  # this render's requests (the others are ignored)

    @property
    def page_reusable(self) -> bool:
        """Whether the page may serve another render (crawler.render_handler): this one started
        no navigation but its own and no download, which could land in the next render."""
        return self.navigations <= 1 and not self.downloads

    def restart(self) -> None:
        """Forget what an attempt on another page recorded (crawler.render_handler)."""
        self.__dict__.update(RenderProbe(self.blocked_rule, self.honour_robots, self.robots_scope).__dict__)

    #: the page events a probe listens to: (event, method)
    EVENTS = (("console", "on_console"), ("pageerror", "on_page_error"), ("request", "on_request"),
              ("requestfinished", "on_request_finished"), ("requestfailed", "on_request_failed"),
              ("response", "on_response"), ("download", "on_download"), ("framenavigated", "on_frame_navigated"))

    def attach(self, page) -> None:
        """Take ``page``'s events (see PageEvents) for this render."""
        self.main_frame = page.main_frame
        self.cdp = _EVENTS[page].cdp
        _EVENTS[page].probe = self

    def detach(self, page) -> None:
        """Give ``page``'s events up, before another render reuses it."""
        if _EVENTS[page].probe is self:
            _EVENTS[page].probe = None

    def on_frame_navigated(self, frame) -> None:
        if frame == self.main_frame:
            self.committed = True

    def on_console(self, message) -> None:
        if self.committed and message.type == "error" and len(self.console_errors) < MAX_LISTED:
            self.console_errors.append(message.text[:500])

    def on_page_error(self, error) -> None:
        if self.committed and len(self.js_errors) < MAX_LISTED:
            self.js_errors.append(str(error)[:500])

    def on_request(self, request) -> None:
        navigation = request.is_navigation_request() and request.frame == self.main_frame
        if navigation:
            self.navigations += 1
        elif not self.committed:
            return
        self.requests.add(request)
        if request.resource_type in ("xhr", "fetch"):
            self.in_flight += 1
            self.fetches += request.frame == self.main_frame
            self.last_activity = time.monotonic()

    def on_download(self, download) -> None:
        self.downloads += 1

    def _request_done(self, request) -> bool:
        """Whether ``request`` is this render's (then no longer in flight)."""
        if request not in self.requests:
            return False
        if request.resource_type in ("xhr", "fetch"):
            self.in_flight = max(0, self.in_flight - 1)
            self.last_activity = time.monotonic()
        return True

    def on_request_finished(self, request) -> None:
        self._request_done(request)

    def on_request_failed(self, request) -> None:
        if self._request_done(request) and len(self.failed_requests) < MAX_LISTED:
            self.failed_requests.append([request.url, request.failure or "failed"])

    def on_response(self, response) -> None:
        request = response.request
        if request in self.requests and request.resource_type in ("xhr", "fetch") and len(self.xhr) < MAX_LISTED:
            self.xhr.append([response.url, response.status])

    async def route(self, route, request) -> None:
        """Googlebot's renderer honours robots.txt for what a page loads: so does this one."""
        rule = None
        if not request.is_navigation_request():
            rule = self.blocked_rule(request.url)
        if rule:
            self.blocked.append([request.url, request.resource_type, rule])
            await route.abort("blockedbyclient")
        else:
            await route.fallback()


class PageEvents:
    """A page's event listeners, attached once when the page is made, handing each event to
    the probe of the render the page serves (none between renders). Attached and removed per
    render, they had Playwright's driver asked to subscribe to the page's events and to drop
    them again every time: a tenth of the crawl process's busy time in rendering."""

    def __init__(self, page):
        self.probe: RenderProbe | None = None
        self.cdp = None  # the CDP session that keeps the page's cache off and reads it (read_page)
        for event, method in RenderProbe.EVENTS:
            page.on(event, partial(self.forward, method))

    def forward(self, method: str, argument) -> None:
        if self.probe is not None:
            getattr(self.probe, method)(argument)


#: pages given their listeners, stall guards and init script: once per page, which serves many renders
_EVENTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


async def init_page(page, request) -> None:
    """scrapy-playwright's page init callback: listen to the page, neutralise what could stall
    it. Runs before the navigation (crawler.render_handler then routes, for robots.txt, the
    URLs of ``probe.robots_scope`` to ``probe.route``: only those, as each routed request is a
    round trip from Chromium through Playwright's driver to this process and back)."""
    probe: RenderProbe = request.meta["render_probe"]
    probe.context = page.context
    probe.started = probe.last_activity = time.monotonic()  # the time limit counts from here
    if page not in _EVENTS:
        _EVENTS[page] = PageEvents(page)
        # a first visit's bytes and timings, routes or not (Playwright turns the cache off only
        # for a page with routes): the session is kept with the page, as the setting lasts as long
        _EVENTS[page].cdp = await page.context.new_cdp_session(page)
        await _EVENTS[page].cdp.send("Network.enable")
        await _EVENTS[page].cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.dismiss()))
        page.on("popup", lambda popup: asyncio.ensure_future(popup.close()))
        await page.add_init_script(INIT_SCRIPT)
    probe.attach(page)


async def read_page(cdp, function: str, args: list, time_limit: float) -> Any:
    """``function(args)`` run in the page's main world, its value returned: through the page's
    CDP session (Runtime.evaluate), not page.evaluate, which first has Playwright's driver
    compile its utility script (the serializer of arguments and values) into every new
    document: a seventh of a render's CPU on a small page. The value comes back as JSON.
    Raises Playwright's Error if the page threw, or navigated away (its document's context
    destroyed, or kept in the back/forward cache: the time limit)."""
    from playwright.async_api import Error as PlaywrightError

    expression = f"({function})({json.dumps(args)})"
    try:
        answer = await asyncio.wait_for(cdp.send("Runtime.evaluate", {
            "expression": expression, "awaitPromise": True, "returnByValue": True}), time_limit)
    except asyncio.TimeoutError:
        raise PlaywrightError("the page's document did not answer (navigated away)") from None
    if "exceptionDetails" in answer:
        raise PlaywrightError(str(answer["exceptionDetails"].get("text", "the page threw")))
    return answer["result"].get("value")


async def settle(page, probe: RenderProbe, time_limit: float) -> None:
    """After the load event: wait for the page's fetches and XHRs to go quiet (bounded), then
    read Chromium's timings. A navigation meanwhile (a JS redirect) is waited for.

    The probe learns of a request from Playwright's driver, which (a page having routes) tells
    of it only once Chromium's network layer has paused it: that can be after the load event,
    and a fetch started during or by the load would look like none. So the page's own count of
    the fetches and XHRs it started (read with the timings) must be met too: while the probe has
    seen fewer, or one started or ended while they were read, the rest are waited for and the
    timings read again. The page reads them only once it started no fetch for SETTLE_QUIET
    after its load event (METRICS_SCRIPT), so that one a timer starts just after is counted."""
    from playwright.async_api import Error as PlaywrightError

    deadline = probe.started + time_limit
    limit = min(deadline, time.monotonic() + SETTLE_MAX)
    started = 0  # the fetches/XHRs the page said it started
    navigations = 0
    while True:
        while time.monotonic() < limit:
            quiet = time.monotonic() - probe.last_activity
            in_flight = probe.in_flight + max(0, started - probe.fetches)
            if in_flight == 0 and quiet >= SETTLE_QUIET:
                break
            await asyncio.sleep(max(0.02, SETTLE_QUIET - quiet) if in_flight == 0 else 0.05)
        activity = probe.last_activity
        try:
            window = max(0.0, limit - time.monotonic())
            probe.metrics = await read_page(probe.cdp, METRICS_SCRIPT, [SETTLE_QUIET * 1000, window * 1000],
                                            window + READ_SLACK)
            probe.html = probe.metrics.pop("html", None)
        except PlaywrightError:  # the page navigated away (JS redirect): read the new one
            navigations += 1
            probe.html = None  # the old document's
            if navigations == 3:
                return
            remaining = max(0.1, deadline - time.monotonic())
            try:
                await page.wait_for_load_state("load", timeout=remaining * 1000)
            except PlaywrightError:
                return
            continue
        started = probe.metrics["fetches"]
        # done if all were seen and none started or ended meanwhile (its answer may change the page)
        if (started <= probe.fetches and probe.last_activity == activity) or time.monotonic() >= limit:
            return


# --- orchestration -------------------------------------------------------------------------

@dataclass
class PendingPage:
    """A page's raw record, held until its render is merged in."""

    url: str
    row: dict
    bundle: Any
    raw: PageFacts
    entry: Any
    child_depth: int | None
    key: tuple | None
    rendered: dict | None = None  # set once the robots-honouring render is in
    rendered_facts: PageFacts | None = None


class Renderer:
    """Decides which pages are rendered, asks for their renders and merges what came back.

    ``add_links(url, links, bundle, follow, depth, parent, seen_in)`` is the spider's: it
    records links and follows them, so links found only in the rendered DOM meet the same
    scope, robots and trap rules as raw ones. ``page_row`` makes a pages tuple of a row.

    Renders wait in a queue of their own and reach the downloader ``render_concurrency`` at a
    time (see scrapy_settings): queued in Scrapy, they would fill the downloader and stall the
    raw crawl behind them. The raw crawl pauses only while ``RENDER_BACKLOG`` pages wait."""

    def __init__(self, options, session, add_links: Callable, page_row: Callable):
        self.options = options
        self.session = session
        self.add_links = add_links
        self.page_row = page_row
        self.auto = AutoSampler() if options.render == "auto" else None
        self._queue: deque[tuple[PendingPage, bool]] = deque()  # (page, honour robots.txt)
        self._rendering = 0  # render requests handed to Scrapy, not back yet
        self._generation = 0
        self._in_generation = 0
        self._outstanding: dict[int, int] = {}  # context generation -> its renders not back yet
        self._contexts: dict[int, Any] = {}  # context generation -> its BrowserContext, once seen
        self._closing: set = set()

    @property
    def backlogged(self) -> bool:
        """Whether the raw crawl should wait for renders (crawler.frontier.FrontierScheduler)."""
        return len(self._queue) >= RENDER_BACKLOG

    def take(self, url: str, response, row: dict, facts: PageFacts, bundle, entry,
             child_depth: int | None) -> list:
        """What the spider yields for a page whose raw record is complete: a render Request,
        its record (not rendered), or nothing yet (its render queued, or the page held until
        its template's samples are back)."""
        pending = PendingPage(url, row, bundle, facts, entry, child_depth, None)
        reason = "all"
        if self.auto is not None:
            if not may_script(response.text):
                self.session.stats["render/no-script"] += 1
                return [self._finish(pending, rendered=False)]
            pending.key = template_key(url, response.text, facts)
            reason = self.auto.reason(pending.key, pending)
            if reason is None:
                return [self._finish(pending, rendered=False)]
        if reason != "held":
            self._render(pending, reason)
        return self._dispatch()

    def _render(self, pending: PendingPage, reason: str) -> None:
        """Queue the page's render (see _dispatch)."""
        pending.row["render_reason"] = reason
        self.session.stats[f"render/{reason}"] += 1
        self._queue.append((pending, not self.options.ignore_robots))

    def _dispatch(self) -> list:
        """The queued renders there is room for now."""
        requests = []
        while self._queue and self._rendering < self.options.render_concurrency:
            self._rendering += 1
            requests.append(self._request(*self._queue.popleft()))
        return requests

    def _learned(self, pending: PendingPage, differs: bool | None) -> list:
        """What a render's result releases in ``auto``: the held pages of its template, queued
        for their renders or recorded raw (those records returned)."""
        if self.auto is None:
            return []
        render_all, released = self.auto.learn(pending.key, pending.row["render_reason"], differs)
        if not render_all:
            return [self._finish(held, rendered=False) for held in released]
        for held in released:
            self._render(held, "auto-template-differs")
        return []

    def _request(self, pending: PendingPage, honour_robots: bool):
        from scrapy import Request
        from scrapy_playwright.page import PageMethod

        generation = self._context_generation()
        probe = RenderProbe(blocked_rule=self._robots_rule, honour_robots=honour_robots,
                            robots_scope=self._robots_scope() if honour_robots else None)
        return Request(
            pending.url, callback=self.parse, errback=self.failed, dont_filter=True,
            meta={"playwright": True, "playwright_context": f"render-{generation}",
                  "playwright_context_kwargs": self._context_kwargs(),
                  "playwright_page_init_callback": init_page,
                  "playwright_page_goto_kwargs": {"wait_until": "load"},
                  "playwright_page_methods": [PageMethod(settle, probe, self.options.render_timeout)],
                  "render_probe": probe, "render_pending": pending, "render_generation": generation,
                  "render_own_headers": bool(self.options.headers),
                  "download_slot": RENDER_SLOT, "dont_retry": True, "url": pending.url})

    def _context_kwargs(self) -> dict:
        # locale: the raw fetch's Accept-Language (the page's request is not given the crawl's
        # headers unless it has its own: crawler.render_handler)
        return {"accept_downloads": False, "service_workers": "block",
                "user_agent": self.options.user_agent_string, "locale": "en", "java_script_enabled": True,
                "viewport": {"width": 1280, "height": 1024}}

    def _robots_scope(self) -> re.Pattern | None:
        """The URLs ``_robots_rule`` may block: those of the origins whose robots.txt has a
        Disallow for the crawl's user agent (None if there are none)."""
        origins = sorted(o for o, policy in self.session.robots.items() if policy.may_block(self.session.user_agent))
        return re.compile("^(?:" + "|".join(map(re.escape, origins)) + ")/", re.I) if origins else None

    def _robots_rule(self, url: str) -> str | None:
        policy = self.session.robots.get(origin(url))
        return policy.blocking_rule(url, self.session.user_agent) if policy else None

    # contexts: recycled every render_pages_per_context pages, closed once their pages are done
    def _context_generation(self) -> int:
        if self._in_generation >= self.options.render_pages_per_context:
            self._generation += 1
            self._in_generation = 0
            self._close_finished_contexts()
        self._in_generation += 1
        self._outstanding[self._generation] = self._outstanding.get(self._generation, 0) + 1
        return self._generation

    def _page_done(self, meta: dict) -> None:
        """A render is back: its context closed if it was an older one's last."""
        generation = meta["render_generation"]
        self._outstanding[generation] -= 1
        self._rendering -= 1
        context = meta["render_probe"].context
        if context is not None:
            self._contexts.setdefault(generation, context)
        self._close_finished_contexts()

    def _close_finished_contexts(self) -> None:
        for generation in [g for g, n in self._outstanding.items() if n == 0 and g != self._generation]:
            del self._outstanding[generation]
            context = self._contexts.pop(generation, None)
            if context is not None:
                task = asyncio.ensure_future(self._close(context))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close(context) -> None:
        try:
            await context.close()
        except Exception:  # noqa: BLE001 - already closed with a crashed browser
            pass

    # what came back
    def parse(self, response):
        meta = response.meta
        self._page_done(meta)
        pending: PendingPage = meta["render_pending"]
        probe: RenderProbe = meta["render_probe"]
        facts = extract(response.text, response.url)
        fields = rendered_fields(facts, probe, response.url)
        fields["render_time"] = round(time.monotonic() - probe.started, 3)
        if pending.rendered is not None:  # the second render, robots.txt not honoured
            changed = differences(pending.rendered_facts, facts)
            pending.row["rendered_blocked_changes"] = changed
            return [self._finish(pending), *self._dispatch()]
        diffs = differences(pending.raw, facts)
        fields["rendered_differences"] = diffs
        released = self._learned(pending, bool(diffs))
        pending.row.update(fields)
        if response.url not in (pending.url, pending.row.get("meta_refresh_url")):
            # a JS redirect: what was rendered is another page (a meta refresh has its own link)
            moved = Link(response.url, "js-redirect")
            self.add_links(pending.url, [moved], pending.bundle, True, pending.entry.depth, pending.entry, "rendered")
        else:
            self._merge_links(pending, facts)
        if any(kind in RENDERING_RESOURCE_TYPES for _, kind, _ in probe.blocked):
            pending.rendered, pending.rendered_facts = fields, facts
            self._queue.appendleft((pending, False))
            return [*released, *self._dispatch()]
        return [self._finish(pending), *released, *self._dispatch()]

    def failed(self, failure):
        meta = failure.request.meta
        self._page_done(meta)
        pending: PendingPage = meta["render_pending"]
        released = []
        if pending.rendered is None:
            released = self._learned(pending, None)
            outcome, message = describe_render_failure(failure)
            probe: RenderProbe = meta["render_probe"]
            pending.row.update(render_outcome=outcome, render_error=message,
                               render_time=round(time.monotonic() - probe.started, 3),
                               rendered_console_errors=_limited(probe.console_errors),
                               rendered_js_errors=_limited(probe.js_errors),
                               rendered_failed_requests=_limited(probe.failed_requests),
                               rendered_xhr=_limited(probe.xhr))
            self.session.stats[f"render/{outcome}"] += 1
        return [self._finish(pending), *released, *self._dispatch()]

    def _merge_links(self, pending: PendingPage, facts: PageFacts) -> None:
        """Mark each raw link seen in the rendered DOM too as "both"; add and follow the links
        only the rendered DOM has, as the raw ones were."""
        links = pending.bundle.links
        url = pending.url
        index = {(row[0], row[1], row[2]): i for i, row in enumerate(links)}
        row = pending.row
        only_rendered = []
        for link in facts.links:
            at = index.get((url, link.target, link.kind))
            if at is None:
                only_rendered.append(link)
            else:
                links[at] = (*links[at][:5], "both")
        follow = 200 <= (row.get("status") or 0) < 300 and not says_nofollow(
            row.get("rendered_meta_robots"), row.get("x_robots_tag"))
        self.add_links(url, only_rendered, pending.bundle, follow, pending.child_depth,
                       pending.entry, "rendered")

    def _finish(self, pending: PendingPage, rendered: bool = True):
        from .items import PageRecord

        if rendered:
            self.session.stats["render/pages"] += 1
        pending.bundle.pages.insert(0, self.page_row(pending.row))
        return PageRecord(pending.bundle)


def describe_render_failure(failure) -> tuple[str, str]:
    """(render_outcome, message) of a render that did not complete: timeout, crashed or error."""
    exc = failure.value
    message = " ".join(str(exc).split())[:300] or type(exc).__name__
    name = type(exc).__name__
    if "Timeout" in name or isinstance(exc, asyncio.TimeoutError):
        return "timeout", message
    if "TargetClosed" in name or "crash" in message.lower() or "closed" in message.lower():
        return "crashed", message
    return "error", message


__all__ = ["AutoSampler", "RENDER_MODES", "RenderProbe", "RenderUnavailable", "Renderer",
           "chromium_executable", "differences", "may_script", "render_counts", "RENDER_REASONS",
           "NOT_RENDERED_REASONS", "rendered_fields", "require_chromium",
           "scrapy_settings", "template_key", "url_pattern"]
