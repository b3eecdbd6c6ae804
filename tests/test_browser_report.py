"""The report in a real browser: headless Debian Chromium driven by Playwright.

Checks what only a browser can: the inline script runs without errors under the
report's Content-Security-Policy, the pages explorer sorts, filters and pages, and a
hostile title never executes. A screenshot is kept for people to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect, sync_playwright

from reports import write_outputs
from tests.test_report import (BUDGET, JAVASCRIPT_URL, RULES, SCRIPT_TITLE, SITE, fixture_crawl, fixture_findings,
                               fixture_pages, render)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOT_COPY = Path("/tmp/report.png")

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
