"""What a list-mode crawl says about its list: where it came from, the lines it skipped, how the
listed URLs answered, and the rules that could not judge it (the report, summary.json and the
CLI's summary show the same dict)."""

from __future__ import annotations

from typing import Any

from audit.engine import rules_off
from crawler.url_list import SKIP_REASONS


#: the pages columns list_facts reads
PAGES_READ = ("found_via", "status", "error", "skip_reason")


def list_facts(crawl: Any, rules: list[Any] | None = None) -> dict[str, Any]:
    """The list of a list-mode crawl: source, sitemap, depth, lines, urls, skipped (reason -> lines,
    only those with some), sitemap_urls, hosts, answers (what the listed URLs answered: status code,
    network error or skip reason -> URLs) and rules_off (rule, title, why)."""
    settings, stats = crawl.meta.get("settings") or {}, crawl.meta.get("stats") or {}
    counts = {key.removeprefix("list/"): value for key, value in stats.items() if key.startswith("list/")}
    p = crawl.pages
    listed = p[p["found_via"].eq("list")]
    answer = listed["status"].astype("Int64").astype("str").where(
        listed["status"].notna(), listed["error"].where(listed["error"].notna(), listed["skip_reason"]))
    answers = answer.fillna("not fetched").value_counts()
    return {
        "source": settings.get("list_file"),
        "sitemap": settings.get("list_sitemap"),
        "depth": settings.get("list_depth", 0),
        "lines": int(counts.get("lines", 0)),
        "urls": len(listed),
        "skipped": {reason: int(counts[reason]) for reason in SKIP_REASONS if counts.get(reason)},
        "sitemap_urls": int(counts.get("sitemap_urls", 0)),
        "hosts": list(stats.get("scope/origins") or []),
        "answers": {str(key): int(n) for key, n in sorted(answers.items(), key=lambda kv: str(kv[0]))},
        "rules_off": rules_off(crawl, rules),
    }
