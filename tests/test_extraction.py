"""Custom extraction and search (crawler/extraction.py): the pure functions, then real crawls of
fixture pages through the CLI (pages.csv, the store, load_crawl, the report, the rules)."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from audit import load_crawl
from crawler.extraction import Definitions, definitions, page_extractions, parse_extractor, parse_search
from seo_audit.sitekit import Reply, page
from tests.test_cli import FAST, run_cli

HOSTILE_PRICE = "=HYPERLINK(\"http://evil.test\",\"click\")"
HOSTILE_TAG = "<script>alert('tag')</script>"

PRODUCT = ("<h1 class='name'>Blue <b>shoe</b></h1>"
           f"<p class='price'> {HOSTILE_PRICE} </p>"
           "<a class='tag' href='/t/blue'>blue</a><a class='tag' href='/t/sale'>&lt;script&gt;alert('tag')&lt;/script&gt;</a>"
           "<span itemprop='sku' content='SKU-1'></span><img src='/a.png'><img src='/b.png'>"
           "<script>var id = 'GTM-ABC12'; gtag('config')</script><p>Made by Acme   Corp.</p>")


def extract(html: str, **extract) -> dict[str, list[str]]:
    found = definitions(extract, {}, {})
    values, _ = page_extractions(html, found)
    out: dict[str, list[str]] = {}
    for name, _, value in values:
        out.setdefault(name, []).append(value)
    return out


def test_css_xpath_and_regex_in_each_mode():
    got = extract(f"<html><body>{PRODUCT}</body></html>",
                  name="css:h1::text", whole="css:h1.name", tags="all:css:a.tag::text",
                  hrefs="all:css:a.tag::attr(href)", sku="xpath://*[@itemprop='sku']/@content",
                  texts="all:xpath://h1//text()", images="count:css:img", none="count:css:table",
                  gtm="regex:GTM-(\\w+)", word="all:regex:[Bb]lue", missing="css:.nothing::text")
    assert got["name"] == ["Blue"]  # ::text is the element's own text, stripped
    assert got["whole"] == ["<h1 class=\"name\">Blue <b>shoe</b></h1>"]
    assert got["tags"] == ["blue", HOSTILE_TAG]
    assert got["hrefs"] == ["/t/blue", "/t/sale"]
    assert got["sku"] == ["SKU-1"]
    assert got["texts"] == ["Blue", "shoe"]
    assert got["images"] == ["2"] and got["none"] == ["0"]  # a count is always recorded
    assert got["gtm"] == ["ABC12"]  # the group, not the match
    assert got["word"] == ["Blue", "blue", "blue"]
    assert "missing" not in got  # first mode: no value, no row


def test_search_counts_in_html_and_visible_text():
    found = definitions({}, {"brand": "text:regex:(?i)acme\\s+corp", "tag": "gtag(", "in-text": "text:gtag("},
                        {"h2": "regex:<h2"})
    _, matches = page_extractions(f"<html><body>{PRODUCT}</body></html>", found)
    assert dict(matches) == {"brand": 1, "tag": 1, "in-text": 0, "h2": 0}  # script text is not visible
    assert [s.absent for s in found.searches] == [False, False, False, True]


def test_odd_pages_give_values_not_exceptions():
    found = definitions({"t": "css:title::text", "n": "count:xpath://p"}, {"x": "text:x"}, {})
    for html in ("", "\x00<p>x</p>\x00", "<p>unclosed <b>", "not html at all"):
        values, matches = page_extractions(html, found)
        assert ("n", 0, str(html.count("<p>"))) in values and len(matches) == 1


def test_values_are_bounded():
    html = "<body>" + "<i>v</i>" * 1500 + f"<b>{'y' * 20_000}</b></body>"
    got = extract(html, many="all:css:i::text", long="css:b::text")
    assert len(got["many"]) == 1000 and len(got["long"][0]) == 10_000


@pytest.mark.parametrize("name, spec, message", [
    ("price", "css:.price[", "extract price: bad css '.price['"),
    ("price", "css:p::nonsense", "extract price: bad css"),
    ("sku", "xpath://span[", "extract sku: bad xpath '//span['"),
    ("sku", "xpath:nofunc(1)", "extract sku: bad xpath"),
    ("id", "regex:(unclosed", "extract id: bad regex '(unclosed'"),
    ("id", "jq:.x", "extract id='jq:.x': expected"),
    ("id", "all:", "extract id='all:': expected"),
    ("9lives", "css:a", "extract name '9lives'"),
])
def test_bad_extractors_are_named(name, spec, message):
    with pytest.raises(ValueError, match=None) as caught:
        parse_extractor(name, spec)
    assert message in str(caught.value)


def test_bad_searches_are_named():
    with pytest.raises(ValueError, match=r"search-absent gtm: bad regex '\['"):
        parse_search("gtm", "text:regex:[", absent=True)
    with pytest.raises(ValueError, match="nothing to search for"):
        parse_search("gtm", "text:")
    with pytest.raises(ValueError, match="both a search and a search-absent"):
        definitions({}, {"a": "x"}, {"a": "y"})
    assert parse_search("lit", "html:text:x") == parse_search("lit", "html:text:x")
    assert parse_search("lit", "html:text:x").text == "text:x"  # only the first prefix is a scope
    assert not Definitions()


# --- real crawls through the CLI --------------------------------------------------------------

def shop_routes() -> dict:
    return {
        "/": page("Home", "<a href='/p/blue'>blue</a> <a href='/p/red'>red</a> <a href='/about'>about</a>"
                          "<a href='/data.json'>data</a><script>gtag('config')</script>"),
        "/p/blue": page("Blue", PRODUCT),
        "/p/red": page("Red", "<h1>Red</h1><p class='price'>12</p><a class='tag' href='/t'>red</a>"),
        "/about": page("About", "<p>About Acme Corp</p>"),
        "/data.json": Reply(body='{"price": "=1+1"}', content_type="application/json"),
    }


def read_pages_csv(path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {row["url"]: row for row in csv.DictReader(f)}


def test_a_crawl_extracts_and_searches_every_html_page(tmp_path, serve):
    site = serve(shop_routes())
    out = tmp_path / "out"
    proc = run_cli("crawl", f"{site.url}/", "--out", out, *FAST,
                   "--extract", "name=css:h1::text", "--extract", "price=xpath://p[@class='price']/text()",
                   "--extract", "tags=all:css:a.tag::text", "--extract", "images=count:css:img",
                   "--extract", "gtm=regex:GTM-(\\w+)",
                   "--search", "brand=text:regex:(?i)acme\\s+corp", "--search-absent", "analytics=gtag(")
    assert proc.returncode == 0, proc.stderr
    rows = read_pages_csv(out / "pages.csv")
    blue, red, home = rows[f"{site.url}/p/blue"], rows[f"{site.url}/p/red"], rows[f"{site.url}/"]
    assert blue["extract_name"] == "Blue" and red["extract_name"] == "Red" and home["extract_name"] == ""
    assert blue["extract_price"] == "'" + HOSTILE_PRICE  # a formula from the site stays text
    assert json.loads(blue["extract_tags"]) == ["blue", HOSTILE_TAG]
    assert blue["extract_images"] == "2" and home["extract_images"] == "0"
    assert blue["extract_gtm"] == "ABC12"
    assert rows[f"{site.url}/data.json"]["extract_images"] == ""  # not HTML: not extracted
    assert blue["search_brand"] == "1" and rows[f"{site.url}/about"]["search_brand"] == "1"
    assert home["search_analytics"] == "1" and red["search_analytics"] == "0"

    with sqlite3.connect(out / "seo-audit.sqlite") as conn:
        stored = conn.execute("SELECT seq, value FROM extractions WHERE name = 'tags' AND url = ? ORDER BY seq",
                              (f"{site.url}/p/blue",)).fetchall()
    assert stored == [(0, "blue"), (1, HOSTILE_TAG)]

    crawl = load_crawl(out / "seo-audit.sqlite")
    pages = crawl.pages.set_index("url")
    assert pages.loc[f"{site.url}/p/blue", "extract_tags"] == ["blue", HOSTILE_TAG]
    assert pages["extract_images"].dtype == "Int64" and pages["search_brand"].dtype == "Int64"

    with open(out / "findings.csv", newline="", encoding="utf-8") as f:
        findings = list(csv.DictReader(f))
    matched = {r["url"]: r["evidence"] for r in findings if r["rule"] == "custom-search-match"}
    assert set(matched) == {f"{site.url}/p/blue", f"{site.url}/about"}
    assert "brand: 1 match of pattern '(?i)acme\\\\s+corp' in the visible text" in matched[f"{site.url}/about"]
    absent = {r["url"] for r in findings if r["rule"] == "custom-search-absent"}
    assert absent == {f"{site.url}/p/red", f"{site.url}/about"}  # the product page's script has it

    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert('tag')" not in html  # the explorer's JSON holds it escaped
    data = html.split('id="pages-data">', 1)[1].split("</script>", 1)[0]
    explorer = json.loads(data)
    assert {"extract_name", "extract_tags", "search_brand", "segment"} <= set(explorer["columns"])
    row = next(r for r in explorer["rows"] if r[0] == f"{site.url}/p/blue")
    assert row[explorer["columns"].index("extract_tags")] == f"blue | {HOSTILE_TAG}"
    assert 'data-key="extract_price"' in html


def test_the_job_file_tables_work_like_the_flags(tmp_path, serve):
    site = serve(shop_routes())
    job = tmp_path / "shop.toml"
    job.write_text(f'start_url = "{site.url}/"\nout = "out"\n[crawl]\ntimeout = 3\n'
                   '[extract]\nname = "css:h1::text"\n[search_absent]\nanalytics = "gtag("\n', encoding="utf-8")
    proc = run_cli("crawl", "--config", job, "--extract", "tags=all:css:a.tag::text")
    assert proc.returncode == 0, proc.stderr
    rows = read_pages_csv(tmp_path / "out" / "pages.csv")
    assert rows[f"{site.url}/p/red"]["extract_name"] == "Red"  # from the file
    assert json.loads(rows[f"{site.url}/p/red"]["extract_tags"]) == ["red"]  # from the flag, added
    assert rows[f"{site.url}/p/red"]["search_analytics"] == "0"


@pytest.mark.parametrize("flags, message", [
    (["--extract", "price=css:.price["], "extract price: bad css '.price['"),
    (["--extract", "sku=xpath://span["], "extract sku: bad xpath"),
    (["--extract", "id=regex:(x"], "extract id: bad regex"),
    (["--extract", "no-spec"], "--extract 'no-spec' must be NAME=SPEC"),
    (["--search-absent", "gtm=regex:["], "search-absent gtm: bad regex"),
    (["--extract", "a=css:p", "--extract", "a=css:h1"], "--extract a is given twice"),
])
def test_bad_definitions_exit_2_before_anything_is_crawled(tmp_path, serve, flags, message):
    site = serve({"/": page("Home")})
    proc = run_cli("crawl", f"{site.url}/", "--out", tmp_path / "out", *flags)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr + proc.stdout
    assert sum(site.hits.values()) == 0 and not (tmp_path / "out").exists()


def test_a_bad_selector_in_the_job_file_names_its_key(tmp_path, serve):
    site = serve({"/": page("Home")})
    job = tmp_path / "shop.toml"
    job.write_text(f'start_url = "{site.url}/"\n[extract]\nname = "css:h1::text"\nprice = "xpath://p["\n',
                   encoding="utf-8")
    proc = run_cli("crawl", "--config", job)
    assert proc.returncode == 2
    assert "line 4, key extract.price" in proc.stderr and "bad xpath" in proc.stderr
    assert sum(site.hits.values()) == 0
