"""HTML fact extraction: what a crawler reads from a page, from clean and hostile HTML."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.extract import extract, link_header_canonical, looks_like_html

URL = "http://x.com/dir/page"


def test_head_facts():
    facts = extract("""<html><head><title> A  title </title>
        <meta name="description" content="Desc"><meta name="ROBOTS" content="NoIndex, Follow">
        <meta name="googlebot" content="nosnippet">
        <link rel="canonical" href="/canon"><link rel="canonical" href="/other">
        <link rel="alternate" hreflang="en-GB" href="/en"><link rel="alternate" hreflang="x-default" href="/">
        <meta http-equiv="refresh" content="0; url='/moved'">
        </head><body><h1>One</h1><h1>Two</h1><p>three words here</p></body></html>""", URL)
    assert facts.title == "A title"
    assert facts.meta_description == "Desc"
    assert facts.meta_robots == "noindex, follow, nosnippet"
    assert facts.canonical == "http://x.com/canon" and facts.canonical_count == 2
    assert facts.hreflang == [["en-gb", "http://x.com/en"], ["x-default", "http://x.com/"]]
    assert facts.meta_refresh_url == "http://x.com/moved"
    assert facts.h1_count == 2
    kinds = {(l.target, l.kind) for l in facts.links}
    assert ("http://x.com/moved", "meta-refresh") in kinds and ("http://x.com/en", "hreflang") in kinds


def test_links_deduplicated_per_page_with_nofollow_and_anchor():
    facts = extract("""<body><a href="a" rel="nofollow">first</a><a href="a">second</a>
        <a href="b" rel="nofollow ugc">b</a><img src="i.png" alt="alt text">
        <script src="/s.js"></script><link rel="stylesheet" href="/c.css"><iframe src="/f"></iframe>
        <a href="mailto:x@y.z">m</a><a>no href</a></body>""", URL)
    links = {(l.target, l.kind): l for l in facts.links}
    a = links[("http://x.com/dir/a", "a")]
    assert not a.nofollow and a.anchor == "first"
    assert links[("http://x.com/dir/b", "a")].nofollow
    assert links[("http://x.com/dir/i.png", "img")].anchor == "alt text"
    assert {("http://x.com/s.js", "script"), ("http://x.com/c.css", "css"), ("http://x.com/f", "iframe")} <= set(links)
    assert len(facts.links) == 6


def test_base_href_and_visible_text():
    facts = extract("<head><base href='http://x.com/b/'></head><body><a href='c'>x</a> "
                    "<script>var hidden = 'no words here';</script><style>p{}</style>two words</body>", URL)
    assert facts.links[0].target == "http://x.com/b/c"
    assert facts.word_count == 3


def test_same_text_same_hash_different_markup():
    one = extract("<html><body><p>Hello   world</p></body></html>", URL)
    two = extract("<html><body><div>Hello world</div><!-- c --></body></html>", URL)
    three = extract("<html><body><div>Hello there</div></body></html>", URL)
    assert one.content_hash == two.content_hash != three.content_hash


def test_hostile_input_gives_facts_not_exceptions():
    assert extract("", URL).title is None
    assert extract("\x00\x00\x00", URL).links == []
    nul = extract("<title>a\x00b</title><a href='/x'>x</a>", URL)
    assert nul.title == "ab" and nul.links[0].target == "http://x.com/x"
    deep = extract("<div>" * 20000 + "<a href='/deep'>d</a>", URL)
    assert any(l.target == "http://x.com/deep" for l in deep.links)
    many = extract("".join(f"<a href='/l{i}'>{i}</a>" for i in range(10000)), URL)
    assert len(many.links) == 10000
    xml_decl = extract("<?xml version='1.0' encoding='iso-8859-1'?><html><title>X</title></html>", URL)
    assert xml_decl.title == "X"


def test_link_header_canonical_and_html_sniffing():
    assert link_header_canonical('</c>; rel="canonical", </n>; rel="next"', URL) == "http://x.com/c"
    assert link_header_canonical('<https://y.com/p>; rel=canonical', URL) == "https://y.com/p"
    assert link_header_canonical('</n>; rel="next"', URL) is None
    assert looks_like_html("text/html; charset=utf-8", b"")
    assert not looks_like_html("application/pdf", b"<html>")
    assert looks_like_html(None, b"  <!DOCTYPE html><html>")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_extract_never_raises(text):
    facts = extract(text, URL)
    assert facts.word_count >= 0
    assert all(l.target.startswith("http") for l in facts.links)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["<a href='", "'>", "<base href='", "<title>", "</title>", "<meta ",
                                 "name=robots content=", "<link rel=canonical href=", "javascript:",
                                 "//h/", "../", "\x00", "<!--", "-->", ">", "é", "<h1>"]), max_size=40))
def test_extract_never_raises_on_tag_soup(parts):
    extract("".join(parts), URL)


def test_css_links_json_ld_and_the_first_of_each_head_fact():
    facts = extract("""<html><head><title>First</title><title>Second</title>
        <meta name="description" content=" One "><meta name="description" content="Two">
        <meta http-equiv="refresh" content="5; URL=/next"><meta http-equiv="refresh" content="0; url=/later">
        <link rel="canonical" href="javascript:void(0)"><link rel="canonical" href="/real">
        <link rel="alternate" hreflang="DE"><link rel="alternate canonical" hreflang="fr" href="/fr">
        <link rel="icon" href="/favicon.ico"><link rel="preload stylesheet" href="/p.css">
        <style>body { background: url(/bg.png) } @import "/imported.css";</style>
        <script type="application/ld+json">{"@type": "Product", "name": "Tent"}</script>
        </head><body><h1> The  <b>heading</b> </h1><p style="background:url('/inline.png')">four words of text</p>
        <area href="/map"><embed src="/e.swf"><source src="/v.mp4"><a href="/x" rel="nofollow">x</a>
        <a href="/x">again</a></body></html>""", URL)
    assert (facts.title, facts.meta_description, facts.h1) == ("First", "One", "The heading")
    assert (facts.meta_refresh, facts.meta_refresh_url) == ("5; URL=/next", "http://x.com/next")
    assert (facts.canonical, facts.canonical_count) == ("http://x.com/real", 3)
    assert facts.hreflang == []  # no href, or a canonical (counted as such)
    assert facts.structured.types == ["Product"] and facts.structured.errors == []
    assert facts.word_count == 8  # the heading, the paragraph and the anchors; no script or style text
    assert [(link.target, link.kind) for link in facts.links] == [
        ("http://x.com/next", "meta-refresh"), ("http://x.com/real", "canonical"), ("http://x.com/fr", "canonical"),
        ("http://x.com/favicon.ico", "link"), ("http://x.com/p.css", "link"),
        ("http://x.com/map", "a"), ("http://x.com/e.swf", "iframe"), ("http://x.com/v.mp4", "img"),
        ("http://x.com/x", "a"), ("http://x.com/bg.png", "css-url"), ("http://x.com/imported.css", "css"),
        ("http://x.com/inline.png", "css-url")]
    assert not facts.links[8].nofollow and facts.links[8].anchor == "x"
