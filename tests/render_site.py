"""The rendering fixture site: one page per thing JavaScript can change, and control pages.

Served by seo_audit.sitekit on 127.0.0.1:0. Each path's name says what its script does; HOME
links every page in its raw HTML, so all of them are crawled whether rendering is on or not.
"""

from __future__ import annotations

import json

from seo_audit.sitekit import Reply, page

PAGES = ("/js-nav", "/js-removes-noindex", "/js-adds-noindex", "/js-title", "/js-canonical",
         "/js-canonical-added", "/app-shell", "/app-shell-202", "/js-redirect", "/js-soft-404",
         "/js-error", "/never-loads", "/blocked-script", "/control", "/control-script", "/about",
         "/js-stalls", "/js-download")
#: pages whose scripts try to stall a renderer: popups, dialogs, a service worker, a download
STALLERS = ("/js-stalls", "/js-download")
#: reached only through links the rendered DOM has (built from /api/nav.json)
ONLY_RENDERED = ("/only-js/a", "/only-js/b")
#: a rendered-only link robots.txt disallows: recorded as blocked, never fetched
ONLY_RENDERED_BLOCKED = "/private/js-only"
#: pages where raw and rendered agree
CONTROLS = ("/", "/control", "/control-script", "/about")
FILLER = " ".join(f"word{i}" for i in range(300))


def _script(code: str) -> str:
    return f"<script>{code}</script>"


def routes() -> dict:
    nav = "".join(f"<a href='{p}'>{p}</a> " for p in PAGES)
    return {
        "/robots.txt": Reply(body="User-agent: *\nDisallow: /blocked/\nDisallow: /private/\n",
                             content_type="text/plain"),
        "/": page("Home", f"<h1>Home</h1><p>Rendering fixture.</p>{nav}"),
        "/about": page("About", "<h1>About</h1><p>A plain page.</p><a href='/'>home</a>"),
        "/control": page("Control", "<h1>Control</h1><p>Nothing moves here.</p><a href='/about'>about</a>"),
        "/control-script": page("Control with script", "<h1>Control</h1><p>Its script changes nothing.</p>"
                                + _script("window.answer = 42;")),
        "/js-nav": page("JS navigation", "<h1>Shop</h1><nav id='nav'></nav>" + _script(
            "fetch('/api/nav.json').then(r => r.json()).then(items => { const nav = document.getElementById('nav');"
            " for (const item of items) { const a = document.createElement('a'); a.href = item.href;"
            " a.textContent = item.label; nav.appendChild(a); } });")),
        "/api/nav.json": Reply(body=json.dumps([{"href": p, "label": p} for p in (*ONLY_RENDERED, ONLY_RENDERED_BLOCKED)]),
                               content_type="application/json"),
        "/only-js/a": page("Only JS A", "<h1>A</h1><p>Linked only by script.</p>"),
        "/only-js/b": page("Only JS B", "<h1>B</h1><p>Linked only by script.</p>"),
        "/js-removes-noindex": page("Noindex removed", "<h1>Noindex removed</h1><p>Text.</p>" + _script(
            "document.querySelector('meta[name=robots]').remove();"), head="<meta name='robots' content='noindex'>"),
        "/js-adds-noindex": page("Noindex added", "<h1>Noindex added</h1>" + _script(
            "const m = document.createElement('meta'); m.name = 'robots'; m.content = 'noindex';"
            " document.head.appendChild(m);")),
        "/js-title": page("Loading", "<h1>Loading</h1>" + _script(
            "document.title = 'Real product title'; document.querySelector('h1').textContent = 'Real heading';"
            " document.querySelector('meta[name=description]').content = 'Set by script';"), head="<meta name='description' content='Raw description'>"),
        "/js-canonical": page("Canonical changed", "<h1>Canonical</h1>" + _script(
            "document.querySelector('link[rel=canonical]').href = '/control';"),
            head="<link rel='canonical' href='/js-canonical'>"),
        "/js-canonical-added": page("Canonical added", "<h1>Canonical added</h1>" + _script(
            "const l = document.createElement('link'); l.rel = 'canonical'; l.href = '/about';"
            " document.head.appendChild(l);")),
        "/app-shell": page("Shop app", "<div id='app'>Loading</div>" + _script(
            "fetch('/api/products').then(r => r.json()).then(d => {"
            " document.getElementById('app').innerHTML = '<h1>' + d.name + '</h1><p>' + d.text + '</p>'; });")),
        "/api/products": Reply(body=json.dumps({"name": "Tent", "text": FILLER}), content_type="application/json"),
        "/app-shell-202": page("Report app", "<div id='app'>Loading</div>" + _script(
            "fetch('/api/pending').then(r => { if (r.status === 202) {"
            " document.getElementById('app').textContent = 'Please wait, your report is being prepared'; }"
            " else { return r.json().then(d => { document.getElementById('app').textContent = d.text; }); } });")),
        "/api/pending": Reply(status=202, body=json.dumps({"state": "queued"}), content_type="application/json",
                              headers=[("Retry-After", "5")]),
        "/js-redirect": page("Moving", "<h1>Moving</h1>" + _script("location.replace('/about');")),
        "/js-soft-404": page("Product", "<div id='app'><h1>Product</h1></div>" + _script(
            "document.title = 'Page not found'; document.getElementById('app').innerHTML ="
            " '<h1>Page not found</h1><p>Sorry.</p>';")),
        "/js-error": page("Broken script", "<h1>Broken</h1><p>Its script throws.</p>" + _script(
            "throw new Error('render-fixture-boom');")),
        "/never-loads": page("Never loads", "<h1>Never loads</h1><img src='/hang.png' alt='hangs'>"),
        "/hang.png": Reply(fault="hang", content_type="image/png"),
        "/js-stalls": page("Stalls", "<h1>Stalls</h1><p>Popups and dialogs.</p>" + _script(
            "for (let i = 0; i < 20; i++) { window.open('/about', '_blank'); }"
            " alert('hello'); confirm('sure?'); prompt('name?');"
            " if (navigator.serviceWorker) { navigator.serviceWorker.register('/sw.js').catch(() => {}); }"
            " window.onbeforeunload = () => 'stay';")),
        "/sw.js": Reply(body="self.addEventListener('fetch', e => e.respondWith(new Response('hijacked')));",
                        content_type="application/javascript"),
        "/js-download": page("Download", "<h1>Download</h1><p>A script starts a download.</p>"
                             "<a id='file' href='/files/big.bin' download>file</a>" + _script(
            "window.addEventListener('load', () => document.getElementById('file').click());")),
        "/files/big.bin": Reply(body=b"\0" * 100_000, content_type="application/octet-stream"),
        "/blocked-script": page("Raw title", "<h1>Raw</h1><div id='app'></div><script src='/blocked/app.js'></script>"),
        "/blocked/app.js": Reply(body="document.title = 'Title from the blocked script';"
                                      " document.getElementById('app').innerHTML = '<a href=\"/about\">about</a>';",
                                 content_type="application/javascript"),
    }
