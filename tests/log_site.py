"""A small site and the server logs of its visitors and bots, written by the tests themselves.

The logs hold verified Googlebot (documentation ranges 192.0.2.0/24 and 2001:db8::/32, in a
ranges file of the published format), spoofed Googlebot, an unverifiable Bingbot, visitors and
malformed lines, in each format seo-audit reads.
"""

from __future__ import annotations

import json

from seo_audit.sitekit import Reply, page, redirect

NAV = "".join(f"<a href='{p}'>{p}</a> " for p in (
    "/about", "/sale", "/old", "/noindex", "/products?color=red", "/products?color=blue", "/private/x", "/export"))

GOOGLEBOT_MOBILE = ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
                    "Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
                    "+http://www.google.com/bot.html)")
GOOGLEBOT_DESKTOP = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
VERIFIED_V4, VERIFIED_V6, SPOOFER, BING_IP, VISITOR = "192.0.2.10", "2001:db8::1", "198.51.100.9", "203.0.113.5", "203.0.113.77"


def routes() -> dict:
    return {
        "/": page("Home", f"<h1>Home</h1>{NAV}"),
        "/about": page("About", "<h1>About</h1>"),
        "/sale": Reply(202, "<html><title>Preparing the sale</title></html>"),
        "/old": redirect("/about", 301),
        "/noindex": page("Hidden", head="<meta name='robots' content='noindex'>"),
        "/products*": lambda hit: page(f"Products {hit.path}", f"<h1>Products in {hit.path[-4:]}</h1>"),
        "/private/x": page("Private"),
        "/in-sitemap-only": page("Only in the sitemap"),
        # a 202 whose status monitor is public, cacheable by shared caches and never expires
        "/export": Reply(202, "<html><title>Export queued</title></html>", headers=[("Location", "/export/status/7")]),
        "/export/status/7": Reply(200, '{"state": "done"}', "application/json",
                                  headers=[("Cache-Control", "public")]),
        "/robots.txt": Reply(200, "User-agent: *\nDisallow: /private/\n", "text/plain"),
    }


def add_sitemap(site_routes: dict, base: str) -> None:
    site_routes["/robots.txt"] = Reply(200, f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n",
                                       "text/plain")
    site_routes["/sitemap.xml"] = Reply(200, (
        "<?xml version='1.0' encoding='UTF-8'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"<url><loc>{base}/</loc></url><url><loc>{base}/about</loc></url>"
        f"<url><loc>{base}/in-sitemap-only</loc></url></urlset>"), "application/xml")


def ranges_file(path, created: str = "2026-11-30T23:00:00.000000") -> str:
    path.write_text(json.dumps({"creationTime": created, "prefixes": [
        {"ipv4Prefix": "192.0.2.0/24"}, {"ipv6Prefix": "2001:db8::/32"}]}))
    return str(path)


#: (ip, day of October 2026, time, method, target, status, user agent): the hits every format writes
HITS = [
    (VERIFIED_V4, 10, "08:00:00", "GET", "/sale", 202, GOOGLEBOT_MOBILE),
    (VERIFIED_V4, 10, "08:00:05", "GET", "/sale", 202, GOOGLEBOT_MOBILE),
    (VERIFIED_V4, 11, "09:30:00", "GET", "/sale", 202, GOOGLEBOT_DESKTOP),
    (VERIFIED_V4, 10, "08:01:00", "GET", "/", 200, GOOGLEBOT_MOBILE),
    (VERIFIED_V6, 11, "10:00:00", "GET", "/", 200, GOOGLEBOT_MOBILE),
    (VERIFIED_V4, 10, "08:02:00", "GET", "/old", 301, GOOGLEBOT_MOBILE),
    (VERIFIED_V4, 10, "08:03:00", "GET", "/gone-page", 404, GOOGLEBOT_MOBILE),
    (VERIFIED_V4, 10, "08:04:00", "GET", "/products?color=red", 200, GOOGLEBOT_MOBILE),
    (VERIFIED_V4, 11, "08:04:00", "GET", "/products?color=green", 200, GOOGLEBOT_MOBILE),
    (VERIFIED_V4, 11, "07:00:00", "GET", "/robots.txt", 503, GOOGLEBOT_MOBILE),
    (VERIFIED_V6, 11, "11:00:00", "GET", "/about", 500, GOOGLEBOT_MOBILE),
    (VERIFIED_V6, 11, "11:05:00", "GET", "/about", 200, GOOGLEBOT_MOBILE),
    (VERIFIED_V4, 11, "12:00:00", "GET", "/noindex", 202, GOOGLEBOT_MOBILE),
    (SPOOFER, 10, "12:00:00", "GET", "/about", 200, GOOGLEBOT_DESKTOP),
    (SPOOFER, 10, "12:00:01", "GET", "/noindex", 200, GOOGLEBOT_DESKTOP),
    (BING_IP, 10, "13:00:00", "GET", "/about", 200, BINGBOT),
    (VISITOR, 10, "14:00:00", "GET", "/about", 200, FIREFOX),
    (VISITOR, 10, "14:00:01", "GET", "/?secret=visitor-only", 200, FIREFOX),
    (VISITOR, 11, "14:00:02", "GET", "/sale", 202, FIREFOX),
]
GOOGLEBOT_HITS = 13  # verified: the first thirteen
SPOOFED_HITS, BOT_HITS, VISITOR_HITS = 2, 15, 3


def combined_line(ip, day, clock, method, target, status, ua, vhost: str | None = None) -> str:
    head = f"{vhost} " if vhost else ""
    return (f'{head}{ip} - - [{day:02d}/Oct/2026:{clock} +0000] "{method} {target} HTTP/1.1" {status} 512 '
            f'"-" "{ua}"')


#: malformed lines, each with the reason the reader gives (combined format)
MALFORMED = [
    ('192.0.2.10 - - [10/Oct/2026:08:00:00 +0000] "GET /trunc', "not a combined line"),
    (f'192.0.2.10 - - [99/Xxx/2026:08:00:00 +0000] "GET /bad-date HTTP/1.1" 200 1 "-" "{GOOGLEBOT_MOBILE}"',
     "bad date"),
    ("just some words <script>alert(1)</script>", "not a combined line"),
]
#: bot lines that are odd but readable: quotes and spaces in the URL, a 10 KB URL
ODD_TARGETS = ['/search?q=\\"quoted\\" value', "/a b", "/" + "x" * 10_000]


def combined_log(vhost: str | None = None) -> bytes:
    lines = [combined_line(*hit, vhost=vhost) for hit in HITS]
    lines += [line for line, _ in MALFORMED]
    lines += [combined_line(BING_IP, 12, "00:00:00", "GET", target, 404, BINGBOT, vhost=vhost) for target in ODD_TARGETS]
    text = "\n".join(lines[:8] + [""] + lines[8:]) + "\n"  # a blank line is skipped, not counted
    return text.encode() + b"\xff\xfe\x00 binary garbage\n"


def w3c_log(cloudfront: bool = False, host: str = "") -> bytes:
    from urllib.parse import quote

    if cloudfront:
        fields = ("date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
                  "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header "
                  "cs-protocol cs-bytes time-taken")
        rows = []
        for ip, day, clock, method, target, status, ua in HITS:
            stem, _, query = target.partition("?")
            rows.append("\t".join([f"2026-10-{day:02d}", clock, "FRA2", "512", ip, method, "d1.cloudfront.net", stem,
                                   str(status), "-", quote(ua), query or "-", "-", "Miss", "id", host, "http",
                                   "100", "0.250"]))
        return ("#Version: 1.0\n#Fields: " + fields + "\n" + "\n".join(rows) + "\nbroken\tline\n").encode()
    fields = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status time-taken"
    rows = []
    for ip, day, clock, method, target, status, ua in HITS:
        stem, _, query = target.partition("?")
        rows.append(" ".join([f"2026-10-{day:02d}", clock, "10.0.0.1", method, stem, query or "-", "80", "-", ip,
                              ua.replace(" ", "+"), str(status), "120"]))
    return ("#Software: Microsoft Internet Information Services 10.0\r\n#Fields: " + fields + "\r\n"
            + "\r\n".join(rows) + "\r\n2026-10-10 too few fields\r\n").encode()


def cloudflare_log(host: str) -> bytes:
    rows = [json.dumps({"ClientIP": ip, "ClientRequestHost": host, "ClientRequestMethod": method,
                        "ClientRequestURI": target, "EdgeResponseStatus": status, "EdgeResponseBytes": 512,
                        "EdgeStartTimestamp": f"2026-10-{day:02d}T{clock}Z", "ClientRequestUserAgent": ua,
                        "ClientRequestScheme": "http", "EdgeTimeToFirstByteMs": 80})
            for ip, day, clock, method, target, status, ua in HITS]
    return ("\n".join(rows) + "\n{not json\n").encode()
