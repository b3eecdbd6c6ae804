"""Table rows for tests/test_rules.py: the rendering rules' planted positives and near misses,
on hand-built crawls (a page rendered as crawler/render.py records it)."""

from __future__ import annotations

from tests.rule_frames import link, page, u


def rendered(path: str, **facts):
    """A page rendered with nothing changed, unless ``facts`` say otherwise."""
    base = page(path)
    row = {"render_outcome": "ok", "render_reason": "all", "rendered_title": base["title"],
           "rendered_meta_description": base["meta_description"], "rendered_canonical": base["canonical"],
           "rendered_h1_count": 1, "rendered_h1": "Heading", "rendered_word_count": 300,
           "rendered_final_url": base["url"], "rendered_differences": [], "rendered_xhr": [],
           "rendered_js_errors": [], "rendered_lcp_ms": 900.0, "rendered_load_ms": 1200.0, "rendered_cls": 0.01}
    row.update({key: u(value) if key in ("rendered_canonical", "rendered_final_url") and value else value
                for key, value in facts.items()})
    return page(path, **row)


def rendered_link(source: str, target: str, seen_in: str = "rendered") -> dict:
    return {**link(source, target, anchor="js"), "seen_in": seen_in}


POSITIVES = {
    "noindex-only-in-raw-html": (dict(pages=[rendered("/p", meta_robots="noindex")]), ["/p"],
                                 "raw HTML: meta robots 'noindex'; rendered DOM: none"),
    "noindex-added-by-js": (dict(pages=[rendered("/p", rendered_meta_robots="noindex")]), ["/p"],
                            "rendered DOM: 'noindex'"),
    "canonical-changed-by-js": (dict(pages=[rendered("/p", rendered_canonical="/shoes"),
                                            rendered("/q", canonical=None, rendered_canonical="/hats")]),
                                ["/p", "/q"], "added (none in the raw HTML) to https://shop.test/hats"),
    "title-changed-by-js": (dict(pages=[rendered("/p", title="Loading", rendered_title="Real")]), ["/p"],
                            "title: raw 'Loading', rendered 'Real'"),
    "meta-description-changed-by-js": (dict(pages=[rendered("/p", rendered_meta_description="New")]), ["/p"],
                                       "rendered 'New'"),
    "h1-changed-by-js": (dict(pages=[rendered("/p", h1_count=0, rendered_differences=["h1"])]), ["/p"],
                         "h1: 0 in the raw HTML, 1 rendered, the first 'Heading'"),
    "links-only-in-rendered-dom": (dict(pages=[rendered("/p"), page("/js-a"), page("/js-b")],
                                        links=[rendered_link("/p", "/js-a"), rendered_link("/p", "/js-b"),
                                               rendered_link("/p", "/shoes", "both")]),
                                   ["/p"], "2 links only after rendering: https://shop.test/js-a"),
    "content-only-after-rendering": (dict(pages=[rendered("/p", word_count=3, rendered_word_count=400)]), ["/p"],
                                     "3 words in the raw HTML, 400 rendered"),
    "rendered-placeholder-after-202": (
        dict(pages=[rendered("/p", rendered_xhr=[[u("/api/data"), 202], [u("/api/nav"), 200]])]), ["/p"],
        "fetch/XHR answered 202: https://shop.test/api/data;"),
    "js-redirect": (dict(pages=[rendered("/p", rendered_final_url="/shoes")]), ["/p"],
                    "JavaScript sends the page to https://shop.test/shoes"),
    "soft-404-rendered-by-js": (dict(pages=[rendered("/p", rendered_title="Page not found")]), ["/p"],
                                "rendered title 'Page not found'"),
    "render-error": (dict(pages=[rendered("/p", rendered_js_errors=["boom"]),
                                 page("/q", render_outcome="crashed", render_error="Target crashed")]),
                     ["/p", "/q"], "uncaught: boom"),
    "render-timeout": (dict(pages=[page("/p", render_outcome="timeout", render_time=15.2,
                                        render_error="Timeout 15000ms exceeded")]), ["/p"],
                       "not rendered after 15.2 s"),
    "render-blocked-by-robots": (
        dict(pages=[rendered("/p", rendered_blocked_resources=[[u("/js/app.js"), "script", "disallow: /js/"]],
                             rendered_blocked_changes=["links", "title"])]), ["/p"],
        "robots.txt blocks https://shop.test/js/app.js (script, disallow: /js/); without the block the page's links, title differ"),
    "slow-render": (dict(pages=[rendered("/p", rendered_lcp_ms=4100.0)]), ["/p"], "lab: LCP 4100 ms (> 2500)"),
}

NEAR_MISSES = [
    ("noindex-only-in-raw-html", dict(pages=[rendered("/p", meta_robots="noindex", rendered_meta_robots="noindex")])),
    ("noindex-only-in-raw-html", dict(pages=[page("/p", meta_robots="noindex")])),  # not rendered
    ("noindex-added-by-js", dict(pages=[rendered("/p", meta_robots="noindex", rendered_meta_robots="noindex")])),
    ("canonical-changed-by-js", dict(pages=[rendered("/p", rendered_canonical=None)])),  # JS did not touch it
    ("title-changed-by-js", dict(pages=[page("/p", render_outcome="timeout")])),
    ("links-only-in-rendered-dom", dict(pages=[rendered("/p")], links=[rendered_link("/p", "/shoes", "both")])),
    ("content-only-after-rendering", dict(pages=[rendered("/p", word_count=280, rendered_word_count=320)])),
    ("rendered-placeholder-after-202", dict(pages=[rendered("/p", rendered_xhr=[[u("/api/data"), 200]])])),
    ("rendered-placeholder-after-202", dict(pages=[rendered("/p", status=404, rendered_xhr=[[u("/api/data"), 202]])])),
    ("js-redirect", dict(pages=[rendered("/p")])),
    ("soft-404-rendered-by-js", dict(pages=[rendered("/p", title="Not found", rendered_title="Not found")])),
    ("render-error", dict(pages=[page("/p", render_outcome="timeout")])),
    ("render-blocked-by-robots", dict(pages=[rendered("/p", rendered_blocked_changes=[],
                                                      rendered_blocked_resources=[[u("/js/a.js"), "script", "x"]])])),
    ("slow-render", dict(pages=[rendered("/p", rendered_lcp_ms=2400.0)])),
]
