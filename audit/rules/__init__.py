"""The rule registry. Each category module declares its rules with ``@rule(...)`` next to their
checks and lists them as ``RULES = rules_in(globals())``; a new module is added here."""

from audit.rules import (architecture, content, custom, duplicates, families, indexability, links, performance, redirects,
                         robots, security, sitemaps, status)
from audit.rules.base import CATEGORIES, SEVERITIES, WASTE_CAUSES, Rule

RULES: list[Rule] = [
    *status.RULES,
    *redirects.RULES,
    *robots.RULES,
    *indexability.RULES,
    *sitemaps.RULES,
    *duplicates.RULES,
    *families.RULES,
    *performance.RULES,
    *architecture.RULES,
    *links.RULES,
    *content.RULES,
    *security.RULES,
    *custom.RULES,
]

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_ID", "Rule", "SEVERITIES", "CATEGORIES", "WASTE_CAUSES"]
