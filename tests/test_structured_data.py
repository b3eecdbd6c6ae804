"""Structured data: JSON-LD (valid and broken), Microdata and RDFa read by a real crawl, the two
rules, the data file shipped as package data, the report's section."""

from __future__ import annotations

import json

import pytest

from audit import RULES, crawl_budget, run_audit
from audit.rules import RULES_BY_ID
from audit.rules.structured_data import missing_properties, type_rules
from crawler.extract import extract
from reports import write_outputs
from reports.toolkit import url_folder
from seo_audit.sitekit import page

from .toolkit_site import by_path, crawled_site


def ld(value) -> str:
    return f"<script type='application/ld+json'>{json.dumps(value)}</script>"


PRODUCT = {"@context": "https://schema.org", "@type": "Product", "name": "Red shoes", "image": "/r.jpg",
           "description": "Shoes", "brand": "Acme", "sku": "R1",
           "offers": {"@type": "Offer", "price": "10.00", "priceCurrency": "EUR", "availability": "InStock",
                      "url": "/r", "priceValidUntil": "2027-01-01", "itemCondition": "NewCondition"},
           "aggregateRating": {"@type": "AggregateRating", "ratingValue": 4, "reviewCount": 3,
                               "bestRating": 5, "worstRating": 1},
           "review": {"@type": "Review", "author": "Ann", "datePublished": "2026-01-01",
                      "reviewRating": {"@type": "Rating", "ratingValue": 4}}}
BROKEN = '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product",}</script>'
MICRODATA = ("<div itemscope itemtype='https://schema.org/Product'><span itemprop='name'>Blue</span>"
             "<div itemprop='offers' itemscope itemtype='https://schema.org/Offer'>"
             "<span itemprop='priceCurrency'>EUR</span></div></div>")
RDFA = ("<div vocab='https://schema.org/' typeof='Event'><span property='name'>Gig</span>"
        "<span property='startDate'>2027-05-01</span></div>")
GRAPH = {"@context": "https://schema.org", "@graph": [
    {"@type": "BlogPosting", "headline": "Hi", "author": "Bo", "datePublished": "2026-01-01",
     "dateModified": "2026-01-02", "image": "/i.jpg"},
    {"@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem", "position": 1, "name": "Blog"}]}]}

ROUTES = {
    "/products/complete": page("Complete", body=ld(PRODUCT)),
    "/products/broken": page("Broken", head=BROKEN, body=ld({"@type": "Organization", "name": "Acme"})),
    "/products/microdata": page("Microdata", body=MICRODATA),
    "/events/rdfa": page("RDFa", body=RDFA),
    "/blog/graph": page("Graph", body=ld(GRAPH)),
    "/blog/plain": page("Plain", body="<p>itemscope is only a word here</p>"),
}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    routes = {"/": page("Home", "".join(f"<a href='{path}'>x</a>" for path in ROUTES)), **ROUTES}
    with crawled_site(routes, tmp_path_factory, "sd") as loaded:
        yield loaded


def column(crawl, name: str) -> dict[str, object]:
    origin = crawl.start_url.rstrip("/")
    return {url.removeprefix(origin): value for url, value in zip(crawl.pages["url"], crawl.pages[name])}


def test_types_counts_and_errors_are_stored_per_page(crawl):
    types, counts, errors = (column(crawl, name) for name in ("structured_types", "structured_count",
                                                              "structured_errors"))
    assert types["/products/complete"] == ["AggregateRating", "Offer", "Product", "Rating", "Review"]
    assert counts["/products/complete"] == 5
    assert types["/products/microdata"] == ["Offer", "Product"]
    assert types["/events/rdfa"] == ["Event"]
    assert types["/blog/graph"] == ["BlogPosting", "BreadcrumbList", "ListItem"]
    assert types["/products/broken"] == ["Organization"]  # the broken block lost, the other kept
    assert errors["/products/broken"] and "line 1" in errors["/products/broken"][0]
    assert types["/blog/plain"] == [] and counts["/blog/plain"] == 0 and errors["/blog/plain"] == []


def test_invalid_json_ld_names_the_parser_message(crawl):
    found = by_path(crawl, RULES_BY_ID["invalid-json-ld"].run(crawl))
    assert list(found) == ["/products/broken"]
    assert found["/products/broken"].startswith("JSON-LD block 1: Expecting property name enclosed in double quotes")


def test_missing_properties_required_and_recommended(crawl):
    found = by_path(crawl, RULES_BY_ID["structured-data-missing-properties"].run(crawl))
    assert "/products/complete" not in found and "/blog/plain" not in found
    assert "Product (microdata): missing required offers or review or aggregateRating" not in found.get(
        "/products/microdata", "")  # it has offers
    assert "Offer (microdata): missing required price or priceSpecification" in found["/products/microdata"]
    assert "Event (rdfa): missing required location" in found["/events/rdfa"]
    assert "BlogPosting" not in found.get("/blog/graph", "")
    quiet = by_path(crawl, RULES_BY_ID["structured-data-missing-properties"].run(crawl, {"include_recommended": 0}))
    assert "recommended" not in " ".join(quiet.values()) and "/events/rdfa" in quiet


def test_report_section_and_pages_csv(crawl, tmp_path):
    findings = run_audit(crawl)
    files = write_outputs(tmp_path, crawl, findings, RULES, crawl_budget(crawl, findings))
    html = files["report.html"].read_text()
    section = html[html.index('id="structured-data"'):html.index('id="pages"')]
    assert "<code>/products/</code>" in section and "Product (2)" in section
    assert "<code>/events/</code>" in section and "Event (1)" in section
    assert "structured_types" in files["pages.csv"].read_text().splitlines()[0]
    data = json.loads(html[html.index('id="pages-data"'):].split(">", 1)[1].split("</script>", 1)[0])
    explorer = {row[0]: row[data["columns"].index("structured_types")] for row in data["rows"]}
    assert "Product" in explorer[crawl.start_url.rstrip("/") + "/products/complete"].split(", ")
    assert 'id="f-structured"' in html


def test_extruct_runs_only_with_markers(monkeypatch):
    import crawler.structured as structured

    calls = []
    monkeypatch.setattr(structured, "microdata_and_rdfa", lambda *args: calls.append(args))
    assert extract("<html><body>" + ld({"@type": "Thing"}) + "</body></html>", "https://x.test/").structured.types == ["Thing"]
    assert extract("<html><body><p>plain</p></body></html>", "https://x.test/").structured is None
    assert calls == []
    extract("<html><body><div itemscope></div></body></html>", "https://x.test/")
    assert len(calls) == 1


def test_hostile_json_ld_never_raises():
    for body in ('{"@type": ["Product", 3, null]}', "[1, 2", '"just a string"', "{" * 5000, "\\ud800"):
        facts = extract(f"<html><body><script type='application/ld+json'>{body}</script></body></html>",
                        "https://x.test/")
        assert facts.structured is None or isinstance(facts.structured.errors, list)


def test_the_types_file_is_package_data_with_a_source_per_type():
    data = type_rules()
    wanted = {"Product", "Offer", "Review", "AggregateRating", "Article", "NewsArticle", "BlogPosting",
              "BreadcrumbList", "Organization", "LocalBusiness", "Event", "Recipe", "VideoObject",
              "JobPosting", "FAQPage", "SoftwareApplication"}
    assert wanted <= set(data["types"])
    assert all(spec["source"].startswith("https://developers.google.com/search/docs/") for spec in data["types"].values())
    assert all(spec["checked"] for spec in data["types"].values())
    assert set(data["aliases"].values()) <= set(data["types"])
    assert missing_properties("Restaurant", ["name"]) [0] == ["address"]
    assert missing_properties("UnknownType", []) == ([], [])


@pytest.mark.parametrize("url, folder", [("https://x.test/blog/post", "/blog/"), ("https://x.test/about", "/"),
                                         ("https://x.test/", "/"), ("https://x.test/a/b/c?q=1", "/a/")])
def test_url_folder(url, folder):
    assert url_folder(url) == folder
