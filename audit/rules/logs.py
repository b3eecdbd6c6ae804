"""Log rules: what Googlebot really fetched (server access logs joined with the crawl).

Rules like any other (the job file's ``[rules]``, ``--fail-on``, findings.csv, ``seo-audit
compare``): their checks read the log facts joined with the crawl (``crawl.logs``,
``audit.logs.join_logs``) and find nothing on a crawl without logs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from audit.rules.base import examples, found, rule, rules_in
from crawler.urls import trap_pattern

CATEGORY = "logs"
GOOGLE_202 = "https://developers.google.com/crawling/docs/troubleshooting/http-status-codes"
GOOGLE_ROBOTS = "https://developers.google.com/crawling/docs/robots-txt/robots-txt-spec#http-status-codes"
GOOGLE_VERIFY = "https://developers.google.com/crawling/docs/crawlers-fetchers/verify-google-requests"
CRAWL_BUDGET = "https://developers.google.com/crawling/docs/crawl-budget"
NONE = pd.DataFrame(columns=["url", "evidence"])


def _days(frame: pd.DataFrame) -> pd.Series:
    """Per URL: "2026-10-10 (3), 2026-10-11 (1)": its hits by day."""
    per_day = frame.groupby(["url", "day"], sort=True)["hits"].sum().reset_index()
    texts = (per_day["day"].astype(str) + " (" + per_day["hits"].astype(str) + ")").tolist()
    # each URL's rows are consecutive (sorted): joined a slice at a time, not by pandas' groups
    # one Python call each (seconds for a hundred thousand URLs)
    starts = np.flatnonzero(per_day["url"].ne(per_day["url"].shift()).to_numpy()).tolist()
    ends = starts[1:] + [len(texts)]
    return pd.Series([", ".join(texts[a:b]) for a, b in zip(starts, ends)],
                     index=pd.Index(per_day["url"].iloc[starts], name="url"), dtype="str")


def _got(crawl: Any, statuses) -> pd.DataFrame:
    """Googlebot's hits answered with one of ``statuses``, per URL: hits, days, all hits."""
    logs = crawl.logs
    g = logs.googlebot
    hit = g[g["status"].isin(statuses).fillna(False)]
    if not len(hit):
        return pd.DataFrame(columns=["url", "hits", "days", "all_hits", "statuses"])
    facts = logs.urls.set_index("url")
    per_url = hit.groupby("url")["hits"].sum()
    return pd.DataFrame({"url": per_url.index, "hits": per_url.to_numpy(),
                         "days": _days(hit).reindex(per_url.index).to_numpy(),
                         "all_hits": facts["hits"].reindex(per_url.index).to_numpy(),
                         "statuses": facts["statuses"].reindex(per_url.index).to_numpy()})


def _indexable_target(crawl: Any, urls: pd.Series) -> pd.Series:
    """Whether each URL is one a search engine would index were it to answer 200: crawlable,
    no noindex, canonical absent or self (the crawl's facts; False for a URL it never met)."""
    p = crawl.pages
    wanted = p["crawlable"] & ~p["noindex"] & p["canonical_self_or_absent"]
    return urls.map(pd.Series(wanted.to_numpy(), index=p["url"])).fillna(False).astype(bool)


def _got_202(crawl: Any, indexable: bool) -> pd.DataFrame:
    if crawl.logs is None:
        return NONE
    hit = _got(crawl, [202])
    hit = hit[_indexable_target(crawl, hit["url"]).eq(indexable).to_numpy()]
    return found(hit["url"], "Googlebot got 202 " + hit["hits"].astype(str) + " times (of "
                 + hit["all_hits"].astype(str) + " hits: " + hit["statuses"] + ") on " + hit["days"])


@rule(id="googlebot-got-202", severity="critical",
      severity_why="a page Google would index answered Googlebot with no content: it may drop out of the index",
      title="Googlebot got 202 on an indexable page",
      why="A 202 Accepted has no content to index. Googlebot does not wait for the work to finish: "
          "a page it got 202 on may be dropped, or never enter the index.",
      fix="Answer crawlers with the finished page (200), or keep the asynchronous work behind a URL "
          "that is not linked nor in the sitemap.",
      learn_more=GOOGLE_202, reads=("logs", "crawlable", "noindex", "canonical_self_or_absent"))
def googlebot_got_202(crawl, t):
    return _got_202(crawl, indexable=True)


@rule(id="googlebot-got-202-not-indexable", severity="warning",
      severity_why="Googlebot's fetches of URLs it will not index are budget wasted, at scale",
      title="Googlebot got 202 on a URL it will not index",
      why="Googlebot spends fetches on URLs answering 202 that are blocked, noindex, canonicalised "
          "or unknown to the crawl: crawl budget that indexable pages do not get.",
      fix="Stop linking these URLs, or answer 200 with the result; keep job endpoints out of crawlers' reach.",
      learn_more=GOOGLE_202, reads=("logs", "crawlable", "noindex", "canonical_self_or_absent"))
def googlebot_got_202_not_indexable(crawl, t):
    return _got_202(crawl, indexable=False)


@rule(id="googlebot-got-5xx-429", severity="critical",
      severity_why="server errors and 429s make Googlebot slow down its crawling of the whole host",
      title="Googlebot got server errors or 429",
      why="When a host answers 5xx or 429, Googlebot lowers its crawl rate for the whole site; "
          "errors in bursts on some days show when the server could not keep up.",
      fix="Find what failed on those days (deploys, overload, rate limits that catch Googlebot) and "
          "fix it; never rate-limit verified Googlebot with 429.",
      learn_more=GOOGLE_202, thresholds={"min_hits": 1}, reads=("logs",))
def googlebot_got_5xx_429(crawl, t):
    if crawl.logs is None:
        return NONE
    g = crawl.logs.googlebot
    errors = [s for s in g["status"].dropna().unique().tolist() if s >= 500 or s == 429]
    hit = _got(crawl, errors)
    hit = hit[hit["hits"] >= t["min_hits"]]
    return found(hit["url"], "Googlebot got " + hit["statuses"] + "; errors by day: " + hit["days"])


@rule(id="bot-url-not-in-crawl", severity="warning",
      severity_why="bots spending fetches on URLs the site no longer links is budget wasted, at scale",
      title="Bots fetch URLs the crawl never found",
      why="URLs search engines still fetch but nothing links to: old URLs, orphans, parameter "
          "spaces found elsewhere. Each fetch is budget not spent on linked pages.",
      fix="Redirect old URLs to their replacement, link orphans that matter, answer 404/410 for the rest.",
      learn_more=CRAWL_BUDGET, reads=("logs", "url"))
def bot_url_not_in_crawl(crawl, t):
    logs = crawl.logs
    if logs is None:
        return NONE
    b = logs.bot_hits
    # one mask, then only the columns the evidence reads: not two filtered copies of the whole
    # frame (800k rows on the bench)
    kept = (b["verified"].ne("no") & ~b["url"].isin(crawl.pages["url"])).to_numpy()
    hits = b.loc[kept, ["url", "bot", "hits", "statuses"]]
    if not len(hits):
        return NONE
    item = hits["bot"] + ": " + hits["hits"].astype(str) + " hits (" + hits["statuses"] + ")"
    shown = examples(hits["url"], item)
    return found(pd.Series(shown.index), "not found by the crawl; " + pd.Series(shown.to_numpy()))


@rule(id="indexable-not-fetched-by-googlebot", severity="warning",
      severity_why="indexable pages Googlebot does not visit are not refreshed in the index",
      title="Indexable page Googlebot did not fetch",
      why="An indexable page with no Googlebot hit in the whole log window is not being "
          "refreshed, and may never have been indexed: Googlebot's budget went elsewhere.",
      fix="Link the page from pages Googlebot visits often, list it in the sitemap with a true "
          "lastmod, and cut the waste that takes its place.",
      learn_more=CRAWL_BUDGET, reads=("logs", "indexable", "is_html", "is_page"))
def indexable_not_fetched_by_googlebot(crawl, t):
    logs = crawl.logs
    if logs is None or not len(logs.googlebot):
        return NONE  # no Googlebot in the logs: nothing to conclude about any page
    p = crawl.pages
    missed = p[p["indexable"] & p["is_html"] & p["is_page"] & ~p["url"].isin(logs.urls["url"])]  # one row per URL
    return found(missed["url"], f"no Googlebot hit between {_window(logs)}")


def _window(logs: Any) -> str:
    start, end = logs.window
    return f"{start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"


@rule(id="sitemap-url-not-fetched-by-googlebot", severity="notice",
      severity_why="hygiene: the sitemap promises URLs Googlebot has not come for",
      title="Sitemap URL Googlebot did not fetch",
      why="A URL listed in the sitemap that Googlebot never fetched in the log window: the sitemap "
          "is not getting it crawled (stale lastmod, too many URLs, low value).",
      fix="Check the URL should be in the sitemap; give true lastmod dates; link it from crawled pages.",
      learn_more="https://developers.google.com/search/docs/crawling-indexing/sitemaps/overview",
      reads=("logs", "sitemap_urls"))
def sitemap_url_not_fetched_by_googlebot(crawl, t):
    logs = crawl.logs
    if logs is None or not len(logs.googlebot):
        return NONE
    listed = pd.Series(crawl.sitemap_urls["url"].astype(str).unique())
    missed = listed[~listed.isin(logs.urls["url"])]
    return found(missed, f"in the sitemap; no Googlebot hit between {_window(logs)}")


@rule(id="googlebot-parameter-variants", severity="warning",
      severity_why="parameter variants multiply the URLs Googlebot fetches for the same content, at scale",
      title="Googlebot crawls parameter variants",
      why="Googlebot fetches many URLs of one path that differ only in their query parameters "
          "(filters, sorting, tracking, session ids): each is budget spent on a near-copy.",
      fix="Link the canonical URL only, give variants a canonical, and keep crawlers out of "
          "unbounded filter combinations (robots.txt disallow of the parameters).",
      learn_more=CRAWL_BUDGET, thresholds={"min_variants": 2}, reads=("logs",))
def googlebot_parameter_variants(crawl, t):
    logs = crawl.logs
    if logs is None:
        return NONE
    per_url = logs.googlebot[logs.googlebot["url"].str.contains("?", regex=False)].groupby("url")["hits"].sum()
    if not len(per_url):
        return NONE
    frame = pd.DataFrame({"url": per_url.index, "hits": per_url.to_numpy()})
    frame["pattern"] = frame["url"].map(trap_pattern)
    frame = frame.sort_values(["hits", "url"], ascending=[False, True])
    grouped = frame.groupby("pattern")
    frame["variants"], frame["pattern_hits"] = grouped["url"].transform("size"), grouped["hits"].transform("sum")
    frame = frame[frame["variants"] >= t["min_variants"]]
    shown = examples(frame["pattern"], frame["url"])
    first = frame.drop_duplicates("pattern")
    return found(first["url"], "pattern " + first["pattern"] + ": " + first["variants"].astype(str) + " URLs, "
                 + first["pattern_hits"].astype(str) + " Googlebot hits: " + first["pattern"].map(shown))


@rule(id="spoofed-googlebot", severity="notice",
      severity_why="hygiene: traffic pretending to be Googlebot, left out of Googlebot's figures",
      title="Traffic claiming to be Googlebot from outside Google's ranges",
      why="Requests with a Googlebot user agent from addresses Google does not publish: scrapers "
          "and scanners in disguise. They are left out of every Googlebot figure in this report.",
      fix="Nothing to fix on the page; if the volume hurts, rate-limit or block these addresses "
          "(never by user agent alone).",
      learn_more=GOOGLE_VERIFY, reads=("logs",))
def spoofed_googlebot(crawl, t):
    logs = crawl.logs
    if logs is None:
        return NONE
    s = logs.spoofed
    return found(s["url"], s["hits"].astype(str) + " hits from " + s["addresses"].astype(str)
                 + " addresses with a Googlebot user agent, outside Google's published ranges")


@rule(id="robots-txt-non-200-to-googlebot", severity="critical",
      severity_why="a robots.txt answering 5xx or 429 stops Googlebot crawling the whole host",
      title="robots.txt did not answer 200 to Googlebot",
      why="Googlebot fetches robots.txt before crawling: a server error or 429 makes it stop "
          "crawling the host; a 4xx makes it treat the whole site as allowed.",
      fix="Serve robots.txt as a static file that always answers 200, even when the site is under load.",
      learn_more=GOOGLE_ROBOTS, reads=("logs",))
def robots_txt_non_200_to_googlebot(crawl, t):
    logs = crawl.logs
    if logs is None:
        return NONE
    g = logs.googlebot
    robots = g[g["url"].str.endswith("/robots.txt") & ~g["status"].isin([200, 304]).fillna(False)]
    if not len(robots):
        return NONE
    per_status = robots.groupby(["url", "status"])["hits"].sum().reset_index()
    text = per_status["status"].astype(str) + " x " + per_status["hits"].astype(str)
    statuses = text.groupby(per_status["url"]).agg(", ".join)
    days = _days(robots)
    return found(pd.Series(statuses.index), "Googlebot got " + pd.Series(statuses.to_numpy())
                 + " on " + pd.Series(days.reindex(statuses.index).to_numpy()))


RULES = rules_in(globals())
