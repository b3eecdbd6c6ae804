"""Rendering rules: what changes, or breaks, once a page's JavaScript has run.

They read the rendered_* columns a crawl with ``--render auto|all`` records beside the raw ones
(crawler/render.py) and are silent on a crawl that rendered nothing. Google indexes the rendered
page but decides on the raw HTML first (whether to render at all, which links to queue now), so
a difference between the two is a signal sent twice, differently.
"""

from __future__ import annotations

import pandas as pd

from audit.rules.base import examples, found, link_rows, rule, rules_in, text, texts_match
from audit.rules.performance import NEW_MARGIN
from audit.rules.status import NOT_FOUND_TEXT

CATEGORY = "rendering"
JS_SEO = "https://developers.google.com/search/docs/crawling-indexing/javascript/javascript-seo-basics"
JS_FIX = "https://developers.google.com/search/docs/crawling-indexing/javascript/fix-search-javascript"
ROBOTS_META = "https://developers.google.com/search/docs/crawling-indexing/robots-meta-tag"
DYNAMIC = "https://developers.google.com/search/docs/crawling-indexing/javascript/dynamic-rendering"
WEB_VITALS = "https://web.dev/articles/vitals"
_NOINDEX = r"\b(?:noindex|none)\b"


def rendered(crawl, *columns: str, moved: bool = False) -> pd.DataFrame:
    """URL and ``columns`` of the HTML pages whose render completed: on the page itself, or
    (``moved``) elsewhere, where a script sent it (js-redirect says so; what it shows then is
    another page's)."""
    p = crawl.pages
    final = p["rendered_final_url"]
    elsewhere = final.notna() & final.ne(p["url"])
    return p.loc[p["render_outcome"].eq("ok").fillna(False) & p["is_html"] & (elsewhere if moved else ~elsewhere),
                 ["url", *columns]]


def _says_noindex(values: pd.Series) -> pd.Series:
    return values.str.contains(_NOINDEX, regex=True).fillna(False).astype(bool)


def _shown(values: pd.Series) -> pd.Series:
    """Text values quoted for evidence, a missing one as 'none'."""
    return ("'" + values.astype("str") + "'").where(values.notna(), "none")


def _lists_hold(lists: pd.Series, test) -> pd.Series:
    """Whether ``test`` holds for each row's list (the JSON list columns are lists)."""
    return pd.Series([bool(test(items)) for items in lists], index=lists.index, dtype=bool)


def _changed(p: pd.DataFrame, raw: str, after: str) -> pd.Series:
    return p[raw].fillna("").ne(p[after].fillna(""))


@rule(id="noindex-only-in-raw-html", severity="critical",
      severity_why="Google may not render a page whose raw HTML says noindex: the page never enters the index",
      title="Noindex in the raw HTML, removed by JavaScript",
      why="When the raw HTML says noindex, Google may skip rendering the page, so the script that "
          "removes the noindex never runs and the page stays out of the index.",
      fix="Serve the robots meta tag you mean in the raw HTML; never rely on JavaScript to remove a noindex.",
      learn_more=ROBOTS_META, reads=("meta_robots", "rendered_meta_robots", "render_outcome", "rendered_final_url"))
def noindex_only_in_raw_html(crawl, t):
    return _noindex_changed(crawl, removed=True)


@rule(id="noindex-added-by-js", severity="warning",
      severity_why="the page is dropped only after rendering, which may come late: the index says two things over time",
      title="Noindex added by JavaScript",
      why="The raw HTML lets the page be indexed and JavaScript then says noindex: until Google renders "
          "the page it may be indexed, and its links are queued as those of an indexable page.",
      fix="Put the noindex in the raw HTML (or an X-Robots-Tag header) if the page is not to be indexed.",
      learn_more=ROBOTS_META, reads=("meta_robots", "rendered_meta_robots", "render_outcome", "rendered_final_url"))
def noindex_added_by_js(crawl, t):
    return _noindex_changed(crawl, removed=False)


def _noindex_changed(crawl, removed: bool) -> pd.DataFrame:
    """Pages whose noindex JavaScript ``removed`` (or added)."""
    p = rendered(crawl, "meta_robots", "rendered_meta_robots")
    raw, after = _says_noindex(p["meta_robots"]), _says_noindex(p["rendered_meta_robots"])
    hit = p[raw & ~after] if removed else p[~raw & after]
    return found(hit["url"], "raw HTML: meta robots " + _shown(hit["meta_robots"])
                 + "; rendered DOM: " + _shown(hit["rendered_meta_robots"]))


@rule(id="canonical-changed-by-js", severity="warning",
      severity_why="two canonicals for one page: Google may pick either, splitting signals at scale",
      title="Canonical changed or added by JavaScript",
      why="Google reads the canonical of the raw HTML and of the rendered page; when they disagree it "
          "may pick either one, or ignore both.",
      fix="Serve the final canonical in the raw HTML and leave it alone in scripts.",
      learn_more=JS_SEO, reads=("canonical", "rendered_canonical", "render_outcome", "rendered_final_url"))
def canonical_changed_by_js(crawl, t):
    p = rendered(crawl, "canonical", "rendered_canonical")
    hit = p[p["rendered_canonical"].notna() & _changed(p, "canonical", "rendered_canonical")]
    verb = pd.Series("changed from " + text(hit["canonical"]), index=hit.index).where(
        hit["canonical"].notna(), "added (none in the raw HTML)")
    return found(hit["url"], "canonical " + verb + " to " + text(hit["rendered_canonical"]))


def _text_changed(crawl, raw: str, after: str, what: str) -> pd.DataFrame:
    p = rendered(crawl, raw, after)
    hit = p[_changed(p, raw, after)]
    return found(hit["url"], f"{what}: raw " + _shown(hit[raw]) + ", rendered " + _shown(hit[after]))


@rule(id="title-changed-by-js", severity="warning",
      severity_why="search results and other crawlers may show either title: the page's main signal is split",
      title="Title changed by JavaScript",
      why="Crawlers that do not render (and Google before it renders) see the raw title; the rendered "
          "one is what Google indexes in the end.",
      fix="Serve the final title in the raw HTML (server-side rendering or pre-rendering).",
      learn_more=JS_SEO, reads=("title", "rendered_title", "render_outcome", "rendered_final_url"))
def title_changed_by_js(crawl, t):
    return _text_changed(crawl, "title", "rendered_title", "title")


@rule(id="meta-description-changed-by-js", severity="notice",
      severity_why="hygiene: a snippet suggestion that depends on rendering",
      title="Meta description changed by JavaScript",
      why="Snippets and social previews built from the raw HTML show a different description.",
      fix="Serve the final meta description in the raw HTML.",
      learn_more=JS_SEO, reads=("meta_description", "rendered_meta_description", "render_outcome", "rendered_final_url"))
def meta_description_changed_by_js(crawl, t):
    return _text_changed(crawl, "meta_description", "rendered_meta_description", "meta description")


@rule(id="h1-changed-by-js", severity="notice",
      severity_why="hygiene: the main heading depends on rendering",
      title="Main heading (h1) changed by JavaScript",
      why="The heading crawlers read in the raw HTML is not the one the rendered page shows.",
      fix="Serve the final h1 in the raw HTML.",
      learn_more=JS_SEO, reads=("h1_count", "rendered_h1_count", "rendered_h1", "rendered_differences",
                                     "rendered_final_url", "render_outcome"))
def h1_changed_by_js(crawl, t):
    p = rendered(crawl, "h1_count", "rendered_h1_count", "rendered_h1", "rendered_differences")
    hit = p[_lists_hold(p["rendered_differences"], lambda diffs: "h1" in diffs)]
    return found(hit["url"], "h1: " + text(hit["h1_count"]) + " in the raw HTML, " + text(hit["rendered_h1_count"])
                 + " rendered, the first " + _shown(hit["rendered_h1"]))


@rule(id="links-only-in-rendered-dom", severity="warning",
      severity_why="links found only after rendering are discovered later and less surely, for every page of a template",
      title="Links only in the rendered DOM",
      why="Google queues the links of the raw HTML at once; links that scripts add are found only once "
          "the page is rendered, which may be much later, or never for a page Google does not render.",
      fix="Render navigation and in-content links as <a href> in the raw HTML.",
      learn_more=JS_SEO, reads=("links.seen_in", "links.kind", "links.source", "links.target"))
def links_only_in_rendered_dom(crawl, t):
    rows = link_rows(crawl, "kind = 'a' AND seen_in = 'rendered'")
    if rows.empty:
        return found(pd.Series(dtype="str"), "")
    counts = rows.groupby("source", sort=False)["target"].size()
    shown = examples(rows["source"], rows["target"])
    return found(pd.Series(counts.index, dtype="str"),
                 pd.Series([f"{n} links only after rendering: {shown[s]}" for s, n in counts.items()]))


@rule(id="content-only-after-rendering", severity="warning",
      severity_why="an empty shell may be indexed as thin content until rendered, across a whole template",
      title="Content only after rendering",
      why="The raw HTML is an app shell and the text comes from scripts: crawlers that do not render see "
          "an empty page, and Google sees the content only once it renders.",
      fix="Serve the content in the raw HTML (server-side rendering, static generation or pre-rendering).",
      learn_more=DYNAMIC, thresholds={"min_added_words": 50, "ratio": 2.0},
      reads=("word_count", "rendered_word_count", "render_outcome", "rendered_final_url"))
def content_only_after_rendering(crawl, t):
    p = rendered(crawl, "word_count", "rendered_word_count")
    raw, after = p["word_count"].fillna(0), p["rendered_word_count"].fillna(0)
    hit = p[(after - raw).ge(t["min_added_words"]) & after.ge(raw * t["ratio"])]
    return found(hit["url"], text(hit["word_count"]) + " words in the raw HTML, "
                 + text(hit["rendered_word_count"]) + " rendered")


def _xhr_with(statuses: pd.Series, status: int) -> pd.Series:
    return pd.Series([", ".join(url for url, code in calls if code == status) for calls in statuses],
                     index=statuses.index, dtype="str")


@rule(id="rendered-placeholder-after-202", severity="critical",
      severity_why="what gets indexed is the placeholder: the page's real content never enters the index",
      title="Rendered placeholder: the page's own data answered 202",
      why="The page answered 200 but the fetch/XHR that fills it answered 202 Accepted (not ready yet), so "
          "the rendered page, the one Google indexes, shows a placeholder instead of its content.",
      fix="Have the data ready when the page is served (or render it server-side); answer 202 only to "
          "clients that poll for it, never on the path a crawler's render takes.",
      learn_more=JS_FIX, reads=("status", "rendered_xhr", "rendered_word_count", "render_outcome", "rendered_final_url"))
def rendered_placeholder_after_202(crawl, t):
    p = rendered(crawl, "status", "rendered_xhr", "rendered_word_count")
    accepted = _xhr_with(p["rendered_xhr"], 202)
    hit = p[p["status"].eq(200).fillna(False) & accepted.ne("")]
    return found(hit["url"], "fetch/XHR answered 202: " + accepted[hit.index] + "; rendered text: "
                 + text(hit["rendered_word_count"]) + " words")


@rule(id="js-redirect", severity="warning",
      severity_why="a redirect seen only after rendering passes signals late and less surely, wasting budget",
      title="JavaScript redirect",
      why="The page answers 200 and a script sends the browser elsewhere: Google follows it only after "
          "rendering, and other crawlers index the page that redirects.",
      fix="Use an HTTP 301 or 308 redirect on the server.",
      learn_more=JS_SEO, reads=("rendered_final_url", "render_outcome"))
def js_redirect(crawl, t):
    p = rendered(crawl, "rendered_final_url", "meta_refresh_url", moved=True)
    hit = p[p["rendered_final_url"].ne(p["meta_refresh_url"])]  # a meta refresh is its own rule
    return found(hit["url"], "JavaScript sends the page to " + text(hit["rendered_final_url"]))


@rule(id="soft-404-rendered-by-js", severity="warning",
      severity_why="soft 404s keep being re-crawled and are reported as errors, wasting budget at scale",
      title="Soft 404 rendered by JavaScript",
      why="The server answers 200 and the rendered page says not found: Google treats it as a soft 404, "
          "and crawlers that do not render index an error page.",
      fix="Answer 404 or 410 from the server for content that does not exist (or, in a single-page app, "
          "send the browser to a URL that answers 404, or add noindex).",
      learn_more=JS_SEO, reads=("status", "title", "rendered_title", "rendered_h1", "render_outcome", "rendered_final_url"))
def soft_404_rendered_by_js(crawl, t):
    p = rendered(crawl, "status", "title", "rendered_title", "rendered_h1")

    def reads_not_found(value: str) -> bool:
        return NOT_FOUND_TEXT.search(value) is not None

    says = texts_match(p["rendered_title"], reads_not_found) | texts_match(p["rendered_h1"], reads_not_found)
    hit = p[p["status"].eq(200).fillna(False) & says & ~texts_match(p["title"], reads_not_found)]
    return found(hit["url"], "200 OK, raw title " + _shown(hit["title"]) + "; rendered title "
                 + _shown(hit["rendered_title"]) + ", h1 " + _shown(hit["rendered_h1"]))


@rule(id="render-error", severity="warning",
      severity_why="a script that fails may leave content or links out of what Google indexes",
      title="Render error",
      why="A script threw an uncaught exception, or the page crashed, while rendering: what depends on "
          "it may be missing from the rendered page.",
      fix="Fix the error (it is in the evidence); check the page in a browser's console.",
      learn_more=JS_FIX, reads=("rendered_js_errors", "render_outcome", "render_error"))
def render_error(crawl, t):
    p = crawl.pages
    p = p.loc[p["render_outcome"].notna(), ["url", "rendered_js_errors", "render_outcome", "render_error"]]
    uncaught = pd.Series(["; ".join(errors[:3]) for errors in p["rendered_js_errors"]], index=p.index, dtype="str")
    failed = p["render_outcome"].isin(["error", "crashed"])
    hit = p[failed | uncaught.ne("")]
    evidence = ("uncaught: " + uncaught[hit.index]).where(~failed[hit.index],
                                                          "render " + text(hit["render_outcome"]) + ": " + text(hit["render_error"]))
    return found(hit["url"], evidence)


@rule(id="render-timeout", severity="warning",
      severity_why="a page that never finishes loading may be indexed half-rendered, or not rendered at all",
      title="Render timeout",
      why="The page did not finish loading within the render time limit: search engines' renderers give "
          "up too, and index what they have.",
      fix="Find what never finishes (a hanging request, an endless script) and bound it.",
      learn_more=JS_FIX, reads=("render_outcome", "render_time", "render_error"))
def render_timeout(crawl, t):
    p = crawl.pages
    hit = p.loc[p["render_outcome"].eq("timeout").fillna(False), ["url", "render_time", "render_error"]]
    return found(hit["url"], "not rendered after " + text(hit["render_time"]) + " s: " + text(hit["render_error"]))


@rule(id="render-blocked-by-robots", severity="warning",
      severity_why="what robots.txt blocks Google's renderer from loading changes the page it indexes",
      title="Resources needed for rendering blocked by robots.txt",
      why="Googlebot honours robots.txt for the scripts, styles and data a page loads; here the page "
          "renders differently without them.",
      fix="Allow the listed resources in robots.txt.",
      learn_more="https://developers.google.com/search/docs/crawling-indexing/robots/intro",
      reads=("rendered_blocked_resources", "rendered_blocked_changes", "render_outcome", "rendered_final_url"))
def render_blocked_by_robots(crawl, t):
    p = rendered(crawl, "rendered_blocked_resources", "rendered_blocked_changes")
    hit = p[_lists_hold(p["rendered_blocked_changes"], bool)]
    blocked = hit["rendered_blocked_resources"].map(
        lambda items: ", ".join(f"{url} ({kind}, {rule_text})" for url, kind, rule_text in items[:3]))
    changes = hit["rendered_blocked_changes"].map(", ".join)
    return found(hit["url"], "robots.txt blocks " + blocked + "; without the block the page's "
                 + changes + " differ")


@rule(id="slow-render", severity="notice",
      severity_why="hygiene: lab figures from this machine, a hint at field performance, not a measure of it",
      title="Slow render (lab timings)",
      why="Rendering took long in Chromium on the crawling machine: Largest Contentful Paint, the load "
          "event or layout shifts beyond the thresholds. These are lab figures, not field data.",
      fix="Check the page with field data (Chrome UX Report) and speed up what it loads first.",
      learn_more=WEB_VITALS, thresholds={"max_lcp_ms": 2500, "max_load_ms": 5000, "max_cls": 0.1,
                                         "new_margin": NEW_MARGIN},
      reads=("rendered_lcp_ms", "rendered_load_ms", "rendered_cls", "render_outcome", "rendered_final_url"))
def slow_render(crawl, t):
    p = rendered(crawl, "rendered_lcp_ms", "rendered_load_ms", "rendered_cls")
    checks = (("rendered_lcp_ms", "max_lcp_ms", "LCP {:.0f} ms"), ("rendered_load_ms", "max_load_ms", "load {:.0f} ms"),
              ("rendered_cls", "max_cls", "CLS {:.3f}"))
    over = {column: p[column].gt(t[limit]).fillna(False) for column, limit, _ in checks}
    hit = p[over["rendered_lcp_ms"] | over["rendered_load_ms"] | over["rendered_cls"]]
    evidence = [
        "lab: " + ", ".join(shown.format(row[column]) + f" (> {t[limit]})"
                            for column, limit, shown in checks if over[column][index])
        for index, row in hit.iterrows()]
    return found(hit["url"], pd.Series(evidence, index=hit.index, dtype="str"))


RULES = rules_in(globals())
