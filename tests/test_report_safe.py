"""The report's pure helpers, alone: spreadsheet neutralising, URL redaction, link checks,
colours, charts."""

from __future__ import annotations

import io
import json
import re
import string
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from audit.load import ARROW_TEXT
from reports import charts, safe as safe_module
from reports.branding import BrandingError, css_colour
from reports.html import script_json
from reports.safe import (FORMULA_STARTS, SECRET_PARAMETERS, http_url, neutralise, redact, redact_frame,
                          redact_value, spreadsheet_safe)


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


#: a mask as redact writes it, and as the expectations below write any mask
MASK = re.compile(r"<masked:[0-9a-f]{12,}>")


def _shape(text: str) -> str:
    return MASK.sub("<masked>", text)


@pytest.mark.parametrize("text, expected", [
    ("https://admin:hunter2@example.com/a", "https://<masked>@example.com/a"),
    ("https://deploy-token@example.com/", "https://<masked>@example.com/"),
    ("https://u:p@ss@example.com/", "https://<masked>@example.com/"),  # parsers split at the last @
    ("//u:p@cdn.example.com/x.js", "//<masked>@cdn.example.com/x.js"),
    ("https://example.com/?q=shoes&Token=abc&page=2", "https://example.com/?q=shoes&Token=<masked>&page=2"),
    ("https://example.com/?API_KEY=1&apikey=2&sig=3&password=4",
     "https://example.com/?API_KEY=<masked>&apikey=<masked>&sig=<masked>&password=<masked>"),
    ("https://example.com/cb#access_token=xyz&state=1", "https://example.com/cb#access_token=<masked>&state=1"),
    ("https://example.com/a;signature=0AF3", "https://example.com/a;signature=<masked>"),
    ("https://example.com/?session=", "https://example.com/?session="),  # nothing to hide
    ("https://example.com/?monkey=1&keys=2&postcode=3", "https://example.com/?monkey=1&keys=2&postcode=3"),
    # session ids are shown: a crawl-budget problem the audit is there to show, not a credential
    ("https://example.com/a;jsessionid=0AF3", "https://example.com/a;jsessionid=0AF3"),
    ("https://example.com/shop?sessionid=k1&PHPSESSID=2&sid=3", "https://example.com/shop?sessionid=k1&PHPSESSID=2&sid=3"),
    # a playground's code, a product code, an authorization code already spent: not secrets
    ("https://play.example.org/?code=fn%20main()&edition=2015", "https://play.example.org/?code=fn%20main()&edition=2015"),
    ("linked from https://a:b@example.com/?key=9 with anchor 'mail me@example.com'",
     "linked from https://<masked>@example.com/?key=<masked> with anchor 'mail me@example.com'"),
    ("mailto:someone@example.com", "mailto:someone@example.com"),
    ("Title with = and @ but no URL", "Title with = and @ but no URL"),
])
def test_redact(text, expected):
    assert _shape(redact(text)) == expected


def test_a_masked_value_is_its_digest_the_same_wherever_it_appears():
    first = redact("https://h/a?token=s3cr3t&page=1")
    again = redact("see https://u:p@h/b?x=1&TOKEN=s3cr3t")
    other = redact("https://h/a?token=s3cr3T&page=1")
    (mask,) = MASK.findall(first)
    assert "s3cr3t" not in first + again and mask in again and mask not in other
    assert first != other  # one character apart, still two URLs


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Z", "Cc"), blacklist_characters="&#"),
                        min_size=1), min_size=2, unique=True),
       st.sampled_from(["token", "sig", "password"]))
def test_masking_never_makes_two_urls_one(values, name):
    urls = [f"https://example.com/p?{name}={value}&page=1" for value in values]
    users = [f"https://{value.replace('/', '_').replace('?', '_').replace('@', '_')}@example.com/" for value in values]
    for texts in (urls, users):
        masked = [redact(text) for text in texts]
        assert len(set(masked)) == len(set(texts))
        assert [redact(text) for text in masked] == masked


def test_masks_take_more_digits_rather_than_share_them(monkeypatch):
    from reports import safe

    monkeypatch.setattr(safe, "MASK_DIGITS", 1)  # 16 masks of one digit: most values collide
    mask = safe.Masks(b"a run's key")
    values = [f"secret-{i}" for i in range(300)]
    masks = [mask(value) for value in values]
    assert len(set(masks)) == 300 and {len(m) for m in masks[:3]} == {len("<masked:0>")}
    assert max(map(len, masks)) > len("<masked:0>")
    assert [mask(value) for value in values] == masks and [mask(m) for m in masks] == masks
    assert safe.Masks(b"another run's key")("secret-0") != masks[0]  # keyed: not a guessable hash


@given(st.text())
def test_redact_never_raises_and_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


# userinfo as URLs carry it: printable, no whitespace, none of the characters that end it
# (brackets belong to IPv6 hosts: urlsplit refuses them in userinfo)
_USERINFO_TEXT = st.text(alphabet=st.sampled_from(sorted(set(string.printable) - set(string.whitespace) - set("/?#[]"))),
                         min_size=1)
_HOSTS = st.sampled_from(["example.com", "127.0.0.1:8080", "xn--bcher-kva.example", "[::1]"])
_TAILS = st.sampled_from(["", "/", "/a/b?x=1", "?q=@", "#top", "/p@th"])


@given(st.sampled_from(["http", "https", "ftp", "HTTPS"]), _USERINFO_TEXT, _USERINFO_TEXT, _HOSTS, _TAILS)
def test_redact_never_leaves_a_password_from_userinfo(scheme, user, password, host, tail):
    url = f"{scheme}://{user}:{password}@{host}{tail}"
    redacted = redact(url)
    assert re.fullmatch(f"{scheme}://{MASK.pattern}@{re.escape(host + tail)}", redacted)
    assert urlsplit(redacted).hostname == urlsplit(url).hostname
    assert redact(redacted) == redacted


@given(st.sampled_from(SECRET_PARAMETERS), st.sampled_from([str.lower, str.upper, str.title]),
       st.text(alphabet=st.characters(blacklist_categories=("Cs", "Z", "Cc"), blacklist_characters="&#"), min_size=1),
       st.sampled_from(["?", "?a=1&", "?a=%3D&b=&"]))
def test_redact_masks_every_secret_parameter(name, case, value, before):
    url = f"https://example.com/p{before}{case(name)}={value}&after=1"
    query = dict(parse_qsl(urlsplit(redact(url)).query, separator="&"))
    assert MASK.fullmatch(query[case(name)])
    assert query["after"] == "1"


def test_redact_value_and_frame_reach_lists_and_dicts_and_share_clean_columns():
    assert _shape(json.dumps(redact_value({"chain": ["https://u:p@h/", 3], "n": None}))) == \
        '{"chain": ["https://<masked>@h/", 3], "n": null}'
    frame = pd.DataFrame({
        "url": pd.array(["https://h/?token=1", None, "https://h/?token=2"], dtype="str"),
        "chain": pd.Series([["https://u:p@h/"], [], []], dtype=object),
        "title": pd.array(["clean", "also clean", "clean"], dtype="str"),
        "status": [200, 404, 200],
    })
    redacted = redact_frame(frame)
    assert _shape(redacted["url"].iloc[0]) == "https://h/?token=<masked>" and pd.isna(redacted["url"].iloc[1])
    assert redacted["url"].iloc[0] != redacted["url"].iloc[2]
    assert [[_shape(url) for url in chain] for chain in redacted["chain"]] == [["https://<masked>@h/"], [], []]
    assert redacted["title"] is frame["title"] or redacted["title"].equals(frame["title"])
    assert redacted["status"].tolist() == [200, 404, 200]
    assert frame["url"].iloc[0] == "https://h/?token=1"  # the input is not changed


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


def test_categorical_and_str_columns_are_masked_and_neutralised():
    """Columns stored as categories (the audit's memory-lean form) or pandas' str dtype get the
    same credential masking and formula neutralising as object columns."""
    import pandas as pd

    from reports.safe import redact_frame, spreadsheet_safe

    frame = pd.DataFrame({
        "cat": pd.Categorical(["http://u:pw@x/", "=cmd()", "http://x/?token=abc", "=cmd()"]),
        "text": pd.Series(["http://x/?sig=1", "plain", None, "@SUM(1)"], dtype="str"),
    })
    masked = redact_frame(frame)
    assert list(map(_shape, masked["cat"])) == ["http://<masked>@x/", "=cmd()", "http://x/?token=<masked>", "=cmd()"]
    assert list(map(_shape, masked["text"].tolist()[:2])) == ["http://x/?sig=<masked>", "plain"]
    safe = spreadsheet_safe(frame)
    assert list(safe["cat"])[1] == "'=cmd()" and list(safe["text"])[3] == "'@SUM(1)"


def _to_csv_by_pandas(frame: pd.DataFrame) -> bytes:
    """What write_csv writes, the slow way: the frame made safe, categories decoded to objects,
    then DataFrame.to_csv."""
    safe = spreadsheet_safe(frame)
    decoded = {name: np.append(safe[name].cat.categories.to_numpy(dtype=object), None)[safe[name].cat.codes]
               for name in safe.columns if isinstance(safe[name].dtype, pd.CategoricalDtype)}
    return safe.assign(**decoded).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


_HOSTILE_TEXTS = ["=1+1", "+33", "-5", "@SUM(A1)", "\tx", "\rx", "a,b", 'say "hi"', "line\nbreak", "cr\rin", "",
                  None, "ünïcode ✓", "'quoted", " =x", '="q,"', "-", "\U0001f600", "https://h/?token=1", "x"]
# (a lone surrogate is no UTF-8: a CSV file cannot hold one, with any writer)
_N = len(_HOSTILE_TEXTS)
_SHARED_URLS = pd.CategoricalDtype(["https://h/a", "=HYPERLINK(1)", "https://h/?q=a,b", "-x"])


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"text": pd.array(_HOSTILE_TEXTS, dtype="str"), "n": range(_N)}),
    pd.DataFrame({"only": pd.array(_HOSTILE_TEXTS, dtype="str")}),  # a lone empty field is quoted
    pd.DataFrame({"cells": pd.Series([["=a", 'b"c'], [], (1, 2), {"k": "v,w"}, np.array([1, 2]), None, float("nan"),
                                      pd.NA, 7, -3.5, "=x", "a,b", True, np.float64(0.1), np.int64(4), {1, 2}, "",
                                      np.array(-5), "\nx", ['one "text", ü']], dtype=object), "n": range(_N)}),
    pd.DataFrame({"chains": pd.Series([[t] for t in _HOSTILE_TEXTS[:16]] + [[], ["a", "=b"], [1, None], ["ü", '"']],
                                      dtype=object), "n": range(_N)}),  # lists only (redirect chains)
    pd.DataFrame({"ints": pd.Series([7, None] * 10, dtype=object),  # written 7.0: pandas infers floats
                  "mixed": pd.Series([1.5, 2, "a", None] * 5, dtype=object)}),
    pd.DataFrame({"cat": pd.Categorical(_HOSTILE_TEXTS[:11] + [None] * 9,
                                        categories=[t for t in _HOSTILE_TEXTS if t is not None] + ["unused"]),
                  "nums": pd.Categorical([1, 2, None, 3] * 5), "floats": pd.Categorical([0.1, 1e-05, None, 3.0] * 5),
                  "missing": pd.Categorical([None] * _N, categories=["z"]),
                  "dates": pd.Categorical(pd.to_datetime(["2020-01-01", "2020-01-02 03:00", None, "2020-01-01"] * 5,
                                                         format="mixed"))}),
    pd.DataFrame({"source": pd.Categorical.from_codes([0, 1, 2, -1] * 5, dtype=_SHARED_URLS),  # links' source and
                  "target": pd.Categorical.from_codes([3, 2, 1, 0] * 5, dtype=_SHARED_URLS)}),  # target share one dtype
    pd.DataFrame({"Int64": pd.array([1, None, -3, 0] * 5, dtype="Int64"), "int": np.arange(_N) - 10,
                  "uint": np.arange(_N, dtype=np.uint64) * 2**60,
                  "float": [0.1, 1e-05, 1234567.0, np.nan, -0.0, 0.0, np.inf, 1e16, 12.0, -2.5] * 2,
                  "float32": np.array([0.1, 1e-05, 3.3, np.nan] * 5, dtype=np.float32), "bool": [True, False] * 10,
                  "boolean": pd.array([True, None, False, True] * 5, dtype="boolean"),
                  "Float64": pd.array([0.1, None, 2.0, 3.5] * 5, dtype="Float64")}),
    pd.DataFrame({"date": pd.to_datetime(["2020-01-01", None] * 10), "delta": pd.to_timedelta([1, 2] * 10, unit="D"),
                  "period": pd.period_range("2020-01", periods=_N, freq="M")}),
    pd.DataFrame({"a,b": [1], 'q"': [2], "": [3], "=x": [4]}),
    pd.DataFrame({"text": pd.array([], dtype="str"), "n": []}),
    pd.DataFrame(index=range(3)),
], ids=["text", "one-column", "objects", "lists", "inferred", "categories", "shared-categories", "numbers", "dates", "header", "empty", "no-columns"])
def test_csv_is_pandas_to_csv_of_the_safe_frame(frame, tmp_path):
    """DuckDB writes the bytes DataFrame.to_csv writes of the spreadsheet_safe frame."""
    from reports import safe

    assert safe.write_csv(tmp_path / "x.csv", frame).read_bytes() == _to_csv_by_pandas(frame)


def test_write_csv_bom_and_crlf(tmp_path):
    from reports.safe import write_csv

    path = write_csv(tmp_path / "x.csv", pd.DataFrame({"t": pd.array(["=a", "b\nc"], dtype="str")}), bom=True)
    assert path.read_bytes() == b"\xef\xbb\xbft\r\n'=a\r\n\"b\nc\"\r\n"


def test_redact_frame_masks_shared_lists_and_repeated_text_alike():
    chain = ["https://u:p@h/", "https://h/?sig=2"]
    frame = pd.DataFrame({
        "chain": pd.Series([chain, chain, ["https://h/a"], [], ["q=1"]], dtype=object),
        "clean": pd.Series([["a"], ["b"], [], ["a"], ["c"]], dtype=object),
        "type": pd.array(["text/html; charset=utf-8"] * 3 + ["https://h/?token=1", None], dtype="str"),
    })
    redacted = redact_frame(frame)
    masked_chain = ["https://<masked>@h/", "https://h/?sig=<masked>"]
    assert [list(map(_shape, chain)) for chain in redacted["chain"]] == [masked_chain, masked_chain, ["https://h/a"], [], ["q=1"]]
    assert redacted["chain"].iloc[0] == redacted["chain"].iloc[1]
    assert redacted["clean"].tolist() == frame["clean"].tolist()
    assert list(map(_shape, redacted["type"].tolist()[:4])) == ["text/html; charset=utf-8"] * 3 + ["https://h/?token=<masked>"]
    assert pd.isna(redacted["type"].iloc[4]) and redacted["type"].dtype == frame["type"].dtype
    assert frame["chain"].iloc[0] == ["https://u:p@h/", "https://h/?sig=2"]  # the input is not changed


def test_every_formula_start_is_below_the_sql_prefix_test():
    # csv_columns skips left() for a text not below "A": a new formula start above it would pass unneutralised
    assert max(map(ord, FORMULA_STARTS)) < ord("A")


# pieces of texts that may or may not hold credentials: userinfo, secret parameters in any case,
# characters Python's IGNORECASE folds to ASCII (the Kelvin sign, the long s), a lone surrogate
_PIECES = st.sampled_from(["https://", "//", "u:p", "@", "h", "/", "?", "&", ";", "#", "=", "token", "KEY",
                           "Sig", "\u212aey", "\u017fecret", "x-amz-signature", "a", " ", "é", "\ud800"])


@given(st.lists(st.one_of(st.none(), st.lists(_PIECES, max_size=8).map("".join)), max_size=20))
def test_only_texts_told_apart_as_suspect_go_to_redact_and_every_one_redact_changes_is(texts):
    suspect = safe_module._suspect_texts(np.array(texts, dtype=object))
    assert suspect.dtype == bool and len(suspect) == len(texts)
    for text, flagged in zip(texts, suspect.tolist()):
        if isinstance(text, str) and redact(text) != text:
            assert flagged, text
        if text is None:
            assert not flagged


@given(st.lists(st.one_of(st.none(), st.lists(_PIECES, max_size=8).map("".join)), max_size=20))
def test_texts_tested_a_chunk_at_a_time_are_masked_as_all_at_once(texts):
    # a chunk with a lone surrogate is tested by its characters (more texts told suspect), the
    # others by Arrow: which texts go to redact differs, what it makes of them does not
    column = pd.Series(texts, dtype="str")
    at_once = safe_module._redacted_texts(column)
    with mock.patch.object(safe_module, "SUSPECT_CHUNK", 3):
        suspect = safe_module._suspect_texts(column.to_numpy(dtype=object))
        chunked = safe_module._redacted_texts(column)
    pd.testing.assert_series_equal(chunked, at_once)
    for text, flagged in zip(texts, suspect.tolist()):
        if isinstance(text, str) and redact(text) != text:
            assert flagged, text


@given(st.lists(st.one_of(st.none(), st.lists(_PIECES.filter(lambda piece: piece != "\ud800"), max_size=8).map("".join)),
                max_size=20))
def test_arrow_texts_are_masked_as_python_texts_and_stay_arrow_texts(texts):
    # a store's texts a load keeps Arrow's (audit.load, PageFact.distinct) are tested by Arrow's
    # kernels over the whole column, not made Python objects first
    python = safe_module._redacted_texts(pd.Series(texts, dtype="str"))
    arrow = safe_module._redacted_texts(pd.Series(texts, dtype=ARROW_TEXT))
    assert arrow.dtype == ARROW_TEXT
    pd.testing.assert_series_equal(arrow.astype("str"), python)


def test_values_masked_by_threads_at_once_get_one_mask_each():
    """links.csv is masked by a thread while the pages are masked by another: a value both
    meet first at once still gets one mask, and two values never one."""
    import sys
    import threading

    from reports import safe

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the threads take turns between any two steps
    try:
        masks = safe.Masks(b"a run's key")
        values = [f"secret-{i}" for i in range(20_000)]
        seen: list[list[str]] = [[] for _ in range(4)]
        start = threading.Barrier(4)

        def mask_all(out: list[str]) -> None:
            start.wait()
            out.extend(masks(value) for value in values)

        threads = [threading.Thread(target=mask_all, args=(out,)) for out in seen]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert seen[0] == seen[1] == seen[2] == seen[3]
    assert len(set(seen[0])) == len(values) and [masks(value) for value in values] == seen[0]
