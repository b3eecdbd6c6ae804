"""The report's pure helpers, alone: spreadsheet neutralising, link checks, colours, charts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from reports import charts
from reports.branding import BrandingError, css_colour
from reports.html import script_json
from reports.safe import FORMULA_STARTS, http_url, neutralise, spreadsheet_safe


@pytest.mark.parametrize("text, expected", [
    ("=1+1", "'=1+1"),
    ("+33 1 23", "'+33 1 23"),
    ("-5", "'-5"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("a=b", "a=b"),
    ("", ""),
    ("https://example.com/?q=-1", "https://example.com/?q=-1"),
])
def test_neutralise(text, expected):
    assert neutralise(text) == expected


@given(st.text())
def test_neutralised_text_never_starts_a_formula_and_keeps_its_content(text):
    safe = neutralise(text)
    assert not safe.startswith(FORMULA_STARTS)
    assert safe in (text, "'" + text)


def test_spreadsheet_safe_touches_text_only():
    frame = pd.DataFrame({
        "delta": [-3, 4],
        "share": [-0.5, np.nan],
        "flag": [True, False],
        "title": pd.array(["=cmd", None], dtype="str"),
        "mixed": pd.Series(["@x", 7], dtype=object),
        "chain": pd.Series([["=a", "b"], []], dtype=object),
    })
    safe = spreadsheet_safe(frame)
    assert safe["delta"].tolist() == [-3, 4] and safe["delta"].dtype == frame["delta"].dtype
    assert safe["share"].iloc[0] == -0.5
    assert safe["flag"].tolist() == [True, False]
    assert safe["title"].iloc[0] == "'=cmd" and pd.isna(safe["title"].iloc[1])
    assert safe["mixed"].tolist() == ["'@x", 7]
    assert safe["chain"].tolist() == ['["=a", "b"]', "[]"]  # a JSON list starts with "[": safe
    assert frame["title"].iloc[0] == "=cmd"  # the input is not changed


@pytest.mark.parametrize("url, linked", [
    ("https://example.com/a?b=1", True),
    ("HTTP://EXAMPLE.COM/", True),
    ("javascript:alert(1)", False),
    (" javascript:alert(1)", False),
    ("java\tscript:alert(1)", False),
    ("data:text/html,<script>alert(1)</script>", False),
    ("file:///etc/passwd", False),
    ("//evil.example/", False),
    ("https://exa mple.com/", False),
    ("https://example.com/\n", False),
    (None, False),
    (float("nan"), False),
])
def test_http_url(url, linked):
    assert (http_url(url) is not None) is linked


@pytest.mark.parametrize("value", ["#abc", "#A1B2C3", "#a1b2c3d4", "teal", "RebeccaPurple",
                                   "rgb(31, 95, 153)", "rgba(0,0,0,.5)", "hsl(120deg 50% 40%)",
                                   "rgb(10 20 30 / 50%)"])
def test_css_colour_accepts_colours(value):
    assert css_colour(value) == value.strip().lower()


@pytest.mark.parametrize("value", ["", "#ab", "#abcdefg", "red;}", "url(x.png)", "expression(alert(1))",
                                   "var(--x)", "rgb(1,2,3);background:url(//evil)", "notacolour", None])
def test_css_colour_rejects_anything_else(value):
    with pytest.raises(BrandingError):
        css_colour(value)


def test_script_json_cannot_close_its_block():
    text = '{"t":"</script><!-- <script>"}'
    safe = str(script_json(text))
    assert "<" not in safe
    assert json.loads(safe) == {"t": "</script><!-- <script>"}


def _pages(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"status": [200] * n, "status_class": ["2xx"] * n, "depth": [0] * n, "response_time": [0.1] * n}
    return pd.DataFrame({**base, **columns})


def test_status_code_bars_count_codes_then_errors_and_skips():
    pages = _pages(status=pd.array([200, 200, 404, None, None], dtype="Int64"),
                   status_class=["2xx", "2xx", "4xx", "error", "skipped"])
    bars = charts.status_code_bars(pages)
    assert [(b.label, b.total) for b in bars] == [("200", 2), ("404", 1), ("network error", 1), ("not fetched", 1)]
    assert bars[1].segments[0].css_class == "fill-4xx"


def test_depth_bars_pool_deep_pages_and_count_unlinked():
    pages = _pages(depth=pd.array([0, 1, 1, 12, 30, None], dtype="Int64"))
    bars = charts.depth_bars(pages)
    totals = {b.label: b.total for b in bars}
    assert totals["0"] == 1 and totals["1"] == 2 and totals[f"{charts.DEPTH_BINS}+"] == 2 and totals["none"] == 1
    assert len(bars) == charts.DEPTH_BINS + 2


def test_response_time_bars_mark_slow_bins():
    pages = _pages(response_time=[0.05, 0.3, 0.9, 5.0, np.nan])
    bars = charts.response_time_bars(pages)
    assert [b.total for b in bars] == [1, 0, 1, 0, 1, 0, 1]
    assert [b.segments[0].css_class for b in bars][-3:] == ["fill-warning"] * 3
    assert bars[0].label == "<100" and bars[-1].label == "≥3000"


def test_category_bars_stack_severities_largest_first():
    findings = pd.DataFrame({"category": ["links", "links", "status", None],
                             "severity": ["warning", "critical", "critical", "notice"],
                             "url": ["a", "b", "c", "d"]})
    bars = charts.category_bars(findings)
    assert [(b.label, b.total) for b in bars] == [("links", 2), ("other", 1), ("status", 1)]
    assert [s.value for s in bars[0].segments] == [1, 1, 0]


def test_charts_escape_labels():
    svg = charts.hbar_chart([charts.Bar("<b>x</b>", (charts.Segment(3, "fill-accent"),))], "t<")
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg and "<title>t&lt;</title>" in svg
    empty = charts.column_chart([], "nothing")
    assert empty.startswith("<svg") and "nothing" in empty
