"""The crawl-engine fixture site: one planted case per thing a crawl must record.

Each route is named after what it plants. Served by seo_audit.sitekit on 127.0.0.1:0.
"""

from __future__ import annotations

import gzip

from seo_audit.sitekit import Reply, page, redirect

NAV = "".join(f"<a href='{p}'>{p}</a> " for p in (
    "/", "/about", "/chain/1", "/loop/a", "/gone", "/server-error", "/flaky", "/accepted",
    "/accepted-forever", "/private/secret", "/noindex", "/canonicalised", "/calendar?month=1",
    "/slow", "/huge", "/binary.bin", "/latin1", "/files/report.pdf", "/broken.pdf",
    "/no-head", "/mail-only", "/to-about-again", "/offsite-redirect", "/base/", "/nofollowed-page",
    "/malformed", "/Case-Page", "/session?sid=1", "/a/"))


def routes(huge_bytes: int = 3 * 1024 * 1024) -> dict:
    sitemap = None  # filled by the test once the port is known (absolute URLs)
    filler = "<p>" + "lorem ipsum dolor sit amet " * 40 + "</p>"
    huge_body = ("<html><head><title>Huge</title></head><body>"
                 + filler * (huge_bytes // len(filler))
                 + "<a href='/end-of-huge'>link at the very end</a></body></html>")
    return {
        "/": page("Home", f"<h1>Home</h1>{NAV}<img src='/logo.png' alt='logo'>"
                          "<img src='/missing.png' alt='missing'>"
                          "<link rel='stylesheet' href='/style.css'>"
                          "<a href='mailto:x@example.com'>mail</a> <a href='tel:+100'>tel</a> "
                          "<a href='javascript:void(0)'>js</a> <a href='#top'>top</a> "
                          "<a href='https://external.example/'>external</a> "
                          "<a href='//external.example/proto'>protocol-relative</a>"),
        "/about": page("About", "<h1>About</h1><a href='/'>home</a>"),
        "/chain/1": redirect("/chain/2", 301),
        "/chain/2": redirect("/chain/3", 302),
        "/chain/3": redirect("/about", 301),  # a 3-hop chain ending on an already-seen URL
        "/to-about-again": redirect("/about", 301),
        "/loop/a": redirect("/loop/b"),
        "/loop/b": redirect("/loop/c"),
        "/loop/c": redirect("/loop/a"),
        "/offsite-redirect": redirect("https://external.example/landing", 302),
        "/gone": page("Gone", "<h1>Gone</h1>", status=404),
        "/server-error": page("Oops", status=500),
        "/flaky": lambda hit: page("Flaky", status=503) if hit.count == 1 else page("Flaky ok"),
        "/accepted": lambda hit: (Reply(202, "<html><title>Processing</title></html>",
                                        headers=[("Retry-After", "1"), ("Location", "/jobs/1")])
                                  if hit.count == 1 else page("Accepted, now ready")),
        "/accepted-forever": Reply(202, "<html><title>Please wait</title></html>"),
        "/jobs/1": Reply(200, '{"state": "done"}', "application/json"),
        "/private/secret": page("Secret"),
        "/noindex": page("Noindex", head="<meta name='robots' content='noindex, nofollow'>",
                         body="<a href='/only-from-noindex'>x</a>"),
        "/only-from-noindex": page("Only from a nofollow page"),
        "/canonicalised": page("Canon", head="<link rel='canonical' href='/about'>",
                               headers=[("Link", '</about>; rel="canonical"'),
                                        ("X-Robots-Tag", "noarchive")]),
        "/calendar*": lambda hit: page("Calendar", "<a href='/calendar?month=%d'>next</a>"
                                       % (int(hit.path.rsplit("=", 1)[-1]) + 1)),
        "/session*": lambda hit: page("Session", "<a href='/session?sid=%d'>again</a>"
                                      % (int(hit.path.rsplit("=", 1)[-1]) + 1)),
        "/a/*": lambda hit: page("Deeper", "<a href='a/'>deeper</a>"),  # /a/a/a/... grows forever
        "/slow": Reply(200, "<html><title>Slow</title></html>", delay=30),
        "/huge": Reply(200, huge_body),
        "/end-of-huge": page("End of huge"),
        "/binary.bin": Reply(200, bytes(range(256)) * 64, "text/html"),
        "/latin1": Reply(200, "<html><head><title>Caf\xe9 cr\xe8me</title></head><body>\x00ok</body></html>"
                         .encode("latin-1"), "text/html; charset=iso-8859-1"),
        "/files/report.pdf": Reply(200, b"%PDF-1.4 tiny", "application/pdf"),
        "/broken.pdf": Reply(404, b"", "application/pdf"),
        "/no-head": lambda hit: (Reply(405, b"", None) if hit.method == "HEAD"
                                 else page("HEAD not allowed here")),
        "/logo.png": Reply(200, b"\x89PNG\r\n", "image/png"),
        "/style.css": Reply(200, "body{}", "text/css"),
        "/base/": page("Base", head="<base href='/elsewhere/'>", body="<a href='target'>rel</a>"),
        "/elsewhere/target": page("Resolved against base"),
        "/nofollowed-page": page("Nofollow links", "<a href='/only-nofollow' rel='nofollow'>nf</a>"),
        "/only-nofollow": page("Should not be crawled"),
        "/malformed": Reply(200, "<html><head><title>Malformed</title><body><div><p><a href='/from-malformed'>x"
                                 "<table><tr><td><a href=/unquoted>y</a>"),
        "/from-malformed": page("From malformed"),
        "/unquoted": page("Unquoted"),
        "/Case-Page": page("Case"),
        "/mail-only": page("Mail", "<a href='mailto:a@b.c'>only mail</a>"),
        "/robots.txt": Reply(200, "User-agent: *\nDisallow: /private/\n\nSitemap: /sitemap.xml.gz\n",
                             "text/plain"),
        "/sitemap.xml.gz": sitemap,
        "/orphan": page("Orphan, only in the sitemap"),
    }


def add_sitemap(site_routes: dict, base: str) -> None:
    """A gzipped sitemap index -> sitemap (with an orphan and a blocked URL), absolute URLs."""
    child = ("<?xml version='1.0' encoding='UTF-8'?>"
             "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
             f"<url><loc>{base}/</loc><lastmod>2026-11-01</lastmod></url>"
             f"<url><loc>{base}/orphan</loc></url>"
             f"<url><loc>{base}/private/in-sitemap</loc></url>"
             f"<url><loc>{base}/about</loc></url></urlset>")
    index = ("<?xml version='1.0' encoding='UTF-8'?>"
             "<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
             f"<sitemap><loc>{base}/sitemap-pages.xml</loc></sitemap>"
             f"<sitemap><loc>{base}/sitemap.xml.gz</loc></sitemap></sitemapindex>")  # lists itself
    site_routes["/sitemap.xml.gz"] = Reply(200, gzip.compress(index.encode()), "application/x-gzip")
    site_routes["/sitemap-pages.xml"] = Reply(200, child, "application/xml")
