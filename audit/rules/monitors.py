"""202 status monitors: the URL a 202 Accepted names (its Location or Content-Location) for the
client to follow its job. RFC 9110 §15.3.3 leaves it to the server; good practice: readable only by
the client that made the request, short-lived, never cached by shared caches, never indexed, with
an id nobody can guess. The crawl fetched each one anonymously (fetch_kind ``status-url``)."""

from __future__ import annotations

import re

import pandas as pd

from audit.rules.base import found, link_rows, rule, rules_in, text

CATEGORY = "status"
RFC_202 = "https://www.rfc-editor.org/rfc/rfc9110#section-15.3.3"
CACHING = "https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.7"
#: a plain counter in a monitor URL: a path segment or query value of digits only
_ID = re.compile(r"[/=](\d{1,12})(?=[/&?]|$)")


def _monitors(crawl) -> pd.DataFrame:
    """Status monitors that answered 2xx, with the 202 URL that named each."""
    p = crawl.pages
    monitors = p[p["fetch_kind"].eq("status-url") & p["status_class"].eq("2xx")]
    named = link_rows(crawl, "kind = 'status-url'")
    source = pd.Series(named["source"].to_numpy(dtype=object), index=named["target"].to_numpy(dtype=object))
    source = source[~source.index.duplicated()]
    return monitors.assign(named_by=monitors["url"].map(source).astype(object).fillna("a 202"))


@rule(id="status-monitor-public-indexable", severity="warning",
      severity_why="job pages open to anyone and indexable become junk URLs in the index, at scale",
      title="202 status monitor readable by anyone and indexable",
      why="The status monitor of a 202 answered an anonymous crawler with 200 and no noindex: every "
          "job's status is public, and search engines may index one page per job.",
      fix="Require the requesting client's credentials on status monitors, and send "
          "X-Robots-Tag: noindex on them.",
      learn_more=RFC_202, reads=("fetch_kind", "status_class", "noindex"))
def status_monitor_public_indexable(crawl, t):
    m = _monitors(crawl)
    hit = m[~m["noindex"]]
    return found(hit["url"], "answered " + text(hit["status"]) + " to an anonymous request, without noindex; "
                 "status monitor of " + hit["named_by"])


@rule(id="status-monitor-shared-cacheable", severity="warning",
      severity_why="a shared cache may serve one client's job status to others, for every job",
      title="202 status monitor cacheable by shared caches",
      why="The status monitor answered without Cache-Control private or no-store: a CDN or proxy may "
          "keep it and serve one client's job status to others, or a stale status to the client.",
      fix="Send Cache-Control: private, no-store on status monitors.",
      learn_more=CACHING, reads=("fetch_kind", "status_class", "cache_control"))
def status_monitor_shared_cacheable(crawl, t):
    m = _monitors(crawl)
    private = m["cache_control"].str.contains(r"\b(?:private|no-store)\b", case=False, regex=True, na=False)
    hit = m[~private]
    return found(hit["url"], "Cache-Control: " + hit["cache_control"].fillna("(none)"))


@rule(id="status-monitor-guessable-id", severity="warning",
      severity_why="sequential job ids let anyone walk every job's monitor, at scale",
      title="202 status monitors with guessable ids",
      why="The status monitors' URLs carry plain counters: anyone, crawlers included, can guess the "
          "next and previous jobs' monitors and read them.",
      fix="Name monitors by a random, unguessable id (a UUID or 128 random bits), not a counter.",
      learn_more=RFC_202, thresholds={"max_gap": 100}, reads=("fetch_kind", "status_class"))
def status_monitor_guessable_id(crawl, t):
    m = _monitors(crawl)
    ids = [_ID.findall(url.split("://", 1)[-1]) for url in m["url"]]
    m = m.assign(job=[int(found_ids[-1]) if found_ids else None for found_ids in ids]).dropna(subset=["job"])
    if len(m) < 2:
        return found(m["url"].iloc[:0], "")
    jobs = sorted(set(m["job"].astype(int)))
    if max(b - a for a, b in zip(jobs, jobs[1:])) > t["max_gap"]:
        return found(m["url"].iloc[:0], "")
    seen = ", ".join(map(str, jobs[:5])) + (f" and {len(jobs) - 5} more" if len(jobs) > 5 else "")
    return found(m["url"], "job id " + m["job"].astype(int).astype(str) + f" among sequential ids {seen}")


@rule(id="status-monitor-no-expiry", severity="notice",
      severity_why="hygiene: monitors that never expire pile up as live URLs",
      title="202 status monitor with no sign of expiry",
      why="The status monitor answers with no Expires header and no max-age: nothing says it is "
          "short-lived, so it may answer (and be crawled) long after its job settled.",
      fix="Expire monitors once their job is done (404 or 410 after a while), and say how long they "
          "live with Expires or Cache-Control max-age.",
      learn_more=RFC_202, reads=("fetch_kind", "status_class", "expires", "cache_control"))
def status_monitor_no_expiry(crawl, t):
    m = _monitors(crawl)
    lived = m["expires"].notna() | m["cache_control"].str.contains(r"\bmax-age=", case=False, na=False)
    hit = m[~lived]
    settled = hit["named_by"].map(pd.Series(crawl.pages["settled_status"].to_numpy(), index=crawl.pages["url"]))
    note = settled.map(lambda s: f"; its job settled ({int(s)}) and it still answers" if pd.notna(s) else "")
    return found(hit["url"], "no Expires, no max-age" + note.astype(str))


RULES = rules_in(globals())
