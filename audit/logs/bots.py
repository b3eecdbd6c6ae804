"""Which bot a user agent claims to be, and whether its IP address proves it.

``BOTS`` is the one table of known crawlers: the first row whose pattern matches a user agent
names it. A bot is *verified* when its IP address is inside the ranges its operator publishes
(files in the format of Google's ``googlebot.json``: ``{"creationTime": ..., "prefixes":
[{"ipv4Prefix": ...}, {"ipv6Prefix": ...}]}``), or when a reverse DNS lookup names a host of
the operator's domains and the forward lookup of that host gives the IP back. A dated snapshot
of Google's published files ships in ``ranges/`` (``SHIPPED``: googlebot, special-crawlers,
user-triggered-fetchers, as Google publishes them, each with its ``creationTime``); a file given
with ``--bot-ranges`` replaces the snapshot of its name. Ranges older than STALE_AFTER_DAYS are
reported as stale.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
import socket
import time
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np


@dataclass(frozen=True)
class Bot:
    name: str  # as reports show it: "Googlebot smartphone"
    pattern: str  # regular expression on the user agent, case-insensitive
    ranges: str | None  # the published ranges file (its stem) that verifies it
    domains: tuple[str, ...] = ()  # reverse-DNS names it must have (``--verify-dns``)
    google_search: bool = False  # counts as Googlebot in the crawl-budget figures


_GOOGLE = ("googlebot.com", "google.com", "googleusercontent.com")

#: known crawlers, first match wins: the specific ones before the families that contain them
BOTS: tuple[Bot, ...] = (
    Bot("Googlebot image", r"Googlebot-Image", "googlebot", _GOOGLE, google_search=True),
    Bot("Googlebot video", r"Googlebot-Video", "googlebot", _GOOGLE, google_search=True),
    Bot("Googlebot news", r"Googlebot-News", "googlebot", _GOOGLE, google_search=True),
    Bot("Googlebot smartphone", r"Googlebot/\d.*(?:Mobile|Android)|(?:Mobile|Android).*Googlebot/\d",
        "googlebot", _GOOGLE, google_search=True),
    Bot("Googlebot desktop", r"Googlebot/\d|\bGooglebot\b", "googlebot", _GOOGLE, google_search=True),
    Bot("AdsBot", r"AdsBot-Google|Mediapartners-Google", "special-crawlers", _GOOGLE),
    Bot("Google other", r"GoogleOther|Google-InspectionTool|Storebot-Google|APIs-Google|"
                        r"FeedFetcher-Google|Google-Read-Aloud|Google-Site-Verification|"
                        r"Google-Extended|Google-CloudVertexBot|GoogleProducer",
        "user-triggered-fetchers", _GOOGLE),
    Bot("Bingbot", r"bingbot|BingPreview|msnbot|adidxbot", "bingbot", ("search.msn.com",)),
    Bot("Applebot", r"Applebot", "applebot", ("applebot.apple.com",)),
    Bot("GPTBot", r"GPTBot|ChatGPT-User|OAI-SearchBot", "gptbot"),
    Bot("ClaudeBot", r"ClaudeBot|Claude-User|Claude-SearchBot|anthropic-ai", "claudebot"),
    Bot("PerplexityBot", r"PerplexityBot|Perplexity-User", "perplexitybot"),
    Bot("AhrefsBot", r"AhrefsBot|AhrefsSiteAudit", None),
    Bot("SemrushBot", r"SemrushBot|SiteAuditBot", None),
    Bot("YandexBot", r"YandexBot|YandexImages|YandexMobileBot", None, ("yandex.ru", "yandex.net", "yandex.com")),
    Bot("Baiduspider", r"Baiduspider", None, ("baidu.com", "baidu.jp")),
    Bot("DuckDuckBot", r"DuckDuckBot|DuckAssistBot", "duckduckbot"),
    Bot("Amazonbot", r"Amazonbot", None),
    Bot("Bytespider", r"Bytespider", None),
    Bot("CCBot", r"CCBot", None),
    Bot("Meta", r"facebookexternalhit|meta-externalagent|Facebot", None),
    Bot("MJ12bot", r"MJ12bot", None),
    Bot("DotBot", r"DotBot", None),
    Bot("PetalBot", r"PetalBot", None),
    Bot("Screaming Frog", r"Screaming Frog", None),
    Bot("Other bot", r"bot\b|crawler|spider|slurp|\bcrawl", None),
)

_COMPILED = [(bot, re.compile(bot.pattern, re.IGNORECASE)) for bot in BOTS]
BY_NAME: dict[str, Bot] = {bot.name: bot for bot in BOTS}

#: one regular expression (RE2 and Python) true for every user agent some row of BOTS matches:
#: the engine keeps only those lines
PREFILTER = "(?i)" + "|".join(f"(?:{bot.pattern})" for bot in BOTS)

#: a ranges file older than this is reported as stale
STALE_AFTER_DAYS = 90


def classify(user_agent: str | None) -> str | None:
    """The name of the bot a user agent claims to be, None for anything else (a visitor)."""
    if not user_agent:
        return None
    for bot, pattern in _COMPILED:
        if pattern.search(user_agent):
            return bot.name
    return None


@dataclass
class Ranges:
    """The IP ranges of one published file: ``name`` is the file's stem (``googlebot``)."""

    name: str
    path: str
    created: datetime | None
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
    shipped: bool = False  # the snapshot in SHIPPED, not a file the user gave

    def age_days(self, now: datetime | None = None) -> float | None:
        if self.created is None:
            return None
        return ((now or datetime.now(timezone.utc)) - self.created).total_seconds() / 86400

    def describe(self, now: datetime | None = None) -> dict:
        age = self.age_days(now)
        return {"name": self.name, "file": self.path, "creation_time": self.created.isoformat() if self.created else None,
                "prefixes": len(self.networks), "age_days": None if age is None else round(age, 1),
                "stale": age is None or age > STALE_AFTER_DAYS, "shipped": self.shipped}


class RangesError(ValueError):
    """A ranges file that cannot be read."""


def read_ranges(spec: str | Path) -> Ranges:
    """A ranges file, ``PATH`` (verifying the bots whose ``ranges`` is the file's stem) or
    ``NAME=PATH`` (the bots whose ``ranges`` is NAME)."""
    text = str(spec)
    name, sep, path = text.partition("=")
    if not sep or "/" in name:
        name, path = Path(text).stem, text
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        prefixes = data["prefixes"]
        networks = [ipaddress.ip_network(p.get("ipv4Prefix") or p["ipv6Prefix"], strict=False) for p in prefixes]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RangesError(f"bot ranges {path}: not a ranges file in the published format "
                          f"({{\"creationTime\": ..., \"prefixes\": [{{\"ipv4Prefix\": ...}}]}}): {exc}") from exc
    created = None
    if data.get("creationTime"):
        try:
            created = datetime.fromisoformat(str(data["creationTime"]).replace("Z", "+00:00"))
            created = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
        except ValueError:
            created = None
    known = {bot.ranges for bot in BOTS if bot.ranges}
    if name not in known:
        raise RangesError(f"bot ranges {path}: no bot is verified by ranges named {name!r}; name the "
                          f"file after one of {', '.join(sorted(known))} or give NAME=PATH")
    return Ranges(name, str(path), created, networks)


#: the snapshot of Google's published ranges files that ships with the package
SHIPPED = Path(__file__).parent / "ranges"


def shipped_ranges() -> list[Ranges]:
    """The ranges of the snapshot in SHIPPED, one per file."""
    return [dataclasses.replace(read_ranges(path), shipped=True) for path in sorted(SHIPPED.glob("*.json"))]


def _as_int(ip: str) -> tuple[int, int] | None:
    """(version, integer) of an IP address text, None if it is not one."""
    try:
        address = ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.version, int(address)


def _merged(ranges: Iterable[Ranges], version: int) -> tuple[list[int], list[int]]:
    """The networks of one IP version as sorted, non-overlapping (start, end) integer bounds."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted((int(n.network_address), int(n.broadcast_address))
                             for r in ranges for n in r.networks if n.version == version):
        if ends and start <= ends[-1] + 1:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def in_ranges(ips: Iterable[str], ranges: Iterable[Ranges]) -> np.ndarray:
    """Whether each IP address is inside one of the networks (binary search over their merged
    bounds: a few thousand prefixes, a hundred thousand addresses)."""
    ranges = list(ranges)
    bounds = {version: _merged(ranges, version) for version in (4, 6)}
    inside = []
    for ip in ips:
        value = _as_int(ip)
        if value is None:
            inside.append(False)
            continue
        starts, ends = bounds[value[0]]
        pos = bisect_right(starts, value[1]) - 1
        inside.append(pos >= 0 and ends[pos] >= value[1])
    return np.array(inside, dtype=bool)


# --- DNS ------------------------------------------------------------------------------------

#: at most this many addresses are looked up in one run, within this many seconds
DNS_MAX_LOOKUPS = 500
DNS_MAX_SECONDS = 30.0


@dataclass
class DnsVerifier:
    """Reverse then forward DNS of bot IPs, cached, bounded in count and time. ``reverse`` and
    ``forward`` are the resolver (socket's by default): reverse(ip) -> host name, forward(host)
    -> its addresses; either raises OSError when the name does not resolve."""

    reverse: Callable[[str], str] = lambda ip: socket.gethostbyaddr(ip)[0]
    forward: Callable[[str], list[str]] = lambda host: [a[4][0] for a in socket.getaddrinfo(host, None)]
    max_lookups: int = DNS_MAX_LOOKUPS
    max_seconds: float = DNS_MAX_SECONDS
    clock: Callable[[], float] = time.monotonic
    cache: dict[str, str | None] = field(default_factory=dict)  # ip -> host name proven, or None
    skipped: int = 0  # addresses not looked up: past the bounds

    def hosts(self, ips: Iterable[str]) -> dict[str, str | None]:
        """Each address's proven host name (None if the lookups disprove it); addresses the
        bounds left out are missing from the answer."""
        todo = [ip for ip in dict.fromkeys(ips) if ip not in self.cache]
        allowed = todo[: max(0, self.max_lookups - len(self.cache))]
        self.skipped += len(todo) - len(allowed)
        if allowed:
            deadline = self.clock() + self.max_seconds
            pool = ThreadPoolExecutor(max_workers=min(16, len(allowed)))
            futures = {pool.submit(self._prove, ip): ip for ip in allowed}
            done, late = wait(futures, timeout=max(0.0, deadline - self.clock()))
            pool.shutdown(wait=False, cancel_futures=True)
            for future in done:
                self.cache[futures[future]] = future.result()
            self.skipped += len(late)
        return {ip: self.cache[ip] for ip in ips if ip in self.cache}

    def _prove(self, ip: str) -> str | None:
        try:
            host = self.reverse(ip).rstrip(".").lower()
            addresses = self.forward(host)
        except (OSError, UnicodeError):
            return None
        wanted = _as_int(ip)
        return host if any(_as_int(a) == wanted for a in addresses) else None


def host_in_domains(host: str | None, domains: tuple[str, ...]) -> bool:
    return bool(host) and any(host == d or host.endswith("." + d) for d in domains)


def verify(pairs: "Iterable[tuple[str, str]]", ranges: Mapping[str, Ranges],
           dns: DnsVerifier | None = None) -> list[str]:
    """For each (bot name, IP): 'yes' (inside its published ranges, or proven by DNS), 'no'
    (its ranges or DNS were consulted and disprove it: spoofed), or 'unknown' (nothing to check
    it against)."""
    pairs = list(pairs)
    verdicts = ["unknown"] * len(pairs)
    by_ranges: dict[str, list[int]] = {}
    for i, (name, _) in enumerate(pairs):
        bot = BY_NAME[name]
        if bot.ranges and bot.ranges in ranges:
            by_ranges.setdefault(bot.ranges, []).append(i)
    for key, rows in by_ranges.items():
        inside = in_ranges([pairs[i][1] for i in rows], [ranges[key]])
        for i, ok in zip(rows, inside):
            verdicts[i] = "yes" if ok else "no"
    if dns is not None:
        rows = [i for i, (name, _) in enumerate(pairs) if verdicts[i] != "yes" and BY_NAME[name].domains]
        hosts = dns.hosts([pairs[i][1] for i in rows])
        for i in rows:
            ip = pairs[i][1]
            if ip in hosts:
                verdicts[i] = "yes" if host_in_domains(hosts[ip], BY_NAME[pairs[i][0]].domains) else "no"
    return verdicts
