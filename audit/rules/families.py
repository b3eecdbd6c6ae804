"""URL families that waste the crawl: feeds, search, login, archives, parameter variants...

A family (``crawler.families.url_family``) is a URL space a site makes by the thousand. The rule
names each family that takes a share of the crawl for pages a search engine drops, with what its
pages say, how much of the crawl it took (counting the members the crawl sampled out and did
not fetch) and the robots.txt line or canonical that would stop it. ``family_budget`` gives the
same families to the crawl budget's headline.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from audit.rules.base import arrow_texts, derived, examples, found, map_texts, rule, rules_in
from crawler.families import CMS_FAMILIES, FAMILY_SIGN_CMS_PATH, FAMILY_SIGN_QUERY_OR_NUMBER, family_of, url_family

CATEGORY = "duplicates"
CRAWL_BUDGET = "https://developers.google.com/crawling/docs/crawl-budget"
RULE_ID = "url-family-waste"

#: what stops each CMS family from taking the crawl, in robots.txt lines where one can
ADVICE = {
    "replytocom": "robots.txt: Disallow: /*?replytocom= (or drop the parameter from reply links, "
                  "as SEO plugins do)",
    "feed": "robots.txt: Disallow: /*/feed/ (keeps the site's main /feed/), and stop linking "
            "per-post and per-archive feeds",
    "search": "robots.txt: Disallow: /?s= and Disallow: /search/ (Google asks sites to keep "
              "internal search results out of the crawl)",
    "login": "robots.txt: Disallow: /wp-login.php and Disallow: /wp-admin/ (with Allow: "
             "/wp-admin/admin-ajax.php); link one login page, not one per article",
    "attachment": "redirect attachment pages to their file or parent post (WordPress 6.4+ does "
                  "by default; SEO plugins offer it), or robots.txt: Disallow: /*?attachment_id= "
                  "and Disallow: /*/attachment/",
    "shortlink": "link permalinks, not ?p= short links (each one only redirects): robots.txt: "
                 "Disallow: /?p=",
    "author-archive": "on a one-author site redirect /author/ to the home page or robots.txt: "
                      "Disallow: /author/; else noindex thin author archives",
    "date-archive": "stop linking day and month archives (calendar and archives widgets) and "
                    "noindex them; robots.txt cannot tell /YYYY/MM/ archives from dated post URLs",
    "comment-pages": "stop breaking comments into pages (WordPress: Settings > Discussion), or "
                     "canonicalise comment pages to their post",
    "paginated-archive": "show more items per listing page and link items from categories, so "
                         "fewer /page/N/ pages are needed (Google: do not noindex pagination or "
                         "canonicalise it to page 1)",
}
_PLACEHOLDER = re.compile(r"\{(?:n|slug)\}")
#: fetched-page verdicts, in the order evidence names them
VERDICT_ORDER = ("noindex", "canonicalised", "duplicate", "redirect", "error", "indexable", "other")
_WASTE = ("noindex", "canonicalised", "duplicate", "redirect", "error")


def robots_pattern(template: str) -> str:
    """A robots.txt path pattern matching a generic family: '/wiki/{slug}?action=edit&oldid'
    -> '/wiki/*?*action=edit'."""
    path, _, query = template.partition("?")
    pattern = _PLACEHOLDER.sub("*", path)
    if query:
        first = query.split("&")[0]
        pattern += "?*" + (first if "=" in first else first + "=")
    return pattern


def advice(family: str, verdicts: dict[str, int]) -> str:
    """The robots.txt line or canonical that would stop the family taking the crawl."""
    if family in ADVICE:
        return ADVICE[family]
    line = f"robots.txt: Disallow: {robots_pattern(family)}"
    if verdicts.get("canonicalised"):
        return f"link the canonical URLs these pages name instead, or {line}"
    if verdicts.get("duplicate"):
        return f"canonicalise the copies to one URL and stop linking them, or {line}"
    if verdicts.get("redirect"):
        return f"link the redirects' targets directly, or {line}"
    return line


def family_table(crawl) -> pd.DataFrame:
    """One row per URL family met in the crawl's pages (not resources), indexed by family: met,
    fetched, sampled_out, first (the shallowest member, first by URL), sample_verdict, and per verdict how
    many fetched members said it."""
    return derived(crawl, "url_family_table", _family_table)


def family_members(crawl, families: pd.Series) -> pd.Series:
    """Mask on ``crawl.pages``: the members of ``families`` (a finding stands for its whole family)."""
    return _families(crawl).isin(families.dropna())


def _families(crawl) -> pd.Series:
    """Each page's family: as the crawl recorded it, else from its URL (a --no-sampling crawl)."""
    return derived(crawl, "url_families", _page_families)


def _page_families(crawl) -> pd.Series:
    p = crawl.pages
    stored = p["family"]
    missing = stored.isna()
    return stored.where(~missing, url_families(p.loc[missing, "url"]).reindex(p.index))


def url_families(urls: pd.Series) -> pd.Series:
    """crawler.families.family_of of each URL (missing: one of a kind), aligned on ``urls``."""
    texts = arrow_texts(urls)
    maybe = (texts.str.contains(FAMILY_SIGN_QUERY_OR_NUMBER, regex=True, na=False)
             | texts.str.contains(FAMILY_SIGN_CMS_PATH, case=False, regex=True, na=False)
             | texts.str.contains(r"[^!-~]", regex=True, na=False)).to_numpy(dtype=bool)
    return map_texts(urls[maybe], family_of).reindex(urls.index)


def _family_table(crawl) -> pd.DataFrame:
    p, family = crawl.pages, _families(crawl)
    member = p["fetch_kind"].eq("page") & p["in_scope"] & family.notna()
    # only the columns read: a copy of every column of a million pages costs more than the rest
    pages = p.loc[member, ["url", "depth", "status", "error", "status_class", "noindex", "canonical_self_or_absent",
                           "indexable", "is_html", "content_hash", "fetched_at", "skip_reason", "family_verdict"]]
    family = family[member]
    fetched = pages["status"].notna() | pages["error"].notna()
    # a copy of a text met earlier in the crawl (fetch order); the first of each is the original
    duplicate = pages["content_hash"].notna() & pages.sort_values("fetched_at")["content_hash"].duplicated()
    verdict = pd.Series("other", index=pages.index, dtype="object")
    for name, mask in [  # the first that applies wins
            ("error", pages["status_class"].isin(["4xx", "5xx", "error"])),
            ("redirect", pages["status_class"].eq("3xx")),
            ("noindex", pages["noindex"]),
            ("canonicalised", ~pages["canonical_self_or_absent"]),
            ("duplicate", duplicate),
            ("indexable", pages["indexable"] & pages["is_html"]),
    ]:
        verdict[fetched & mask.fillna(False).astype(bool) & verdict.eq("other")] = name
    frame = pd.DataFrame({"family": family, "url": pages["url"], "depth": pages["depth"],
                          "fetched": fetched, "sampled_out": pages["skip_reason"].eq("sampled-out"),
                          "verdict": verdict.where(fetched),
                          "sample_verdict": pages["family_verdict"].where(pages["skip_reason"].eq("sampled-out"))})
    grouped = frame.sort_values(["depth", "url"]).groupby("family", sort=False)
    table = grouped.agg(met=("url", "size"), fetched=("fetched", "sum"), sampled_out=("sampled_out", "sum"),
                        first=("url", "first"), sample_verdict=("sample_verdict", "first"))
    counts = frame.groupby(["family", "verdict"]).size().unstack(fill_value=0)
    table = table.join(counts.reindex(columns=list(VERDICT_ORDER), fill_value=0)).fillna(
        {v: 0 for v in VERDICT_ORDER})
    table[list(VERDICT_ORDER)] = table[list(VERDICT_ORDER)].astype(int)
    table["examples"] = examples(frame["family"], frame["url"])
    return table


def _crawl_fetches(crawl) -> tuple[int, int]:
    """Fetches the crawl made (pages and resources), and the URLs it sampled out instead."""
    p = crawl.pages
    fetched = int((p["is_page"] & (p["status"].notna() | p["error"].notna())).sum())
    return fetched, int(p["skip_reason"].eq("sampled-out").sum())


def wasteful_families(crawl, t) -> pd.DataFrame:
    """The family table's rows the rule flags, with their share of the crawl's fetches."""
    table = family_table(crawl)
    fetches, sampled = _crawl_fetches(crawl)
    table = table.assign(
        waste=table[list(_WASTE)].sum(axis=1),
        share=(table["fetched"] + table["sampled_out"]) / max(1, fetches + sampled))
    wasteful = table["waste"].ge(t["min_waste_share"] * table["fetched"]) & table["fetched"].gt(0)
    cms_heavy = table.index.isin(CMS_FAMILIES) & table["share"].ge(t["min_fetch_share"])
    hit = table[table["met"].ge(t["min_urls"]) & (wasteful | table["sampled_out"].gt(0) | cms_heavy)]
    return hit.sort_values("share", ascending=False)


def _evidence(family: str, row: pd.Series, sample_size: Any) -> str:
    said = ", ".join(f"{name} {row[name]}" for name in VERDICT_ORDER if row[name])
    parts = [f"family {family}: {row['met']} URLs met, {row['fetched']} fetched"]
    if row["sampled_out"]:
        parts[0] += (f", {row['sampled_out']} sampled out (not fetched: a sample of {sample_size} "
                     f"was all {row['sample_verdict']})")
    parts.append(f"{row['share']:.0%} of the crawl's fetches"
                 + (" counting the sampled-out members" if row["sampled_out"] else ""))
    parts.append(f"fetched pages: {said or 'none answered'}")
    parts.append(f"fix: {advice(family, row.to_dict())}")
    parts.append(f"e.g. {row['examples']}")
    return "; ".join(parts)


@rule(id=RULE_ID, severity="warning",
      severity_why="budget wasted at scale: the family's pages cost a fetch each and none of them "
                   "can rank, but the site's real pages still get crawled",
      title="URL family that wastes the crawl",
      why="CMSs make URL spaces by the thousand (feeds, search results, login links, archives, "
          "parameter variants) whose pages are noindex, canonicalised, duplicates or redirects: "
          "each costs a fetch that real pages need.",
      fix="Stop linking the family, or keep crawlers out of it with the robots.txt line given "
          "(or a canonical to the real page).",
      learn_more=CRAWL_BUDGET,
      thresholds={"min_urls": 20, "min_waste_share": 0.8, "min_fetch_share": 0.1},
      reads=("url", "fetch_kind", "in_scope", "is_page", "status", "status_class", "error", "skip_reason", "family",
             "family_verdict", "noindex", "canonical_self_or_absent", "indexable", "is_html", "content_hash",
             "fetched_at", "depth"),
      touches=lambda crawl, hits: family_members(crawl, hits["url"].map(url_family)))
def url_family_waste(crawl, t):
    hit = wasteful_families(crawl, t)
    sample_size = (crawl.meta.get("settings") or {}).get("sample_size", 30)
    evidence = [_evidence(family, row, sample_size) for family, row in hit.iterrows()]
    return found(hit["first"], pd.Series(evidence, index=hit.index, dtype="object"))


def family_budget(crawl, findings: pd.DataFrame) -> dict[str, Any]:
    """The crawl budget's URL-family part: the families the rule flagged (its findings), their
    share of the fetches (sampled-out members counted as the fetches they would have been),
    and what sampling saved."""
    fetches, sampled = _crawl_fetches(crawl)
    flagged = findings.loc[findings["rule"].eq(RULE_ID), "url"].map(url_family)
    table = family_table(crawl)
    rows = table[table.index.isin(flagged.dropna())]
    total = max(1, fetches + sampled)
    families = [{"family": family, "met": int(row["met"]), "fetched": int(row["fetched"]),
                 "sampled_out": int(row["sampled_out"]),
                 "sample_verdict": row["sample_verdict"] if isinstance(row["sample_verdict"], str) else None,
                 "share": (row["fetched"] + row["sampled_out"]) / total,
                 "verdicts": {name: int(row[name]) for name in VERDICT_ORDER if row[name]},
                 "advice": advice(family, row.to_dict())}
                for family, row in rows.iterrows()]
    families.sort(key=lambda f: f["share"], reverse=True)
    return {"families": families,
            "family_share": sum(f["share"] for f in families),
            "sampled_out": sampled,
            "fetches_without_sampling": fetches + sampled}


RULES = rules_in(globals())
