"""Bots: naming by user agent, verification by published ranges and by DNS (pure functions, a
resolver given as functions), and the reader's URL fast path against crawler.urls.normalise."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from audit.logs.bots import DnsVerifier, RangesError, classify, in_ranges, read_ranges, verify
from audit.logs.join import _PLAIN_TARGET, absolute_url
from crawler.urls import normalise

from . import log_site

AGENTS = {
    log_site.GOOGLEBOT_MOBILE: "Googlebot smartphone",
    log_site.GOOGLEBOT_DESKTOP: "Googlebot desktop",
    "Googlebot-Image/1.0": "Googlebot image",
    "Googlebot-Video/1.0": "Googlebot video",
    "Googlebot-News": "Googlebot news",
    "AdsBot-Google (+http://www.google.com/adsbot.html)": "AdsBot",
    "Mozilla/5.0 (compatible; Google-InspectionTool/1.0)": "Google other",
    log_site.BINGBOT: "Bingbot",
    "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17 Safari/605.1.15 (Applebot/0.1)": "Applebot",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)": "GPTBot",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)": "ClaudeBot",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)": "AhrefsBot",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)": "SemrushBot",
    "SomeNewCrawler/1.0 (+https://example.org/crawler)": "Other bot",
    log_site.FIREFOX: None,
    "": None,
}


@pytest.mark.parametrize("agent", AGENTS, ids=lambda a: a[:40] or "empty")
def test_user_agent_names_its_bot(agent):
    assert classify(agent) == AGENTS[agent]


def ranges(tmp_path, created="2026-11-30T23:00:00.000000", name="googlebot.json"):
    return read_ranges(log_site.ranges_file(tmp_path / name, created))


def test_addresses_inside_the_published_ranges(tmp_path):
    google = ranges(tmp_path)
    ips = ["192.0.2.10", "192.0.2.255", "192.0.3.1", "2001:db8::1", "2001:db9::1", "::ffff:192.0.2.7", "not-an-ip", ""]
    assert in_ranges(ips, [google]).tolist() == [True, True, False, True, False, True, False, False]


def test_verdicts_yes_no_unknown(tmp_path):
    by_name = {"googlebot": ranges(tmp_path)}
    pairs = [("Googlebot smartphone", "192.0.2.1"), ("Googlebot desktop", "198.51.100.9"), ("Bingbot", "203.0.113.5")]
    assert verify(pairs, by_name) == ["yes", "no", "unknown"]


def test_ranges_file_age_and_staleness(tmp_path):
    fresh, old = ranges(tmp_path), ranges(tmp_path, "2026-01-01T00:00:00Z", "special-crawlers.json")
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert (fresh.name, fresh.describe(now)["stale"], fresh.describe(now)["age_days"]) == ("googlebot", False, 0.0)
    assert (old.name, old.describe(now)["stale"]) == ("special-crawlers", True)


def test_bad_ranges_files_are_clear_errors(tmp_path):
    (tmp_path / "googlebot.json").write_text(json.dumps({"prefixes": [{"ipv4Prefix": "300.1.1.0/24"}]}))
    with pytest.raises(RangesError, match="published format"):
        read_ranges(tmp_path / "googlebot.json")
    log_site.ranges_file(tmp_path / "mybot.json")
    with pytest.raises(RangesError, match="no bot is verified by ranges named 'mybot'"):
        read_ranges(tmp_path / "mybot.json")
    assert read_ranges(f"bingbot={tmp_path / 'mybot.json'}").name == "bingbot"


class Resolver:
    """A DNS of a few names, counting the lookups."""

    def __init__(self, ptr: dict, a: dict):
        self.ptr, self.a, self.lookups = ptr, a, 0

    def reverse(self, ip):
        self.lookups += 1
        if ip not in self.ptr:
            raise OSError("NXDOMAIN")
        return self.ptr[ip]

    def forward(self, host):
        return self.a.get(host, [])


def test_dns_verification_reverse_then_forward_cached_and_bounded():
    dns = Resolver({"192.0.2.1": "crawl-192-0-2-1.googlebot.com.", "198.51.100.9": "crawl-1.googlebot.com",
                    "203.0.113.5": "evil.example.com"},
                   {"crawl-192-0-2-1.googlebot.com": ["192.0.2.1"], "crawl-1.googlebot.com": ["192.0.2.99"],
                    "evil.example.com": ["203.0.113.5"]})
    verifier = DnsVerifier(reverse=dns.reverse, forward=dns.forward, max_lookups=4)
    pairs = [("Googlebot desktop", "192.0.2.1"),      # proven
             ("Googlebot desktop", "198.51.100.9"),   # its name does not resolve back to it
             ("Googlebot desktop", "203.0.113.5"),    # not a Google name
             ("Googlebot desktop", "192.0.2.50"),     # no reverse name
             ("Googlebot desktop", "192.0.2.60")]     # past the bound: not looked up
    assert verify(pairs, {}, verifier) == ["yes", "no", "no", "no", "unknown"]
    assert (dns.lookups, verifier.skipped) == (4, 1)
    assert verify(pairs[:1], {}, verifier) == ["yes"] and dns.lookups == 4  # cached


def test_dns_lookups_stop_at_the_time_bound():
    import threading

    release = threading.Event()

    def slow_reverse(ip):
        release.wait(5)
        raise OSError("timeout")

    verifier = DnsVerifier(reverse=slow_reverse, forward=lambda host: [], max_seconds=0.2)
    try:
        assert verifier.hosts(["192.0.2.1", "192.0.2.2"]) == {}
        assert verifier.skipped == 2
    finally:
        release.set()


TARGETS = ["/a", "/a?b=1&c=2", "/a%20b", "/%7Euser", "/a'b(c)*", "/x?q=a:b@c", "/p?x=%E2%82%AC", "//x", "/a/../b",
           "/a b", '/q="x"', "/a?", "/a#frag", "/caf\u00e9", "/a?b=%zz", "http://Example.com:80/x", "/a?b?c"]


@pytest.mark.parametrize("target", TARGETS)
def test_plain_targets_need_no_normalising(target):
    """What the engine joins without normalise (plain targets) is what normalise would give."""
    expected = normalise("https://shop.test" + target) if target.startswith("/") else normalise(target)
    assert absolute_url(None, None, target, {"shop.test": "https"}, "shop.test") == expected
    if re.fullmatch(_PLAIN_TARGET, target):
        assert "https://shop.test" + target == expected
