"""Segments (audit/segments.py): the assignment as a pure function, the budget per segment, then
real crawls through the CLI (pages.csv, findings CSVs, summary.json, the report, compare)."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from audit import crawl_budget, run_audit
from audit.segments import MAX_FOLDERS, OTHER, assign_segments, first_folders, parse_segments
from seo_audit.sitekit import Reply, page
from tests.rule_frames import make_crawl
from tests.rule_frames import page as row
from tests.test_cli import FAST, run_cli

O = "https://x.test"


def frame(urls, **columns) -> pd.DataFrame:
    return pd.DataFrame({"url": [O + u for u in urls], **columns})


def test_regex_segments_first_match_wins_and_the_rest_is_other():
    pages = frame(["/blog/a", "/blog/news/b", "/news/c", "/shop/d", "/"])
    rules = parse_segments({"news": "/news/", "blog": "/blog/", "all-shop": "^https://x\\.test/shop"})
    assert assign_segments(pages, rules).tolist() == ["blog", "news", "news", "all-shop", OTHER]


def test_segments_on_a_custom_extraction():
    pages = frame(["/1", "/2", "/3", "/4", "/5"],
                  extract_type=["product", "category", None, "product-old", "Product"],
                  extract_tags=[["sale", "new"], [], None, ["new"], ["sale"]])
    rules = parse_segments({"products": {"extract": "type", "regex": "^product$"},
                            "on-sale": {"extract": "tags", "regex": "sale"},  # a list: its first value
                            "by-url": "/3$"}, extract_names=["type", "tags"])
    assert assign_segments(pages, rules).tolist() == ["products", OTHER, "by-url", OTHER, "on-sale"]


def test_without_definitions_the_first_folder():
    urls = pd.Series([O + "/", O + "/about", O + "/blog/", O + "/blog/a/b", O + "/shop?x=/y/",
                      "http://127.0.0.1:8080/docs/page"])
    assert first_folders(urls).tolist() == ["/", "/", "/blog/", "/blog/", "/", "/docs/"]
    pages = frame(["/", "/blog/a"])
    assert assign_segments(pages, []).tolist() == ["/", "/blog/"]


def test_past_max_folders_the_smallest_are_other():
    urls = [f"/f{i}/page{j}" for i in range(MAX_FOLDERS + 5) for j in range(1 if i >= MAX_FOLDERS else 2)]
    segments = assign_segments(frame(urls), [])
    assert segments.nunique() == MAX_FOLDERS + 1
    assert set(segments[segments.eq(OTHER)].index) == set(range(2 * MAX_FOLDERS, len(urls)))


@pytest.mark.parametrize("table, message", [
    ({"blog": "/blog/("}, "segment blog: bad regex"),
    ({"p": {"extract": "kind", "regex": "x"}}, "segment p: no custom extraction named 'kind'"),
    ({"p": {"extract": "type"}}, "segment p: expected {extract"),
    ({"p": 3}, "segment p: must be a regex"),
    ({"other": "/x/"}, "reserved"),
])
def test_bad_segments_are_named(table, message):
    with pytest.raises(ValueError) as caught:
        parse_segments(table, extract_names=["type"])
    assert message in str(caught.value)


def test_the_crawl_budget_per_segment():
    crawl = make_crawl(pages=[row("/blog/a", meta_robots="noindex"), row("/blog/b"),
                              row("/blog/c", status=404, title=None)],
                       settings={"segments": {"blog": "/blog/"}})
    findings = run_audit(crawl)
    segments = crawl_budget(crawl, findings)["segments"]
    blog = segments["blog"]
    assert (blog["urls"], blog["fetched"], blog["indexable"], blog["wasted"]) == (3, 3, 1, 2)
    assert blog["waste_share"] == pytest.approx(2 / 3)
    assert blog["by_cause"] == {"noindex": 1, "errors": 1}
    assert blog["findings"]["internal-4xx"] == 1
    assert segments[OTHER]["wasted"] == 0 and "internal-4xx" not in segments[OTHER]["findings"]
    assert sum(s["urls"] for s in segments.values()) == len(crawl.pages)


# --- real crawls through the CLI --------------------------------------------------------------

def site_routes(state: dict) -> dict:
    def blog_post(hit):
        return Reply(status=404, body="gone") if state.get("broken") else page(f"Post {hit.path}", f"<h1>Post {hit.path}</h1>")

    def product(hit):
        return page(f"Item {hit.path}", f"<h1>Item {hit.path}</h1>", head="<meta name='type' content='product'>")

    return {
        "/": page("Home", "<h1>Home</h1>" + "".join(f"<a href='{p}'>{p}</a>" for p in
                                                    ("/blog/a", "/blog/b", "/items/1", "/items/2", "/about"))),
        "/blog/a": blog_post, "/blog/b": blog_post,
        "/items/1": product, "/items/2": product,
        "/about": page("About", "<h1>About</h1>"),
    }


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_job(tmp_path, url: str, segments: str) -> object:
    job = tmp_path / "site.toml"
    job.write_text(f'job = "segmented"\nstart_url = "{url}/"\nout = "out"\n[crawl]\ntimeout = 3\n'
                   f'[extract]\ntype = "css:meta[name=type]::attr(content)"\n{segments}', encoding="utf-8")
    return job


SEGMENTS = '[segments]\nblog = "/blog/"\nproducts = { extract = "type", regex = "^product$" }\n'


def test_a_crawl_by_segment_and_compare_per_segment(tmp_path, serve):
    state: dict = {}
    site = serve(site_routes(state))
    job = write_job(tmp_path, site.url, SEGMENTS)
    first = run_cli("crawl", "--config", job)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "out"
    pages = {r["url"]: r for r in read_csv(out / "pages.csv")}
    assert pages[f"{site.url}/blog/a"]["segment"] == "blog"
    assert pages[f"{site.url}/items/1"]["segment"] == "products"  # by the extraction, not the URL
    assert pages[f"{site.url}/about"]["segment"] == OTHER
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["segments"]) == {"blog", "products", OTHER}
    assert summary["segments"]["blog"]["waste_share"] == 0.0 and "segments" not in summary["budget"]

    state["broken"] = True
    second = run_cli("crawl", "--config", job)
    assert second.returncode == 0, second.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["segments"]["blog"]["by_cause"] == {"errors": 2}
    assert summary["segments"]["blog"]["waste_share"] == 1.0
    findings = read_csv(out / "findings.csv")
    assert {r["segment"] for r in findings if r["rule"] == "internal-4xx"} == {"blog"}
    assert {r["segment"] for r in read_csv(out / "findings-internal-4xx.csv")} == {"blog"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="segments"' in html and 'data-segment="products"' in html and 'id="segment-rules"' in html
    assert 'id="segment-changes"' in html  # since the last crawl, per segment
    assert html.count('class="segment-charts"') == 3

    compared = run_cli("compare", "--config", job, "--store", out / "seo-audit.sqlite", "--json",
                       "--out", tmp_path / "cmp")
    assert compared.returncode == 0, compared.stderr
    segments = json.loads(compared.stdout)["segments"]
    assert segments["blog"]["old"]["waste_share"] == 0.0 and segments["blog"]["new"]["waste_share"] == 1.0
    assert segments["blog"]["change"]["by_rule"]["internal-4xx"] == 2
    assert segments["products"]["change"] == {"waste_share": 0.0, "wasted": 0, "findings": 0, "by_rule": {}}
    assert segments["blog"]["changed"] and not segments["products"]["changed"]
    rows = read_csv(tmp_path / "cmp" / "compare.csv")
    assert {(r["change"], r["segment"]) for r in rows if r["segment"]} == {
        ("segment-waste-share", "blog"), ("segment-findings", "blog")}
    printed = run_cli("compare", "--config", job)
    assert "segments changed: 1 of 3" in printed.stdout and "blog: waste 0% -> 100%" in printed.stdout


def test_without_segments_the_first_folder_and_a_flag_overrides(tmp_path, serve):
    site = serve(site_routes({}))
    job = write_job(tmp_path, site.url, "")
    proc = run_cli("crawl", "--config", job, *FAST)
    assert proc.returncode == 0, proc.stderr
    pages = {r["url"]: r["segment"] for r in read_csv(tmp_path / "out" / "pages.csv")}
    assert pages[f"{site.url}/"] == "/" and pages[f"{site.url}/about"] == "/"
    assert pages[f"{site.url}/blog/b"] == "/blog/" and pages[f"{site.url}/items/2"] == "/items/"

    again = run_cli("report", "--config", job, "--segments", "posts=/blog/")
    assert again.returncode == 0, again.stderr
    pages = {r["url"]: r["segment"] for r in read_csv(tmp_path / "out" / "pages.csv")}
    assert pages[f"{site.url}/blog/a"] == "posts" and pages[f"{site.url}/items/1"] == OTHER


def test_a_bad_segment_exits_2_before_crawling(tmp_path, serve):
    site = serve(site_routes({}))
    job = write_job(tmp_path, site.url, '[segments]\nx = { extract = "kind", regex = "." }\n')
    proc = run_cli("crawl", "--config", job)
    assert proc.returncode == 2
    assert "key segments.x" in proc.stderr and "no custom extraction named 'kind'" in proc.stderr
    assert sum(site.hits.values()) == 0
