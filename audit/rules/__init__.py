"""The rule registry. Each category module declares its rules in its own ``RULES`` list;
adding a rule means writing its check and its ``Rule(...)`` entry in that module."""

from audit.rules import (content, duplicates, indexability, links, monitors, performance, redirects,
                         robots, sitemaps, status)
from audit.rules.base import CATEGORIES, SEVERITIES, Rule

RULES: list[Rule] = [
    *status.RULES,
    *monitors.RULES,
    *redirects.RULES,
    *robots.RULES,
    *indexability.RULES,
    *sitemaps.RULES,
    *duplicates.RULES,
    *performance.RULES,
    *links.RULES,
    *content.RULES,
]

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_ID", "Rule", "SEVERITIES", "CATEGORIES"]
