"""'Fix these first' ranks by impact, and a rule firing on (nearly) every page it judges is one
site-level finding: real rules over hand-built crawls, through the report model and the HTML."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from audit import RULES, crawl_budget, run_audit
from reports import write_outputs
from reports.model import SITE_LEVEL_EXAMPLES, build_model
from tests.rule_frames import CLEAN_PATHS, make_crawl, page, sitemap_file, u

NO_SITEMAP = sitemap_file("/sitemap.xml", found_via="guess", status=404)
BROKEN = page("/broken", status=500)
HOME_202 = page("/", status=202, found_via="start", depth=0, referrer=None)


def trap(count: int) -> list[dict]:
    """``count`` fetched, noindex URLs of one parameter pattern: a URL family eating the crawl."""
    return [page(f"/list?page={i}", content_hash=f"list {i}", depth=2, meta_robots="noindex")
            for i in range(count)]


def model_of(**crawl_arguments):
    crawl = make_crawl(**crawl_arguments)
    findings = run_audit(crawl)
    return build_model(crawl, findings, RULES, crawl_budget(crawl, findings), 300)


def order(model) -> list[str]:
    return [section.id for section in model.sections]


def test_a_family_taking_most_of_the_crawl_comes_before_a_small_critical_and_the_missing_sitemap():
    # 200 of 227 fetches (88%) go to one noindex URL family; one URL answers 500; no sitemap
    model = model_of(pages=[*trap(200), *(page(f"/p{i}") for i in range(22)), BROKEN, NO_SITEMAP])
    assert model.budget["fetched"] == 227
    first = model.fix_first[0]
    assert first.id == "crawl-trap" and first.share == pytest.approx(200 / 227)
    # the family's finding stands for all of its members, as the trap's does
    ranked = order(model)
    assert ranked == ["crawl-trap", "url-family-waste", "internal-5xx", "missing-from-sitemap", "no-xml-sitemap"]
    assert model.fix_first[1].share == pytest.approx(200 / 227)


def test_a_notice_on_most_pages_stays_below_a_critical_on_one():
    # hygiene never outranks a loss: 40 of 50 indexable pages lack a description (80%), one answers 500
    pages = [page(f"/p{i}", meta_description=None if i < 40 else "Own words") for i in range(46)]
    model = model_of(pages=[*pages, BROKEN])
    ranked = order(model)
    assert ranked.index("internal-5xx") < ranked.index("missing-meta-description")
    description = model.sections[ranked.index("missing-meta-description")]
    assert description.share == pytest.approx(40 / 50) and not description.site_level


def test_a_critical_on_the_start_url_comes_first_even_against_most_of_the_crawl():
    model = model_of(pages=[HOME_202, *trap(200)])
    assert order(model)[:2] == ["crawlable-202", "crawl-trap"]


def test_a_failing_robots_txt_reaches_the_whole_host():
    robots = page("/robots.txt", fetch_kind="robots", status=503, attempt_statuses=[503, 503],
                  content_type="text/plain", title=None, canonical=None)
    model = model_of(pages=[robots, *trap(200)])
    assert order(model)[0] == "robots-txt-error"
    assert model.sections[0].share == 1.0


def test_a_rule_on_every_page_is_one_site_level_finding(tmp_path):
    pages = [page(path, meta_description=None) for path in CLEAN_PATHS]
    pages += [page(f"/p{i}", meta_description=None) for i in range(26)]
    crawl = make_crawl(pages=pages)
    findings = run_audit(crawl)
    files = write_outputs(tmp_path, crawl, findings, RULES, crawl_budget(crawl, findings))
    html = files["report.html"].read_text(encoding="utf-8")

    site_level = re.search(r'<div class="panel site-level" id="site-level">.*?</div>', html, re.S).group(0)
    assert re.findall(r'data-rule="([^"]+)"', site_level) == ["missing-meta-description"]
    assert "30 of 30 pages (100.0%)" in site_level
    section = re.search(r'<article[^>]*data-rule="missing-meta-description".*?</article>', html, re.S).group(0)
    assert "site-wide:" in section and section.count('<td class="url">') == SITE_LEVEL_EXAMPLES
    # the per-URL CSVs keep every row
    assert len(pd.read_csv(files["findings-missing-meta-description.csv"])) == 30
    assert pd.read_csv(files["findings.csv"])["rule"].eq("missing-meta-description").sum() == 30
    assert "missing-meta-description" in pd.read_json(files["summary.json"], typ="series")["site_level"]


@pytest.mark.parametrize("pages, site_level", [
    ([page(f"/p{i}", meta_description=None) for i in range(12)], False),  # all 12 of 16: 75%
    ([page(path, meta_description=None) for path in CLEAN_PATHS]
     + [page(f"/p{i}", meta_description=None) for i in range(12)], False),  # every page, but only 16
    ([page(f"/p{i}", meta_description=None) for i in range(36)], True),  # 36 of 40: 90%
])
def test_site_level_needs_a_share_and_a_minimum(pages, site_level):
    model = model_of(pages=pages, sitemap=[row["url"] for row in pages])
    assert [s.id for s in model.sections] == ["missing-meta-description"]
    assert model.sections[0].site_level is site_level
    assert model.severity_counts["notice"]["site_level"] == int(site_level)


def test_a_budget_stored_without_reach_ranks_by_urls_fetched():
    crawl = make_crawl(pages=[*trap(60), BROKEN])
    findings = run_audit(crawl)
    budget = {key: value for key, value in crawl_budget(crawl, findings).items() if key != "by_rule"}
    model = build_model(crawl, findings, RULES, budget, 300)
    # without by_rule, the trap's one finding row counts as one URL: the critical comes first
    assert order(model)[0] == "internal-5xx"
    assert not any(s.site_level for s in model.sections)
