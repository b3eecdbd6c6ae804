"""URL normalisation, resolution and trap patterns: pure functions, and properties that must hold."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.urls import Scope, looks_like_file, normalise, repeated_segments, resolve, trap_pattern


@pytest.mark.parametrize("raw, expected", [
    ("HTTP://Example.COM/Path?q=1#frag", "http://example.com/Path?q=1"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:8080", "http://example.com:8080/"),
    ("http://example.com/a b", "http://example.com/a%20b"),
    ("http://example.com/caf\u00e9", "http://example.com/caf%C3%A9"),
    ("http://user:pw@Example.com/", "http://user:pw@example.com/"),
    ("ftp://example.com/", None),
    ("javascript:alert(1)", None),
    ("http://example.com:99999/", None),
    ("http:///nohost", None),
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize("base, href, expected", [
    ("http://x.com/a/b", "c", "http://x.com/a/c"),
    ("http://x.com/a/b", "../c", "http://x.com/c"),
    ("http://x.com/a/b", "/c?d#e", "http://x.com/c?d"),
    ("https://x.com/a", "//y.com/z", "https://y.com/z"),
    ("http://x.com/a", "  HTTP://X.com/q  ", "http://x.com/q"),
    ("http://x.com/a", "mailto:a@b.c", None),
    ("http://x.com/a", "TEL:+1", None),
    ("http://x.com/a", "javascript:void(0)", None),
    ("http://x.com/a", "#top", None),
    ("http://x.com/a", "", None),
])
def test_resolve(base, href, expected):
    assert resolve(base, href) == expected


def test_trap_pattern_blanks_variable_parts():
    assert trap_pattern("http://x.com/cal?month=2024-05&view=grid") == "/cal?month&view"
    assert trap_pattern("http://x.com/cal?view=list&month=1") == "/cal?month&view"
    assert trap_pattern("http://x.com/p/123/photo/7") == "/p/N/photo/N"
    assert trap_pattern("http://x.com/about") is None


def test_repeated_segments_and_files():
    assert repeated_segments("http://x.com/a/a/a/b") == 3
    assert repeated_segments("http://x.com/a/b") == 1
    assert looks_like_file("http://x.com/doc.PDF") and looks_like_file("http://x.com/i.jpg")
    assert not looks_like_file("http://x.com/page.html") and not looks_like_file("http://x.com/a.b/c")


def test_scope_is_by_origin_not_host():
    scope = Scope.for_start("http://127.0.0.1:8080/", exclude=[r"/admin"])
    assert scope.verdict("http://127.0.0.1:8080/x") is None
    assert scope.verdict("http://127.0.0.1:8000/x") == "out-of-scope"
    assert scope.verdict("https://127.0.0.1:8080/x") == "out-of-scope"
    assert scope.verdict("http://127.0.0.1:8080/admin/") == "excluded"


urls = st.builds(
    lambda scheme, host, port, path, query, frag: f"{scheme}://{host}{port}/{path}{query}{frag}",
    st.sampled_from(["http", "HTTPS", "Http"]),
    st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?(\.[A-Za-z]{2,5}){0,2}", fullmatch=True),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.text(max_size=30),
    st.one_of(st.just(""), st.text(max_size=20).map(lambda t: "?" + t)),
    st.one_of(st.just(""), st.text(max_size=10).map(lambda t: "#" + t)),
)


@settings(max_examples=400, deadline=None)
@given(urls)
def test_normalise_is_idempotent_and_never_raises(url):
    once = normalise(url)
    if once is not None:
        assert normalise(once) == once
        assert "#" not in once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_resolve_never_raises(href):
    result = resolve("http://example.com/dir/page", href)
    assert result is None or result.startswith(("http://", "https://"))
