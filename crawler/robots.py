"""robots.txt verdicts with evidence: Protego decides, and we name the rule that decided.

A blocked URL is recorded with the robots.txt line that blocks it, so the audit can say
"linked but blocked by `Disallow: /private/`" instead of the URL silently vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass

from protego import Protego


@dataclass
class RobotsPolicy:
    """How a crawler reads one host's robots.txt, by the status it answered (Google's rules)."""

    parser: Protego | None  # None: everything allowed
    disallow_all: bool = False  # 5xx/429 or unreachable: Google stops crawling the host

    @classmethod
    def from_response(cls, status: int | None, body: str) -> "RobotsPolicy":
        if status is not None and 200 <= status < 300:
            return cls(Protego.parse(body))
        if status is not None and 400 <= status < 500 and status != 429:
            return cls(None)  # a 4xx means "no robots.txt": everything may be crawled
        return cls(None, disallow_all=True)

    def blocking_rule(self, url: str, user_agent: str) -> str | None:
        """None if ``url`` may be fetched, else the rule that blocks it."""
        if self.disallow_all:
            return "robots.txt unavailable (5xx, 429 or network error): whole host disallowed"
        if self.parser is None or self.parser.can_fetch(url, user_agent):
            return None
        return _matching_rule(self.parser, url, user_agent) or "disallow (rule not identified)"

    def crawl_delay(self, user_agent: str) -> float | None:
        return self.parser.crawl_delay(user_agent) if self.parser else None

    def sitemaps(self) -> list[str]:
        return list(self.parser.sitemaps) if self.parser else []


def _matching_rule(parser: Protego, url: str, user_agent: str) -> str | None:
    """The first rule of the applicable group that matches, as 'disallow: <pattern>'.

    Protego exposes only the verdict; the rule is read from its rule set, guarded so a
    change in Protego's internals costs the evidence, never the crawl.
    """
    try:
        from protego._utils import _quote_path

        ruleset = parser._get_matching_rule_set(user_agent)
        quoted = _quote_path(url)
        for rule in ruleset._rules:
            if rule.value.match(quoted):
                return f"{rule.field}: {rule.value._pattern}"
    except Exception:  # noqa: BLE001 - evidence only
        return None
    return None
