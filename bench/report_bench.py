"""Report benchmark: render every output for a synthetic 100,000-URL crawl.

    python bench/report_bench.py                    # 100,000 URLs, 10 links per page
    python bench/report_bench.py --urls 20000 --no-browser

Builds pages, links and findings frames with numpy (a realistic mix: mostly 200 HTML
pages, some redirects, 4xx, 5xx, 202s, network errors, robots-blocked URLs, images;
hostile titles included), times ``reports.write_outputs``, reads peak RSS from
``resource.getrusage``, and times opening report.html in the system Chromium until the
pages explorer has drawn its first page. Targets (issue 4): under 30 s and 1 GB to
write, under 3 s to open.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from audit.rules import RULES  # noqa: E402
from crawler.store import PAGE_COLUMNS  # noqa: E402
from reports import write_outputs  # noqa: E402

SITE = "https://www.example-shop.com"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
WORDS = ("red shoes sale running trail leather boots kids women men winter summer classic "
         "outdoor waterproof lightweight premium canvas sneakers sandals slippers socks").split()
HOSTILE_TITLES = ("<script>alert(1)</script>", '=HYPERLINK("http://evil.example/","x")', "</script><b>x")

#: share of URLs per kind of answer: (status, status_class, content_type, skip_reason, error)
URL_MIX = (
    (0.80, 200, "2xx", "text/html; charset=utf-8", None, None),
    (0.05, 200, "2xx", "image/jpeg", None, None),
    (0.05, 301, "3xx", None, None, None),
    (0.03, 404, "4xx", "text/html; charset=utf-8", None, None),
    (0.005, 500, "5xx", "text/html", None, None),
    (0.005, 202, "2xx", "text/html; charset=utf-8", None, None),
    (0.01, None, "error", None, None, "timeout"),
    (0.05, None, "skipped", None, "robots", None),
)

#: share of URLs each fired rule fires on; the rules are spread over the registry's categories
RULE_SHARES = (0.005, 0.005, 0.06, 0.02, 0.08, 0.10, 0.07, 0.05, 0.12, 0.05, 0.04, 0.01)


def _titles(rng: np.random.Generator, n: int) -> np.ndarray:
    words = np.array(WORDS, dtype=object)
    picks = rng.integers(0, len(words), size=(n, 4))
    titles = np.array([" ".join(row) for row in words[picks]], dtype=object)
    titles[rng.random(n) < 0.001] = HOSTILE_TITLES[0]
    titles[rng.random(n) < 0.001] = HOSTILE_TITLES[1]
    titles[rng.random(n) < 0.001] = HOSTILE_TITLES[2]
    return titles


def synthetic_pages(n: int, rng: np.random.Generator, first: int = 0) -> pd.DataFrame:
    """n synthetic URLs numbered from ``first`` (the site's home page is number 0)."""
    shares = np.array([kind[0] for kind in URL_MIX])
    kind = rng.choice(len(URL_MIX), size=n, p=shares / shares.sum())
    column = lambda i: np.array([URL_MIX[k][i] for k in range(len(URL_MIX))], dtype=object)[kind]  # noqa: E731
    urls = np.array([f"{SITE}/c{i % 40}/p{i}" + (".jpg" if k == 1 else "") for i, k in enumerate(kind, first)],
                    dtype=object)
    if first == 0:
        urls[0] = f"{SITE}/"
    codes = np.array([k[1] or 0 for k in URL_MIX])[kind]  # 0: no status
    status = pd.array(np.where(codes > 0, codes, None), dtype="Int64")
    fetched = pd.isna(column(4))
    pages = pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c in PAGE_COLUMNS})
    pages["url"] = urls
    pages["fetch_kind"] = np.where(kind == 1, "resource", "page")
    pages["found_via"] = "link"
    pages["depth"] = pd.array(np.minimum(rng.geometric(0.3, n) - 1, 18), dtype="Int64")
    pages["status"] = status
    pages["content_type"] = column(3)
    pages["skip_reason"] = column(4)
    pages["error"] = column(5)
    pages["method"] = np.where(fetched, "GET", None)
    pages["attempt_statuses"] = [[int(c)] if c else [] for c in codes]
    pages["response_time"] = np.where(fetched, rng.lognormal(np.log(0.2), 0.8, n), np.nan)
    pages["size"] = np.where(fetched, rng.integers(2_000, 200_000, n), 0)
    html = column(3) == "text/html; charset=utf-8"
    pages["title"] = np.where(html, _titles(rng, n), None)
    pages["meta_description"] = np.where(html & (rng.random(n) < 0.9), "A page about shoes.", None)
    pages["word_count"] = pd.array(np.where(html, rng.integers(50, 3_000, n), 0), dtype="Int64")
    pages["h1_count"] = pd.array(np.where(html, 1, 0), dtype="Int64")
    pages["outlinks"] = pd.array(np.where(html, rng.integers(10, 80, n), 0), dtype="Int64")
    pages["redirect_target"] = np.where(codes == 301, urls + "/", None)
    pages["fetched_at"] = 1_790_000_000.0 + np.arange(first, first + n) * 0.01
    pages["status_class"] = column(2)
    pages["is_html"] = html
    pages["in_scope"] = True
    pages["crawlable"] = pages["skip_reason"].isna()
    pages["indexable"] = html & (codes == 200)
    pages["inlinks"] = rng.poisson(8, n)
    pages["in_sitemap"] = rng.random(n) < 0.85
    pages["redirect_chain"] = [[u, u + "/"] if c == 301 else [] for u, c in zip(urls, codes)]
    pages["settled_status"] = pd.array(np.where(codes == 202, 200, None), dtype="Int64")
    return pages


def synthetic_links(pages: pd.DataFrame, per_page: int, rng: np.random.Generator) -> pd.DataFrame:
    sources = pages.loc[pages["is_html"], "url"].to_numpy()
    n = len(sources) * per_page
    anchors = np.array(["Read more", "Shop now", "-50% today", "Next", "<b>New</b>", "Kids"], dtype=object)
    return pd.DataFrame({
        "source": np.repeat(sources, per_page),
        "target": pages["url"].to_numpy()[rng.integers(0, len(pages), n)],
        "kind": "a",
        "anchor": anchors[rng.integers(0, len(anchors), n)],
        "nofollow": (rng.random(n) < 0.02).astype(int),
    })


def synthetic_findings(pages: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Findings of the audit's real rules (their words render), on random URLs."""
    frames = []
    spread = RULES[:: max(1, len(RULES) // len(RULE_SHARES))]
    for rule, share in zip(spread, RULE_SHARES):
        urls = pages["url"].to_numpy()[rng.random(len(pages)) < share]
        frames.append(pd.DataFrame({"crawl_id": 1, "rule": rule.id, "severity": rule.severity,
                                    "category": rule.category, "url": urls,
                                    "evidence": f"linked from {SITE}/c1/p2 ('Shop now') and 3 more"}))
    return pd.concat(frames, ignore_index=True)


def synthetic_crawl(n: int, links_per_page: int, seed: int):
    rng = np.random.default_rng(seed)
    pages = synthetic_pages(n, rng)
    crawl = SimpleNamespace(
        crawl_id=1,
        meta={"id": 1, "job": "bench", "start_url": f"{SITE}/", "started_at": 1_790_000_000.0,
              "finished_at": 1_790_003_600.0, "state": "complete",
              "settings": {"concurrency": 16, "max_depth": 20}, "stats": {}, "probe": {}},
        pages=pages,
        links=synthetic_links(pages, links_per_page, rng),
        sitemap_urls=pd.DataFrame(columns=["sitemap", "url", "lastmod"]),
        rechecks=pd.DataFrame({"url": pages.loc[pages["status"] == 202, "url"], "attempt": 1, "waited": 2.0,
                               "status": 200, "error": None, "retry_after": None, "fetched_at": 1_790_000_100.0}),
    )
    findings = synthetic_findings(pages, rng)
    fetched = int((pages["status_class"] != "skipped").sum())
    wasted = int(pages["status_class"].isin(["3xx", "4xx", "5xx", "error"]).sum())
    budget = {"fetched": fetched, "indexable": int(pages["indexable"].sum()), "wasted": wasted,
              "waste_share": wasted / fetched,
              "by_cause": pages.loc[pages["status_class"].isin(["3xx", "4xx", "5xx", "error"]),
                                    "status_class"].value_counts().to_dict()}
    return crawl, findings, RULES, budget


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def chromium_open_seconds(report: Path) -> float:
    """Seconds from navigation to the explorer's first page drawn, in the system Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(report.as_uri(), wait_until="commit", timeout=120_000)
        page.wait_for_selector("#explorer tbody tr", timeout=120_000)
        seconds = time.perf_counter() - started
        browser.close()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--links-per-page", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="output folder (default: a temp dir, removed)")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium load time")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    crawl, findings, rules, budget = synthetic_crawl(args.urls, args.links_per_page, args.seed)
    generated, rss_before = time.perf_counter() - started, _rss_mib()

    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        out = args.out or Path(tmp)
        started = time.perf_counter()
        files = write_outputs(out, crawl, findings, rules, budget)
        write_seconds = time.perf_counter() - started
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sizes = {name: path.stat().st_size / 2**20 for name, path in files.items()}
        open_seconds = None if args.no_browser or not CHROMIUM.exists() else chromium_open_seconds(files["report.html"])

    rows = [
        ("URLs / links / findings", f"{len(crawl.pages):,} / {len(crawl.links):,} / {len(findings):,}", ""),
        ("generate synthetic crawl", f"{generated:.1f} s", ""),
        ("RSS with the crawl in memory", f"{rss_before:.0f} MiB", ""),
        ("write_outputs", f"{write_seconds:.1f} s", "< 30 s"),
        ("peak RSS (whole process)", f"{peak_mib:.0f} MiB", "< 1024 MiB"),
        ("report.html", f"{sizes['report.html']:.1f} MiB", ""),
        ("pages.csv / links.csv / report.xlsx",
         f"{sizes['pages.csv']:.1f} / {sizes['links.csv']:.1f} / {sizes['report.xlsx']:.1f} MiB", ""),
        ("open in Chromium (explorer drawn)", "skipped" if open_seconds is None else f"{open_seconds:.2f} s", "< 3 s"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>24}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>24}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
