"""The report in a real browser: headless Debian Chromium driven by Playwright.

Checks what only a browser can: the inline script runs without errors under the
report's Content-Security-Policy, the pages explorer sorts, filters and pages, and
hostile crawled text (titles, URLs, anchors, evidence, headers) never executes, with the
policy on and with it bypassed, so escaping alone is proven to hold. Screenshots are kept
for people to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect, sync_playwright

from reports import write_outputs
from tests.test_report import (BUDGET, JAVASCRIPT_URL, RULES, SCRIPT_TITLE, SITE, fixture_crawl, fixture_findings,
                               fixture_pages, fixture_previous, render)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOT_COPY = Path("/tmp/report.png")
SINCE_SCREENSHOT_COPY = Path("/tmp/report-since-last-crawl.png")

# Each payload would set window.__pwned (and open a dialog) if any of it ran.
PAYLOADS = {
    "script": "<script>window.__pwned='script';alert('script')</script>",
    "attribute": '"><img src=x onerror="window.__pwned=\'attribute\';alert(1)">',
    "comment": "--><script>window.__pwned='comment';alert(2)</script><!--",
    "script-close": "</script><script>window.__pwned='script-close';alert(4)</script>",
    "svg": "<svg/onload=window.__pwned='svg'>",
}
JAVASCRIPT_TARGET = "javascript:window.__pwned='javascript-url';alert(3)"
# an http URL a report does link to, whose path tries to end the href attribute
HOSTILE_HTTP_URL = f"{SITE}/x\"><svg/onload=window.__pwned='href'>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no system Chromium at {CHROMIUM} (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def report(browser, tmp_path):
    """The fixture report open in a page, with every console message, page error and dialog recorded."""
    files = render(tmp_path / "out")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    events = {"console": [], "errors": [], "dialogs": [], "requests": []}
    page.on("console", lambda message: events["console"].append((message.type, message.text)))
    page.on("pageerror", lambda error: events["errors"].append(str(error)))
    page.on("dialog", lambda dialog: (events["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: events["requests"].append(request.url))
    page.goto(files["report.html"].as_uri())
    page.wait_for_selector("#explorer tbody tr")
    yield page, events, tmp_path
    page.close()


def hostile_outputs(out_dir: Path) -> dict[str, Path]:
    """The fixture crawl with payloads wherever crawled text reaches the report."""
    crawl = fixture_crawl()
    pages = crawl.pages
    pages.loc[pages.index[:len(PAYLOADS)], "title"] = list(PAYLOADS.values())
    pages.loc[pages["url"] == f"{SITE}/jobs/report", "retry_after"] = PAYLOADS["script-close"]
    pages.loc[pages["url"] == f"{SITE}/hang", "error"] = PAYLOADS["svg"]
    pages.loc[pages["url"] == f"{SITE}/cheap", "canonical"] = JAVASCRIPT_TARGET
    extra = pages.iloc[[5, 5]].assign(url=[HOSTILE_HTTP_URL, f"{SITE}/q?{PAYLOADS['attribute']}"])
    crawl.pages = pd.concat([pages, extra], ignore_index=True)
    crawl.links.loc[len(crawl.links)] = [f"{SITE}/", JAVASCRIPT_TARGET, "a", PAYLOADS["comment"], 0]
    crawl.meta.update(job=PAYLOADS["comment"], settings={"user_agent": PAYLOADS["script"]})
    findings = fixture_findings()
    findings.loc[len(findings)] = [7, "broken-link", "warning", "links", JAVASCRIPT_TARGET,
                                   f"linked from {SITE}/ with anchor {PAYLOADS['comment']}"]
    findings.loc[len(findings)] = [7, "duplicate-title", "warning", "content", HOSTILE_HTTP_URL,
                                   f"canonical {JAVASCRIPT_TARGET}; title {PAYLOADS['attribute']}"]
    previous = fixture_previous()
    previous["status_changes"].insert(0, {"url": JAVASCRIPT_TARGET, "old": 200, "new": PAYLOADS["svg"]})
    previous["appeared"].insert(0, HOSTILE_HTTP_URL)
    return write_outputs(out_dir, crawl, findings, RULES, BUDGET, previous=previous)


def _column(page, key: str) -> list[str]:
    index = page.eval_on_selector_all("#explorer thead th", "ths => ths.map(th => th.dataset.key)").index(key)
    return page.eval_on_selector_all(
        f"#explorer tbody tr td:nth-child({index + 1})", "cells => cells.map(c => c.textContent)")


def test_report_loads_without_errors_or_fetches(report):
    page, events, _ = report
    assert events["errors"] == []
    assert [m for m in events["console"] if m[0] in ("error", "warning")] == []
    assert [url for url in events["requests"] if not url.startswith(("file:", "data:"))] == []
    assert page.locator("#explorer-count").inner_text() == f"{len(fixture_pages())} of {len(fixture_pages())} URLs match"


def test_script_title_shows_as_text_and_never_runs(report):
    page, events, _ = report
    page.wait_for_timeout(300)
    assert events["dialogs"] == []
    assert SCRIPT_TITLE in _column(page, "title")
    assert page.locator(f"text={SCRIPT_TITLE}").first.is_visible()
    assert page.locator("a[href^='javascript' i]").count() == 0
    assert JAVASCRIPT_URL in _column(page, "url")


def test_sorting_the_explorer(report):
    page, _, _ = report
    page.click("#explorer th[data-key=inlinks] button")
    inlinks = [int(v.replace(",", "")) for v in _column(page, "inlinks")]
    assert inlinks == sorted(inlinks)
    page.click("#explorer th[data-key=inlinks] button")
    assert page.get_attribute("#explorer th[data-key=inlinks]", "aria-sort") == "descending"
    inlinks = [int(v.replace(",", "")) for v in _column(page, "inlinks")]
    assert inlinks == sorted(inlinks, reverse=True) and inlinks[0] == 4
    page.click("#explorer th[data-key=url] button")
    urls = _column(page, "url")
    assert urls == sorted(urls)


def test_filtering_the_explorer(report):
    page, _, _ = report
    page.select_option("#f-class", "4xx")
    assert _column(page, "url") == [f"{SITE}/missing"]
    page.select_option("#f-class", "")
    page.select_option("#f-indexable", "yes")
    assert len(_column(page, "url")) == int(fixture_pages()["indexable"].sum())
    page.select_option("#f-indexable", "")
    page.select_option("#f-type", "image/png")
    assert _column(page, "url") == [f"{SITE}/logo.png"]
    page.select_option("#f-type", "")
    page.select_option("#f-depth", "3")
    assert sorted(_column(page, "url")) == [f"{SITE}/jobs/pending", f"{SITE}/jobs/report"]
    page.select_option("#f-depth", "")
    page.select_option("#f-structured", "Organization")  # one type of a page's several
    assert sorted(_column(page, "url")) == [f"{SITE}/", f"{SITE}/about"]
    assert sorted(_column(page, "structured_types")) == ["Organization", "Organization, WebSite"]
    page.select_option("#f-structured", "")
    rows = page.locator("#explorer tbody tr")
    page.fill("#f-url", "JOBS/")  # the search waits for typing to pause
    expect(rows).to_have_count(2)
    page.fill("#f-url", "no-such-url")
    expect(rows).to_have_count(0)
    assert page.locator("#page-info").inner_text() == "No URL matches these filters"


def test_explorer_pages_through_many_rows(browser, tmp_path):
    crawl = fixture_crawl()
    extra = pd.concat([crawl.pages.iloc[[0]]] * 120, ignore_index=True)
    extra["url"] = [f"{SITE}/p/{i:03d}" for i in range(120)]
    crawl.pages = pd.concat([crawl.pages, extra], ignore_index=True)
    files = write_outputs(tmp_path, crawl, fixture_findings(), RULES, BUDGET)
    page = browser.new_page()
    page.goto(files["report.html"].as_uri())
    page.wait_for_selector("#explorer tbody tr")
    assert page.locator("#explorer tbody tr").count() == 50
    assert page.is_disabled("#page-prev")
    page.click("#page-next")
    page.click("#page-next")
    assert page.locator("#explorer tbody tr").count() == len(crawl.pages) - 100
    assert page.is_disabled("#page-next")
    assert page.locator("#page-info").inner_text().startswith("Rows 101–136 · page 3 of 3")
    page.close()


def test_screenshot_for_people(report):
    page, _, tmp_path = report
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, SCREENSHOT_COPY)


ANY_EVENT_HANDLER = """() => Array.from(document.querySelectorAll("*")).some(
    el => Array.from(el.attributes).some(a => a.name.toLowerCase().startsWith("on")))"""


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_hostile_crawled_text_shows_as_text_and_never_runs(browser, tmp_path, bypass_csp):
    files = hostile_outputs(tmp_path)
    context = browser.new_context(bypass_csp=bypass_csp)
    page = context.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(files["report.html"].as_uri())
    page.wait_for_selector("#explorer tbody tr")
    page.eval_on_selector_all("details", "all => all.forEach(d => { d.open = true; })")
    page.click("#explorer th[data-key=title] button")  # sorting redraws the explorer from the data
    page.wait_for_timeout(300)

    assert dialogs == [] and errors == []
    assert page.evaluate("() => window.__pwned") is None
    assert page.evaluate("() => document.querySelectorAll('a[href^=\"javascript\" i]').length") == 0
    assert page.evaluate("() => document.querySelectorAll('script').length") == 2
    assert page.evaluate("() => document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert page.evaluate("() => document.querySelectorAll('svg:not(.chart)').length") == 0
    assert page.evaluate(ANY_EVENT_HANDLER) is False
    shown = page.evaluate("() => document.body.innerText")
    for name, payload in PAYLOADS.items():
        assert payload in shown, name
    assert JAVASCRIPT_TARGET in shown and HOSTILE_HTTP_URL in shown
    links = page.eval_on_selector_all("a[href]", "all => all.map(a => a.getAttribute('href'))")
    assert HOSTILE_HTTP_URL in links  # an http URL stays a link, its quote kept inside the href
    assert all(href.startswith(("http://", "https://", "#", "findings-", "compare.csv")) for href in links), links
    context.close()


def test_screenshot_of_the_changes_since_the_last_crawl(browser, tmp_path):
    files = render(tmp_path, previous=fixture_previous())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(files["report.html"].as_uri())
    page.wait_for_selector("#explorer tbody tr")
    section = page.locator("#since-last-crawl")
    assert section.is_visible()
    assert page.locator("#status-changes tr.now-202").count() == 2
    shot = tmp_path / "since.png"
    section.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, SINCE_SCREENSHOT_COPY)
    page.close()
