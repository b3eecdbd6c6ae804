"""The rule registry. Each category module declares its rules with ``@rule(...)`` next to their
checks and lists them as ``RULES = rules_in(globals())``; a new module is added here."""

from audit.rules import (architecture, content, custom, duplicates, families, indexability, links, logs,
                         monitors, near_duplicates, performance, redirects, rendering, robots, security, sitemaps,
                         status, structured_data)
from audit.rules.base import CATEGORIES, SEVERITIES, WASTE_CAUSES, Rule

RULES: list[Rule] = [
    *status.RULES,
    *monitors.RULES,
    *redirects.RULES,
    *robots.RULES,
    *indexability.RULES,
    *sitemaps.RULES,
    *duplicates.RULES,
    *near_duplicates.RULES,
    *families.RULES,
    *performance.RULES,
    *architecture.RULES,
    *links.RULES,
    *content.RULES,
    *rendering.RULES,
    *security.RULES,
    *structured_data.RULES,
    *logs.RULES,  # read the server logs joined with the crawl, if any (crawl.logs)
    *custom.RULES,
]

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_ID", "Rule", "SEVERITIES", "CATEGORIES", "WASTE_CAUSES"]
