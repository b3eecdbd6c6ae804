"""The bot hits read from the logs, named, verified, and joined with the crawl by URL.

Everything per hit stays in DuckDB; Python sees only distinct values (user agents, (bot, IP)
pairs, (host, scheme, target) triples: far fewer than the lines) and the grouped answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from audit.logs.bots import BY_NAME, DnsVerifier, Ranges, classify, verify
from audit.logs.read import BOT_HITS

#: the Googlebot crawlers whose hits make Googlebot's crawl budget (Google search's own)
GOOGLEBOT = tuple(bot.name for bot in BY_NAME.values() if bot.google_search)
#: bot-hits.csv columns
BOT_HITS_COLUMNS = ["url", "bot", "verified", "hits", "statuses", "first_hit", "last_hit"]


@dataclass
class Joined:
    """The frames the logs give, for the rules, the report and notebooks."""

    bot_hits: pd.DataFrame  # BOT_HITS_COLUMNS: one row per URL, bot and verdict
    googlebot: pd.DataFrame  # Googlebot's trusted hits: url, day, status, hits, first_hit, last_hit
    googlebot_urls: pd.DataFrame  # per URL of those: hits, statuses ("200: 5, 202: 1"), first_hit, last_hit
    daily: pd.DataFrame  # day, bot, verified, status_class, hits, response_time (mean seconds, if logged)
    spoofed: pd.DataFrame  # url, hits, addresses: Googlebot user agents that failed verification
    monitors: pd.DataFrame  # day, bot, got_202, monitor_hits: bots (not spoofed) on 202s and status monitors
    googlebot_trust: str  # 'verified' (only proven hits count) or 'claimed' (nothing to verify against)
    window: tuple[Any, Any] = (None, None)  # first and last hit of any bot
    dns_skipped: int = 0


def site_origins(page_urls: pd.Series) -> dict[str, str]:
    """host -> scheme of the crawl's origins (https preferred when a host has both)."""
    origins = {url.split("/", 3)[2] and "/".join(url.split("/", 3)[:3]) for url in page_urls.tolist()
               if isinstance(url, str) and url.startswith(("http://", "https://"))}
    schemes: dict[str, str] = {}
    for origin in origins:
        scheme, _, host = origin.partition("://")
        if schemes.get(host.lower()) != "https":
            schemes[host.lower()] = scheme
    return schemes


def absolute_url(host: str | None, scheme: str | None, target: str, schemes: Mapping[str, str],
                 default_host: str | None) -> str | None:
    """The normalised URL a log line's request target names: an absolute target as it is; a path
    on the line's host (else ``default_host``), with the line's scheme, else the crawl's for that
    host, else https."""
    # imported here: crawler.urls imports Scrapy, which a process reading the logs only never needs
    from crawler.urls import normalise

    if not isinstance(target, str) or not target:
        return None
    if target[:8].lower().startswith(("http://", "https://")):
        return normalise(target)
    host = (host or default_host or "").lower()
    if not host:
        return None
    scheme = scheme or schemes.get(host) or schemes.get(host.rsplit(":", 1)[0]) or "https"
    return normalise(f"{scheme}://{host}{target if target.startswith('/') else '/' + target}")


#: request targets whose URL is their origin followed by them, as crawler.urls.normalise spells it:
#: a path (and query) of characters it leaves as they are; the others go through normalise
_PLAIN_TARGET = (r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*"
                 r"(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})+)?")


def _register_target_urls(con: duckdb.DuckDBPyConnection, schemes: Mapping[str, str], default_host: str | None) -> None:
    """The table target_urls: the normalised URL of each distinct (host, scheme, target) of the
    hits; plain targets joined to their origin in the engine, the rest normalised one by one."""
    origins = con.execute(f"SELECT DISTINCT host, scheme FROM {BOT_HITS}").fetchall()
    frame = pd.DataFrame(origins, columns=["host", "scheme"], dtype=object)
    frame["origin"] = [(absolute_url(h, s, "/", schemes, default_host) or "/")[:-1] or None for h, s in origins]
    con.register("origins", frame)
    con.execute(f"""CREATE OR REPLACE TABLE target_urls AS
        SELECT DISTINCT t.host, t.scheme, t.target,
               CASE WHEN regexp_full_match(t.target, '{_PLAIN_TARGET.replace("'", "''")}') THEN o.origin || t.target END AS url
        FROM (SELECT DISTINCT host, scheme, target FROM {BOT_HITS}) t
        JOIN origins o ON t.host IS NOT DISTINCT FROM o.host AND t.scheme IS NOT DISTINCT FROM o.scheme""")
    # as tuples: a frame would turn the missing hosts into NaN
    rest = con.execute("SELECT host, scheme, target FROM target_urls WHERE url IS NULL").fetchall()
    if rest:
        fixed = pd.DataFrame(rest, columns=["host", "scheme", "target"], dtype=object)
        fixed["url"] = [absolute_url(h, s, t, schemes, default_host) for h, s, t in rest]
        con.register("fixed_urls", fixed)
        con.execute("""UPDATE target_urls SET url = f.url FROM fixed_urls f
                       WHERE target_urls.url IS NULL AND target_urls.host IS NOT DISTINCT FROM f.host
                         AND target_urls.scheme IS NOT DISTINCT FROM f.scheme AND target_urls.target = f.target""")


def verify_senders(con: duckdb.DuckDBPyConnection, ranges: Mapping[str, Ranges],
                   dns: DnsVerifier | None = None) -> None:
    """The table verdicts: the bot each distinct (user agent, IP) of the BOT_HITS table claims
    to be and its verdict (audit.logs.bots.verify), each address verified once per bot it
    claims, however many user agents and hits it has."""
    senders = con.execute(f"SELECT DISTINCT user_agent, ip FROM {BOT_HITS}").fetchall()
    bots = {ua: classify(ua) for ua in {ua for ua, _ in senders}}
    pairs = list(dict.fromkeys((bots[ua], ip or "") for ua, ip in senders if bots[ua] is not None))
    verdict = dict(zip(pairs, verify(pairs, ranges, dns)))
    known = [(ua, ip) for ua, ip in senders if bots[ua] is not None]
    con.register("verdicts", pd.DataFrame({
        "user_agent": pd.Series([ua for ua, _ in known], dtype=object),
        "ip": pd.Series([ip for _, ip in known], dtype=object),
        "bot": pd.Series([bots[ua] for ua, _ in known], dtype=object),
        "verified": pd.Series([verdict[bots[ua], ip or ""] for ua, ip in known], dtype=object)}))


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """The answer of ``sql`` as a DataFrame by way of Arrow, each distinct text one Python object
    (dictionary-encoded, then pandas' categories taken back to text): DuckDB's own conversion
    made an object per cell, seconds and hundreds of MiB on a million rows that name a dozen
    bots, three verdicts and a few lists of statuses."""
    table = con.sql(sql).to_arrow_table()

    def column(values: pa.ChunkedArray) -> pd.Series:
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            return values.dictionary_encode().to_pandas().astype("str")
        return values.to_pandas()

    return pd.DataFrame({name: column(table.column(name)) for name in table.column_names})


def _statuses(con: duckdb.DuckDBPyConnection) -> str:
    """The aggregate "200: 5, 202: 1" of the table hits's statuses in a group, ascending: one sum
    per status the hits hold (a few), which costs half the ordered string_agg over a group per
    status did."""
    found = [int(status) for (status,) in con.execute("SELECT DISTINCT status FROM hits ORDER BY status").fetchall()]
    if not found:
        return "NULL::VARCHAR"
    sums = ", ".join(f"'{status}: ' || sum(hits) FILTER (WHERE status = {status})" for status in found)
    return f"concat_ws(', ', {sums})"


def join_hits(con: duckdb.DuckDBPyConnection, page_urls: pd.Series, start_url: str | None,
              ranges: Mapping[str, Ranges], dns: DnsVerifier | None = None,
              monitor_urls: Sequence[str] = ()) -> Joined:
    """Place the hits of the BOT_HITS table, named and verified by verify_senders (see the
    module docstring); ``ranges`` and ``dns`` as verify_senders had them; ``monitor_urls``: the
    crawl's 202 status monitors."""
    schemes = site_origins(page_urls)
    default_host = next(iter(site_origins(pd.Series([start_url or ""])).keys()), None)
    _register_target_urls(con, schemes, default_host)
    # grouped by what the figures below read: the address only where it is counted (spoofed hits)
    con.execute(f"""CREATE OR REPLACE TABLE hits AS
        SELECT t.url, v.bot, v.verified, CASE WHEN v.verified = 'no' THEN h.ip END AS ip, h.status, h.day,
               min(h.first_hit) AS first_hit, max(h.last_hit) AS last_hit, sum(h.hits) AS hits,
               sum(h.response_time_sum) AS response_time_sum, sum(h.response_times) AS response_times
        FROM {BOT_HITS} h
        JOIN verdicts v ON h.user_agent = v.user_agent AND h.ip IS NOT DISTINCT FROM v.ip
        JOIN target_urls t ON h.host IS NOT DISTINCT FROM t.host AND h.scheme IS NOT DISTINCT FROM t.scheme
                          AND h.target IS NOT DISTINCT FROM t.target
        WHERE t.url IS NOT NULL
        GROUP BY ALL""")
    google = ", ".join(f"'{name}'" for name in GOOGLEBOT)
    proven = "googlebot" in ranges or dns is not None
    trusted = "verified = 'yes'" if proven else "verified <> 'no'"
    statuses = _statuses(con)
    bot_hits = _frame(con, f"""
        SELECT url, bot, verified, sum(hits)::BIGINT AS hits, {statuses} AS statuses,
               min(first_hit) AS first_hit, max(last_hit) AS last_hit
        FROM hits GROUP BY url, bot, verified ORDER BY hits DESC, url, bot, verified""")
    googlebot = _frame(con, f"""
        SELECT url, day, status, sum(hits)::BIGINT AS hits, min(first_hit) AS first_hit, max(last_hit) AS last_hit
        FROM hits WHERE bot IN ({google}) AND {trusted} GROUP BY ALL ORDER BY url, day, status""")
    daily = _frame(con, """
        SELECT day, bot, verified, (status // 100) || 'xx' AS status_class, sum(hits)::BIGINT AS hits,
               sum(response_time_sum) / nullif(sum(response_times), 0) AS response_time
        FROM hits GROUP BY ALL ORDER BY day, bot, verified, status_class""")
    spoofed = _frame(con, f"""
        SELECT url, sum(hits)::BIGINT AS hits, count(DISTINCT ip) AS addresses
        FROM hits WHERE bot IN ({google}) AND verified = 'no' GROUP BY url ORDER BY hits DESC, url""")
    googlebot_urls = _frame(con, f"""
        SELECT url, sum(hits)::BIGINT AS hits, {statuses} AS statuses,
               min(first_hit) AS first_hit, max(last_hit) AS last_hit
        FROM hits WHERE bot IN ({google}) AND {trusted} GROUP BY url ORDER BY url""")
    con.register("monitor_urls", pd.DataFrame({"url": pd.Series(list(monitor_urls), dtype=object)}))
    monitors = _frame(con, """
        SELECT day, bot, coalesce(sum(hits) FILTER (WHERE status = 202), 0)::BIGINT AS got_202,
               coalesce(sum(hits) FILTER (WHERE url IN (SELECT url FROM monitor_urls)), 0)::BIGINT AS monitor_hits
        FROM hits WHERE verified <> 'no' GROUP BY day, bot
        HAVING got_202 > 0 OR monitor_hits > 0 ORDER BY day, bot""")
    window = con.execute("SELECT min(first_hit), max(last_hit) FROM hits").fetchone()
    for frame in (bot_hits, googlebot, googlebot_urls):
        for col in ("first_hit", "last_hit"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
    for frame in (googlebot, daily, monitors):
        # a datetime.date per cell, one object per distinct day (a million hits fall on a few days)
        codes, days = pd.factorize(pd.to_datetime(frame["day"]), use_na_sentinel=False)
        frame["day"] = pd.Series(np.asarray(days.date, dtype=object)[codes], index=frame.index, dtype=object)
    googlebot["status"] = googlebot["status"].astype("Int64")
    return Joined(bot_hits[BOT_HITS_COLUMNS], googlebot, googlebot_urls, daily, spoofed, monitors,
                  "verified" if proven else "claimed",
                  tuple(None if t is None else pd.to_datetime(t, utc=True) for t in window),
                  dns.skipped if dns else 0)


# --- Googlebot's crawl budget ----------------------------------------------------------------

def googlebot_budget(googlebot: pd.DataFrame, pages: pd.DataFrame, crawl_causes: pd.Series) -> dict[str, Any]:
    """Share of Googlebot's hits that went to waste, by cause, on the crawl budget's causes
    (WASTE_CAUSES): first by the status Googlebot got (3xx, 4xx/5xx, 202/204), then by the crawl's
    cause for the URL (blocked, noindex...); a URL the crawl never met with a query string is a
    parameter variant, 'duplicates'. ``crawl_causes``: audit.budget.waste_causes."""
    # imported here: audit.rules imports every rule (and Scrapy), which a process reading the logs only never needs
    from audit.rules.base import WASTE_CAUSES

    urls = googlebot["url"]
    rows = pd.Index(pages["url"]).get_indexer(urls)
    cause_of_page = crawl_causes.to_numpy(dtype=object)
    page_cause = np.where(rows >= 0, cause_of_page[np.maximum(rows, 0)] if len(cause_of_page) else None, None)
    status = googlebot["status"].astype("float").to_numpy()
    cause = pd.Series(page_cause, index=googlebot.index, dtype=object)
    # the crawl's own status causes are replaced by what Googlebot got
    cause[cause.isin(["redirects", "errors", "accepted-202-204"])] = None
    unknown = rows < 0
    cause[unknown & urls.str.contains("?", regex=False).to_numpy()] = "duplicates"
    cause[(status >= 400) & (status < 600)] = "errors"
    cause[(status >= 300) & (status < 400)] = "redirects"
    cause[np.isin(status, [202, 204])] = "accepted-202-204"
    hits = googlebot["hits"].astype(int)
    by_cause = {name: int(hits[cause.eq(name)].sum()) for name in WASTE_CAUSES}
    total = int(hits.sum())
    wasted = sum(by_cause.values())
    return {"hits": total, "wasted": wasted, "waste_share": wasted / total if total else 0.0,
            "by_cause": by_cause, "urls": int(urls.nunique()),
            "urls_not_in_crawl": int(urls[unknown].nunique()),
            "hits_not_in_crawl": int(hits[unknown].sum())}


def url_facts(googlebot_urls: pd.DataFrame, window_end: Any) -> pd.DataFrame:
    """Per URL Googlebot fetched: hits, statuses, first and last hit, days since the last hit
    (to the end of the window)."""
    if window_end is None:  # no bot in the logs
        return googlebot_urls.assign(days_since_last_hit=pd.Series(dtype="Int64"))
    return googlebot_urls.assign(days_since_last_hit=(window_end - googlebot_urls["last_hit"]).dt.days)
