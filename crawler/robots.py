"""robots.txt verdicts with evidence: Protego decides, and we name the rule that decided.

A blocked URL is recorded with the robots.txt line that blocks it, so the audit can say
"linked but blocked by `Disallow: /private/`" instead of the URL silently vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass

from protego import Protego


@dataclass
class RobotsPolicy:
    """How a crawler reads one host's robots.txt, by the status it answered.

    A 2xx is parsed; a 4xx (but 429) means "no robots.txt": everything may be crawled.
    A 5xx, a 429 or a network error makes Google stop crawling the host for a while;
    an auditor goes on as if everything were allowed (so the audit still sees the site),
    marks the policy ``unavailable``, and the audit flags the robots.txt itself.
    """

    parser: Protego | None  # None: everything allowed
    unavailable: bool = False

    @classmethod
    def from_response(cls, status: int | None, body: str) -> "RobotsPolicy":
        if status is not None and 200 <= status < 300:
            return cls(Protego.parse(body))
        return cls(None, unavailable=status is None or status >= 500 or status == 429)

    def blocking_rule(self, url: str, user_agent: str) -> str | None:
        """None if ``url`` may be fetched, else the rule that blocks it."""
        if self.parser is None or self.parser.can_fetch(url, user_agent):
            return None
        return _matching_rule(self.parser, url, user_agent) or "disallow (rule not identified)"

    def may_block(self, user_agent: str) -> bool:
        """Whether any URL may be blocked for ``user_agent``: False only when its group has no
        Disallow rule (a renderer then needs no robots.txt check of what pages load)."""
        if self.parser is None:
            return False
        try:
            return any(rule.field == "disallow" for rule in _group_rules(self.parser, user_agent))
        except Exception:  # noqa: BLE001 - Protego's internals changed: assume it may
            return True

    def crawl_delay(self, user_agent: str) -> float | None:
        return self.parser.crawl_delay(user_agent) if self.parser else None

    def sitemaps(self) -> list[str]:
        return list(self.parser.sitemaps) if self.parser else []


def _group_rules(parser: Protego, user_agent: str) -> list:
    """The rules of the group that applies to ``user_agent`` (none: no group applies), from
    Protego's rule set: Protego exposes only verdicts, so callers guard against its internals
    changing."""
    ruleset = parser._get_matching_rule_set(user_agent)
    return [] if ruleset is None else ruleset._rules


def _matching_rule(parser: Protego, url: str, user_agent: str) -> str | None:
    """The first rule of the applicable group that matches, as 'disallow: <pattern>'.

    Protego exposes only the verdict; the rule is read from its rule set, guarded so a
    change in Protego's internals costs the evidence, never the crawl.
    """
    try:
        from protego._utils import _quote_path

        quoted = _quote_path(url)
        for rule in _group_rules(parser, user_agent):
            if rule.value.match(quoted):
                return f"{rule.field}: {rule.value._pattern}"
    except Exception:  # noqa: BLE001 - evidence only
        return None
    return None
