"""The demo site: "Acme Outdoor", a small shop and blog with a planted problem for every rule.

Served by ``seo_audit.sitekit.SiteServer`` (``seo-audit demo``, and the end-to-end rule tests).
Every page carries the same navigation and footer, as real sites do. Where the problems are:

- 202 Accepted: /sale (nav; 202 with Retry-After, 200 from the second request on),
  /reports/annual (always 202; in the sitemap; its status URL answers anyone, cacheable, with
  no expiry),
  /gift-cards (202, then 500), /checkout/status (202 with neither a status URL nor Retry-After),
  /api/export (a JSON job endpoint answering 202, linked from /account; its status URL
  /api/jobs/42 answers 404).
- Other statuses: /newsletter/subscribe (204), /lookbook (203), /shop/discontinued-tent (404),
  /img/missing.jpg and /files/size-guide.pdf (404 image and PDF), /shop/compare (500),
  /stores (429, then 200), /shop/boots (503, then 200), /warranty (connection reset),
  /blog/<anything unknown> (200 "Post not found": a soft-404 section, e.g. /blog/2019/old-post).
- Redirects: /shop/tents (nav, 301), /old-blog (3 hops), /members <-> /login (loop),
  /promo/a .. /promo/l (12 hops), /black-friday (302), /catalog-2024 (meta refresh),
  /shop/old-stove (301 to a 404), /facebook (301 off-site).
- robots.txt: 503 on the first request; disallows /cart/ (linked in the nav) and /private/
  (/private/press-kit is in the sitemap, /private/it/ is an hreflang alternate of the home page).
- Indexability: /wishlist (noindex, linked from every footer), /shop/stove-mini (canonical to
  a redirect), /shop/lantern (canonical to a 404), /blog/packing-list-print (canonical to the
  noindex /blog/drafts/packing-list), /shop/tent-alpine-red -> -green -> /shop/tent-alpine
  (canonical chain, linked), /shop/backpack (Link header canonical disagrees with the HTML),
  /blog/gear-guide (two canonicals), /docs/manual (file:/// canonical), /blog/tent-review
  (canonical to another host).
- Sitemaps: sitemap.xml lists /old-products (redirect), /wishlist (noindex), /shop/tent-alpine-red
  (canonicalised), /private/press-kit (blocked), /shop/discontinued-tent (404) and
  /landing/spring (an orphan) and a URL of another host (the old shop's domain); robots.txt also names /sitemap-news.xml, which answers 404;
  /shop/headlamps is an indexable page missing from the sitemap.
- Crawl efficiency: /events?month=N (an endless calendar), /shop/jackets under /Shop/Jackets and
  ?sessionid=... (URL variants), /shop?sort=..&view=.. in both orders, /blog/winter-tips-copy
  (duplicate text and title), /shop/gloves and /shop/mittens (same title), /shop/socks and
  /shop/hats (same description), /blog/archive/2019/spring/first-trip (6 clicks deep),
  /shop/configurator (slow), /blog/lookbook-full (1.2 MB of HTML), a rel=nofollow link on /blog,
  hreflang on / (fr alternate 404, es alternate without a return link), /search/<term> (24
  noindex search results linked from /blog: a URL family wasting the crawl).
- On-page: /shop/mystery-box (empty title), /contact (no description), /faq (no h1),
  /blog/big-news (two h1).

Clean pages for the negatives: CLEAN_PATHS. The exact rule -> path map is PLANTED.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from urllib.parse import quote, unquote

from seo_audit.sitekit import Hit, Reply, page, redirect

SITE = "Acme Outdoor"

NAV = [("/", "Home"), ("/shop", "Shop"), ("/blog", "Blog"), ("/sale", "Sale"), ("/shop/tents", "Tents"),
       ("/events?month=1", "Events"), ("/about", "About"), ("/cart/", "Cart")]
FOOTER = [("/contact", "Contact"), ("/faq", "FAQ"), ("/wishlist", "Wishlist"), ("/members", "Members"),
          ("/stores", "Stores"), ("/account", "Account")]

#: listed in the sitemap too, though on another host: never fetched
OLD_SHOP_URL = "https://old-shop.acme.example/tents/alpine"

#: rule id -> paths where the demo plants it (what the end-to-end test asserts); another host's URL in full
PLANTED: dict[str, list[str]] = {
    "crawlable-202": ["/sale", "/reports/annual", "/gift-cards", "/checkout/status"],
    "crawlable-202-api-endpoint": ["/api/export"],
    "202-persistent": ["/reports/annual"],
    "202-settled-200": ["/sale"],
    "202-settled-error": ["/gift-cards"],
    "202-without-status-url-or-retry-after": ["/checkout/status"],
    "202-in-sitemap": ["/reports/annual"],
    "202-status-url-error": ["/api/export"],
    "status-monitor-public-indexable": ["/reports/annual/status"],
    "status-monitor-shared-cacheable": ["/reports/annual/status"],
    "status-monitor-no-expiry": ["/reports/annual/status"],
    "crawlable-204": ["/newsletter/subscribe"],
    "unexpected-203-206": ["/lookbook"],
    "internal-4xx": ["/shop/discontinued-tent", "/img/missing.jpg", "/files/size-guide.pdf"],
    "internal-5xx": ["/shop/compare"],
    "rate-limited-429": ["/stores"],
    "network-error": ["/warranty"],
    "recovered-after-errors": ["/shop/boots"],
    "soft-404": ["/blog/2019/old-post"],
    "internal-link-to-redirect": ["/shop/tents", "/old-blog"],
    "redirect-chain": ["/old-blog"],
    "redirect-loop": ["/members", "/login"],
    "redirect-chain-too-long": ["/promo/a"],
    "temporary-redirect": ["/black-friday"],
    "meta-refresh-redirect": ["/catalog-2024"],
    "redirect-to-error": ["/shop/old-stove"],
    "redirect-off-site": ["/facebook"],
    "linked-but-blocked": ["/cart/"],
    "blocked-in-sitemap": ["/private/press-kit"],
    "blocked-canonical-or-hreflang-target": ["/private/it/"],
    "robots-txt-error": ["/robots.txt"],
    "noindex-linked": ["/wishlist"],
    "canonical-to-redirect": ["/shop/stove-mini"],
    "canonical-to-error": ["/shop/lantern"],
    "canonical-to-noindex": ["/blog/packing-list-print"],
    "canonical-chain": ["/shop/tent-alpine-red"],
    "canonical-conflict": ["/shop/backpack"],
    "canonicalised-linked": ["/shop/tent-alpine-red"],
    "multiple-canonicals": ["/blog/gear-guide"],
    "canonical-not-http": ["/docs/manual"],
    "canonical-other-host": ["/blog/tent-review"],
    "sitemap-non-200": ["/shop/discontinued-tent"],
    "sitemap-redirect": ["/old-products"],
    "sitemap-noindex": ["/wishlist"],
    "sitemap-canonicalised": ["/shop/tent-alpine-red"],
    "sitemap-other-host": [OLD_SHOP_URL],
    "missing-from-sitemap": ["/shop/headlamps"],
    "orphan-page": ["/landing/spring"],
    "sitemap-file-error": ["/sitemap-news.xml"],
    "crawl-trap": ["/events?month=1"],
    "duplicate-url-variants": ["/shop/jackets", "/Shop/Jackets", "/shop?sort=price&view=grid"],
    "duplicate-content": ["/blog/winter-tips", "/blog/winter-tips-copy"],
    "duplicate-title": ["/shop/gloves", "/shop/mittens"],
    "duplicate-meta-description": ["/shop/socks", "/shop/hats"],
    "deep-page": ["/blog/archive/2019/spring/first-trip"],
    "slow-response": ["/shop/configurator"],
    "large-html": ["/blog/lookbook-full"],
    "nofollow-internal-link": ["/blog"],
    "hreflang-to-non-200": ["/"],
    "hreflang-not-reciprocal": ["/"],
    "missing-title": ["/shop/mystery-box"],
    "missing-meta-description": ["/contact"],
    "missing-h1": ["/faq"],
    "multiple-h1": ["/blog/big-news"],
    "near-duplicate-content": ["/shop/tent-trail", "/shop/tent-trail-xl"],
    "invalid-json-ld": ["/shop/tent-trail"],
    "structured-data-missing-properties": ["/shop/tent-trail-xl"],
    "url-family-waste": ["/search/backpacks"],
}

#: rule id -> paths where the demo's JavaScript pages (linked from /apps) plant it: they show only in
#: a rendered crawl (`seo-audit demo --render auto`)
PLANTED_RENDERED: dict[str, list[str]] = {
    "noindex-only-in-raw-html": ["/shop/flash-sale"],
    "noindex-added-by-js": ["/shop/clearance"],
    "canonical-changed-by-js": ["/shop/tent-alpine-blue"],
    "title-changed-by-js": ["/shop/tent-alpine-blue"],
    "meta-description-changed-by-js": ["/shop/tent-alpine-blue"],
    "h1-changed-by-js": ["/shop/lookbook-app"],
    "links-only-in-rendered-dom": ["/stores/finder"],
    "content-only-after-rendering": ["/shop/lookbook-app"],
    "rendered-placeholder-after-202": ["/reports/live"],
    "js-redirect": ["/go/app"],
    "soft-404-rendered-by-js": ["/shop/retired-stove"],
    "render-error": ["/blog/widget"],
}

#: pages with nothing wrong: no rule may flag them
CLEAN_PATHS = ["/shop/tent-alpine", "/shop/camping-tents", "/shop/camping-stoves", "/shop/sleeping-bags",
               "/blog/first-night-outdoors", "/about"]

PRODUCTS = {
    "/shop/tent-alpine": "Alpine two-person tent",
    "/shop/camping-tents": "Camping tents",
    "/shop/camping-stoves": "Camping stoves",
    "/shop/sleeping-bags": "Sleeping bags",
    "/shop/headlamps": "Headlamps",
    "/shop/jackets": "Rain jackets",
    "/shop/boots": "Hiking boots",
    "/shop/backpack": "Backpack 35 L",
    "/shop/socks": "Wool socks",
    "/shop/hats": "Sun hats",
    "/shop/configurator": "Tent configurator",
}
POSTS = {
    "/blog/first-night-outdoors": "Your first night outdoors",
    "/blog/winter-tips": "Winter camping tips",
    "/blog/gear-guide": "Gear guide",
    "/blog/big-news": "Big news",
    "/blog/packing-list-print": "Packing list (print)",
}
# Listed in the sitemap: the clean pages and the pages whose problem is not "missing from it".
SITEMAP_PATHS = ["/", "/shop", "/blog", "/about", "/contact", "/faq", *PRODUCTS, *POSTS,
                 "/shop/gloves", "/shop/mittens", "/shop/lantern", "/shop/stove-mini", "/shop/mystery-box",
                 "/blog/winter-tips-copy", "/blog/lookbook-full", "/docs/manual",
                 "/blog/archive/2019/spring/first-trip",
                 "/reports/annual", "/old-products", "/wishlist", "/shop/tent-alpine-red",
                 "/private/press-kit", "/shop/discontinued-tent", "/landing/spring",
                 "/shop/tent-trail", "/shop/tent-trail-xl"]
SITEMAP_PATHS.remove("/shop/headlamps")


def _links(items: list[tuple[str, str]]) -> str:
    return " ".join(f"<a href='{href}'>{escape(text)}</a>" for href, text in items)


def shop_page(title: str, main: str, *, description: str | None = None, head: str = "",
              h1: str | None = None, status: int = 200, headers: list[tuple[str, str]] | None = None,
              full_title: str | None = None) -> Reply:
    """A page of the site: head, nav, one h1 (unless ``h1=""``), ``main``, footer."""
    if description is None:
        description = f"{title} at {SITE}: gear for nights outside."
    meta = f"<meta name='description' content='{escape(description)}'>" if description else ""
    heading = f"<h1>{escape(title if h1 is None else h1)}</h1>" if (h1 is None or h1) else ""
    body = (f"<nav>{_links(NAV)}</nav><main>{heading}{main}</main>"
            f"<footer>{_links(FOOTER)}</footer>")
    return page(f"{title} | {SITE}" if full_title is None else full_title, body, head=meta + head,
                status=status, headers=headers)


def _text(topic: str) -> str:
    return (f"<p>{escape(topic)}: tested on long trails, chosen for weight and warmth, "
            "and backed by our two-year warranty. Free returns within thirty days.</p>")


def _on_later_hits(first: Reply, later: Reply):
    """First request gets ``first``, every later one ``later`` (a job that finishes, a flaky upstream)."""
    return lambda hit: first if hit.count == 1 else later


def _events(hit: Hit) -> Reply:
    # An endless calendar: every month links to the next one.
    month = int(hit.path.rsplit("=", 1)[-1]) if "month=" in hit.path else 1
    return shop_page(f"Events, month {month}", f"<p>Workshops and trips in month {month}.</p>"
                     f"<a href='/events?month={month + 1}'>Next month</a>")


def _promo(hit: Hit) -> Reply:
    # /promo/a -> /promo/b -> ... -> /promo/l -> /sale: twelve hops
    letter = hit.path.rstrip("/").rsplit("/", 1)[-1][:1]
    return redirect("/sale" if letter >= "l" else f"/promo/{chr(ord(letter) + 1)}", 301)


#: "Popular searches" on the blog: a URL family of noindex search results
SEARCHES = ["tents", "stoves", "sleeping bags", "boots", "socks", "hats", "gloves", "mittens",
            "lanterns", "backpacks", "jackets", "maps", "knives", "cups", "pots", "tarps",
            "hammocks", "poles", "pegs", "headlamps", "filters", "stools", "tables", "chairs"]


def _search(hit: Hit) -> Reply:
    term = unquote(hit.path.split("/search/", 1)[-1]).strip("/")
    return shop_page(f"Search: {term}", f"<p>Results for {escape(term)}: see the shop.</p>",
                     head="<meta name='robots' content='noindex, follow'>")


def _robots(hit: Hit) -> Reply:
    if hit.count == 1:
        return Reply(503, "busy", "text/plain")
    return Reply(200, "User-agent: *\nDisallow: /cart/\nDisallow: /private/\n\n"
                      f"Sitemap: {hit.server.url}/sitemap.xml\nSitemap: {hit.server.url}/sitemap-news.xml\n",
                 "text/plain")


def _sitemap(hit: Hit) -> Reply:
    urls = "".join(f"<url><loc>{hit.server.url}{escape(path)}</loc><lastmod>2026-11-01</lastmod></url>"
                   for path in SITEMAP_PATHS) + f"<url><loc>{OLD_SHOP_URL}</loc></url>"
    return Reply(200, "<?xml version='1.0' encoding='UTF-8'?><urlset "
                      f"xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>",
                 "application/xml")


def _home(hit: Hit) -> Reply:
    alternates = "".join(f"<link rel='alternate' hreflang='{lang}' href='{hit.server.url}{path}'>"
                         for lang, path in (("en", "/"), ("de", "/de/"), ("fr", "/fr/"), ("es", "/es/"),
                                            ("it", "/private/it/")))
    return shop_page("Outdoor gear for every season",
                     "<p>Tents, stoves and sleeping bags for nights outside.</p>"
                     "<a href='/black-friday'>Black Friday deals</a> <a href='/facebook'>Follow us</a> "
                     "<a href='/catalog-2024'>2024 catalog</a>",
                     head=alternates)


def _german_home(hit: Hit) -> Reply:
    alternates = "".join(f"<link rel='alternate' hreflang='{lang}' href='{hit.server.url}{path}'>"
                         for lang, path in (("en", "/"), ("de", "/de/")))
    return shop_page("Outdoor-Ausrüstung", "<p>Zelte, Kocher und Schlafsäcke.</p>", head=alternates,
                     description="Outdoor-Ausrüstung von Acme für jede Jahreszeit.")


def _script(code: str) -> str:
    return f"<script>{code}</script>"


def _js_routes() -> dict:
    """The JavaScript pages: what rendering changes, and the 202 an app's data answers."""
    fill = "document.querySelector('main').innerHTML = "
    lookbook = " ".join(["Tents pitched on ridges, stoves at dawn, bags rated for frost."] * 12)
    return {
        "/apps": shop_page("Apps and tools", _links([
            ("/stores/finder", "Store finder"), ("/shop/lookbook-app", "Interactive lookbook"),
            ("/reports/live", "Live sales report"), ("/shop/flash-sale", "Flash sale"),
            ("/shop/clearance", "Clearance"), ("/shop/tent-alpine-blue", "Alpine tent, blue"),
            ("/go/app", "Get the app"), ("/shop/retired-stove", "Retired stove"), ("/blog/widget", "Trail widget")])),
        "/stores/finder": shop_page("Store finder", "<ul id='stores'>Loading stores</ul>" + _script(
            "fetch('/api/stores.json').then(r => r.json()).then(stores => { const list = document.getElementById('stores');"
            " list.innerHTML = stores.map(s => `<li><a href='${s.href}'>${s.name}</a></li>`).join(''); });")),
        "/api/stores.json": Reply(body='[{"href": "/stores/oslo", "name": "Oslo"}, {"href": "/stores/bergen", "name": "Bergen"}]',
                                  content_type="application/json"),
        "/stores/oslo": shop_page("Oslo store", _text("Our Oslo store")),
        "/stores/bergen": shop_page("Bergen store", _text("Our Bergen store")),
        "/shop/lookbook-app": shop_page("Lookbook", "<div id='app'>Loading</div>" + _script(
            "fetch('/api/lookbook').then(r => r.json()).then(d => { " + fill
            + "'<h1>' + d.title + '</h1><p>' + d.text + '</p>'; });"), h1=""),
        "/api/lookbook": Reply(body='{"title": "Lookbook", "text": "' + lookbook + '"}', content_type="application/json"),
        "/reports/live": shop_page("Live sales report", "<div id='report'>Loading report</div>" + _script(
            "fetch('/api/reports/live').then(r => { document.getElementById('report').textContent ="
            " r.status === 202 ? 'Preparing your report, please wait' : 'Ready'; });")),
        "/api/reports/live": Reply(202, '{"state": "queued"}', "application/json", headers=[("Retry-After", "10")]),
        "/shop/flash-sale": shop_page("Flash sale", _text("Flash sale") + _script(
            "document.querySelector('meta[name=robots]').remove();"), head="<meta name='robots' content='noindex'>"),
        "/shop/clearance": shop_page("Clearance", _text("Clearance") + _script(
            "const m = document.createElement('meta'); m.name = 'robots'; m.content = 'noindex';"
            " document.head.appendChild(m);")),
        "/shop/tent-alpine-blue": shop_page("Loading...", _text("Alpine tent, blue") + _script(
            "document.title = 'Alpine tent, blue | Acme Outdoor';"
            " document.querySelector('meta[name=description]').content = 'The alpine tent in blue.';"
            " document.querySelector('link[rel=canonical]').href = '/shop/tent-alpine';"),
            head="<link rel='canonical' href='/shop/tent-alpine-blue'>"),
        "/go/app": shop_page("Get the app", "<p>Taking you to the shop.</p>" + _script("location.replace('/shop');")),
        "/shop/retired-stove": shop_page("Retired stove", "<div id='product'>Loading</div>" + _script(
            "document.title = 'Page not found'; " + fill + "'<h1>Page not found</h1><p>This product is gone.</p>';")),
        "/blog/widget": shop_page("Trail widget", _text("Trail conditions") + _script(
            "window.trailWidget.start();")),
    }


def demo_routes() -> dict:
    """The routes of the demo site, for ``SiteServer``."""
    product_links = _links([(path, name) for path, name in PRODUCTS.items()] + [
        ("/shop/discontinued-tent", "Trail tent (old model)"), ("/shop/compare", "Compare"),
        ("/shop/gloves", "Gloves"), ("/shop/mittens", "Mittens"), ("/shop/lantern", "Lantern"),
        ("/shop/stove-mini", "Mini stove"), ("/shop/tent-alpine-red", "Alpine tent, red"),
        ("/shop/mystery-box", "Mystery box"), ("/gift-cards", "Gift cards"), ("/Shop/Jackets", "JACKETS"),
        ("/shop/jackets?sessionid=a81f", "Jackets (your session)"),
        ("/shop?sort=price&view=grid", "Cheapest first"), ("/shop?view=grid&sort=price", "By price"),
        ("/docs/manual", "Manuals"), ("/shop/tent-trail", "Trail tent"), ("/shop/tent-trail-xl", "Trail tent XL")])
    post_links = _links([(path, name) for path, name in POSTS.items()] + [
        (f"/search/{quote(term)}", term) for term in SEARCHES] + [
        ("/blog/winter-tips-copy", "Winter tips (again)"), ("/blog/2019/old-post", "Our first post"),
        ("/blog/archive", "Archive"), ("/blog/lookbook-full", "Full lookbook"), ("/lookbook", "Lookbook"),
        ("/newsletter/subscribe", "Subscribe"), ("/shop/old-stove", "The old stove"),
        ("/promo/a", "Promotions"), ("/blog/tent-review", "Trail tent review")])
    winter = _text("Winter camping") + "<p>Layer up, insulate from the ground, keep water liquid.</p>"
    big_text = "<p>" + "Every item in the full lookbook, photographed on the trail. " * 20_000 + "</p>"
    routes = {
        "/robots.txt": _robots,
        "/sitemap.xml": _sitemap,
        "/": _home,
        "/de/": _german_home,
        "/es/": shop_page("Equipo de montaña", "<p>Tiendas y sacos de dormir.</p>",
                          description="Equipo de Acme para cada estación."),
        "/shop": shop_page("Shop", product_links),
        "/blog": shop_page("Blog", post_links + " <a href='/shop/gift-ideas' rel='nofollow'>Gift ideas</a>"),
        "/about": shop_page("About us", _text("Acme Outdoor") + _links([
            ("/old-blog", "Our old blog"), ("/reports/annual", "Annual report"), ("/apps", "Apps and tools")])),
        **_js_routes(),
        "/contact": shop_page("Contact", "<p>Write to us: hello at acme dot example.</p>"
                              "<a href='/warranty'>Warranty claims</a>", description=""),
        "/faq": shop_page("FAQ", "<p>Where is my order? <a href='/checkout/status'>Check status</a></p>",
                          h1=""),
        "/account": shop_page("Your account", _links([("/api/export", "Export my data")])),
        # 202 Accepted, in all its forms
        "/sale": _on_later_hits(
            Reply(202, "<html><head><title>Preparing the sale</title></head><body>Please wait"
                       "</body></html>", headers=[("Retry-After", "1")]),
            shop_page("Sale", _text("This week's sale"))),
        "/reports/annual": Reply(202, "<html><head><title>Report queued</title></head></html>",
                                 headers=[("Retry-After", "1"), ("Location", "/reports/annual/status")]),
        "/reports/annual/status": Reply(200, '{"state": "running"}', "application/json"),
        "/gift-cards": _on_later_hits(
            Reply(202, "<html><head><title>Loading</title></head></html>", headers=[("Retry-After", "1")]),
            shop_page("Gift cards unavailable", "<p>Error</p>", status=500)),
        "/checkout/status": Reply(202, "<html><head><title>Checking</title></head></html>"),
        "/api/export": Reply(202, '{"job": 42}', "application/json",
                             headers=[("Location", "/api/jobs/42"), ("Retry-After", "1")]),
        # other statuses
        "/newsletter/subscribe": Reply(204, b"", None),
        "/lookbook": shop_page("Lookbook", _text("Lookbook"), status=203),
        "/shop/discontinued-tent": shop_page("Not available", "<p>Gone.</p>", status=404),
        "/shop/compare": shop_page("Compare", "<p>Error</p>", status=500),
        "/stores": _on_later_hits(Reply(429, "slow down", "text/plain", headers=[("Retry-After", "0")]),
                                  shop_page("Our stores", _text("Stores"))),
        "/shop/boots": _on_later_hits(shop_page("Unavailable", "", status=503),
                                      shop_page(PRODUCTS["/shop/boots"], _text("Hiking boots"))),
        "/warranty": Reply(200, shop_page("Warranty", _text("Warranty")).body, fault="reset"),
        "/blog/*": shop_page("Post not found", "<p>Sorry, we could not find that post.</p>",
                             full_title=f"Post not found | {SITE}"),
        # redirects
        "/shop/tents": redirect("/shop/camping-tents", 301),
        "/old-blog": redirect("/journal", 301),
        "/journal": redirect("/journal/", 301),
        "/journal/": redirect("/blog", 302),
        "/members": redirect("/login", 302),
        "/login": redirect("/members", 302),
        "/promo/*": _promo,
        "/black-friday": redirect("/sale", 302),
        "/catalog-2024": shop_page("Catalog 2024", "<p>Moved to the shop.</p>",
                                   head="<meta http-equiv='refresh' content='0; url=/shop'>"),
        "/shop/old-stove": redirect("/shop/stove-classic", 301),
        "/facebook": redirect("https://facebook.example/acme", 301),
        "/old-products": redirect("/shop", 301),
        "/shop/stoves": redirect("/shop/camping-stoves", 301),
        # indexability
        "/wishlist": shop_page("Wishlist", "<p>Your saved items.</p>",
                               head="<meta name='robots' content='noindex, follow'>"),
        "/shop/stove-mini": shop_page("Mini stove", _text("Mini stove"),
                                      head="<link rel='canonical' href='/shop/stoves'>"),
        "/shop/lantern": shop_page("Lantern", _text("Lantern"),
                                   head="<link rel='canonical' href='/shop/lantern-classic'>"),
        "/blog/drafts/packing-list": shop_page("Packing list (draft)", _text("Packing list"),
                                               head="<meta name='robots' content='noindex'>"),
        "/shop/tent-alpine-red": shop_page("Alpine tent, red", _text("Alpine tent in red"),
                                           head="<link rel='canonical' href='/shop/tent-alpine-green'>"),
        "/shop/tent-alpine-green": shop_page("Alpine tent, green", _text("Alpine tent in green"),
                                             head="<link rel='canonical' href='/shop/tent-alpine'>"),
        "/shop/backpack": shop_page(PRODUCTS["/shop/backpack"], _text("Backpack"),
                                    head="<link rel='canonical' href='/shop/backpack'>",
                                    headers=[("Link", '</shop/backpack-35l>; rel="canonical"')]),
        "/docs/manual": shop_page("Manuals", _text("Manuals"),
                                  head="<link rel='canonical' href='file:///usr/share/doc/acme/manual.html'>"),
        "/blog/tent-review": shop_page("Trail tent review", _text("Trail tent review"),
                                       head="<link rel='canonical' href='https://reviews.example/acme-trail-tent'>"),
        "/private/press-kit": shop_page("Press kit", _text("Press kit")),
        "/landing/spring": shop_page("Spring campaign", _text("Spring campaign")),
        # duplicates
        "/Shop/Jackets": shop_page(PRODUCTS["/shop/jackets"], _text("Rain jackets")),
        "/blog/winter-tips-copy": shop_page(POSTS["/blog/winter-tips"], winter),
        "/shop/gloves": shop_page("Gloves", _text("Gloves"), full_title=f"Gloves and mittens | {SITE}"),
        "/shop/mittens": shop_page("Mittens", _text("Mittens"), full_title=f"Gloves and mittens | {SITE}"),
        "/shop/socks": shop_page(PRODUCTS["/shop/socks"], _text("Wool socks"),
                                 description="Warm things for cold days."),
        "/shop/hats": shop_page(PRODUCTS["/shop/hats"], _text("Sun hats"),
                                description="Warm things for cold days."),
        "/events": _events,
        "/search/*": _search,
        # depth, speed, size
        "/blog/archive": shop_page("Archive", _links([("/blog/archive/2019", "2019")])),
        "/blog/archive/2019": shop_page("Archive 2019", _links([("/blog/archive/2019/spring", "Spring")])),
        "/blog/archive/2019/spring": shop_page("Spring 2019", _links([
            ("/blog/archive/2019/spring/first-trip", "Our first trip")])),
        "/blog/archive/2019/spring/first-trip": shop_page("Our first trip", _text("Our first trip")),
        "/blog/lookbook-full": shop_page("Full lookbook", big_text),
        "/shop/configurator": replace(shop_page(PRODUCTS["/shop/configurator"], _text("Configurator")),
                                      delay=1.0),
        # on-page
        "/shop/mystery-box": shop_page("Mystery box", _text("Mystery box"), full_title=""),
        "/blog/big-news": shop_page("Big news", "<h1>And more news</h1>" + _text("Big news")),
        "/blog/gear-guide": shop_page(POSTS["/blog/gear-guide"], _text("Gear guide"),
                                      head="<link rel='canonical' href='/blog/gear-guide'>"
                                           "<link rel='canonical' href='/blog'>"),
        "/blog/packing-list-print": shop_page(POSTS["/blog/packing-list-print"], _text("Packing list"),
                                              head="<link rel='canonical' href='/blog/drafts/packing-list'>"),
        "/blog/winter-tips": shop_page(POSTS["/blog/winter-tips"], winter),
        "/files/catalog.pdf": Reply(200, b"%PDF-1.4 catalog", "application/pdf"),
        "/img/tent.jpg": Reply(200, b"\xff\xd8\xff\xe0 jpeg", "image/jpeg"),
    }
    # near-copies (one spec sheet, a sentence apart), one with broken JSON-LD, one with a
    # Microdata Product missing its offers, reviews and ratings
    specs = "".join(f"<li>Part {i}: pole section {i} in aluminium, {i * 3} grams, {i + 20} cm.</li>"
                    for i in range(1, 61))
    routes["/shop/tent-trail"] = shop_page(
        "Trail tent", f"<p>The trail tent, one person.</p><ul>{specs}</ul>",
        head='<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product", '
             '"name": "Trail tent",}</script>')
    routes["/shop/tent-trail-xl"] = shop_page(
        "Trail tent XL", f"<p>The trail tent, two people.</p><ul>{specs}</ul>"
        "<div itemscope itemtype='https://schema.org/Product'><span itemprop='name'>Trail tent XL</span></div>")
    routes["/shop/tent-alpine"] = shop_page(
        PRODUCTS["/shop/tent-alpine"], _text("Alpine tent") + "<img src='/img/tent.jpg' alt='tent'> "
        "<img src='/img/missing.jpg' alt='inside'> <a href='/files/size-guide.pdf'>Size guide</a> "
        "<a href='/files/catalog.pdf'>Catalog</a>")
    for path, name in {**PRODUCTS, **POSTS}.items():
        routes.setdefault(path, shop_page(name, _text(name)))
    return routes
