"""A report is never lost: not to an odd URL, not to one failing part.

Masking credentials must never merge two URLs (shops' session ids, thousands of playground
links with ``?code=``); a section, chart or export that fails leaves the others written, is
named in the log and the run's summary, and the run exits 4 without a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from audit import RULES, crawl_budget, run_audit
from reports import OutputsMissing, write_outputs
from seo_audit.sitekit import page
from tests.conftest import crawl_site
from tests.rule_frames import make_crawl
from tests.rule_frames import page as page_row
from tests.test_report import (BUDGET, RULES as REPORT_RULES, fixture_crawl, fixture_findings,
                               fixture_previous)

MASK = re.compile(r"<masked:[0-9a-f]{12,}>")
SECRET = "s3cr3t"
PLAYGROUND = "https://play.example.invalid/"


def _output_bytes(path: Path) -> bytes:
    """A file's bytes; a workbook's, unzipped."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return b"".join(book.read(name) for name in book.namelist())
    return path.read_bytes()


def shop_site() -> dict:
    """A shop linking one page under two session ids, an account page under two tokens, and
    sixty playground programs off-site (thirty of them signed)."""
    playground = "".join(f"<a href='{PLAYGROUND}?code=fn+main{i}&amp;edition=2015'>run {i}</a>"
                         for i in range(30))
    signed = "".join(f"<a href='{PLAYGROUND}?code=x&amp;sig={SECRET}-{i}'>signed {i}</a>" for i in range(30))
    return {
        "/": page("Shop", "<a href='/shop?sessionid=k1'>shop</a> <a href='/shop?sessionid=k2'>shop</a>"
                          f"<a href='/account?token={SECRET}-A'>me</a> <a href='/account?token={SECRET}-B'>me</a>"
                          + playground + signed),
        "/shop": page("Our shop", "<a href='/'>home</a>"),
        "/account": page("Account", "<a href='/'>home</a>"),
    }


def test_session_ids_and_playground_links_keep_every_url_and_the_report(serve, tmp_path):
    site = serve(shop_site())
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "seo_audit", "crawl", f"{site.url}/", "--out", str(out),
                           "--concurrency", "8", "--timeout", "5", "--recheck-max-wait", "1"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and (out / "report.html").exists()

    urls = pd.read_csv(out / "pages.csv")["url"]
    assert urls.is_unique
    # a session id is shown: it is the crawl-budget problem the audit is there to show
    assert {f"{site.url}/shop?sessionid=k1", f"{site.url}/shop?sessionid=k2"} <= set(urls)
    assert urls.str.startswith(f"{PLAYGROUND}?code=fn+main").sum() == 30  # `code` is no secret
    # tokens and signatures are masked, each to a digest of its own: no two URLs become one
    accounts = urls[urls.str.startswith(f"{site.url}/account?token=")]
    signed = urls[urls.str.contains("&sig=", regex=False)]
    assert len(accounts) == 2 and len(signed) == 30
    assert all(MASK.fullmatch(url.rsplit("=", 1)[1]) for url in [*accounts, *signed])

    findings = pd.read_csv(out / "findings.csv")
    shops = set(findings.loc[findings["url"].str.contains("sessionid", na=False), "url"])
    assert shops == {f"{site.url}/shop?sessionid=k1", f"{site.url}/shop?sessionid=k2"}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "/shop?sessionid=k1" in report and "/shop?sessionid=k2" in report
    outputs = [path for path in out.iterdir() if ".sqlite" not in path.name]
    assert {"report.xlsx", "summary.json", "links.csv"} <= {path.name for path in outputs}
    assert not [path.name for path in outputs if SECRET.encode() in _output_bytes(path)]
    assert SECRET not in done.stdout + done.stderr


# --- one failing part -------------------------------------------------------------------------

def _fail(*args, **kwargs):
    raise RuntimeError("injected failure")


def test_a_failing_chart_and_section_leave_the_rest_of_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr("reports.charts.depth_bars", _fail)
    monkeypatch.setattr("reports.model.SinceLastCrawl.cause_changes", property(_fail))
    with pytest.raises(OutputsMissing) as raised:
        write_outputs(tmp_path, fixture_crawl(), fixture_findings(), REPORT_RULES, BUDGET,
                      previous=fixture_previous())
    missing = raised.value.missing
    assert missing == {"report.html: Since last crawl": "RuntimeError: injected failure",
                       "report.html: Click depth chart": "RuntimeError: injected failure"}
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count('class="failed-part"') == 2 and "<strong>Since last crawl</strong> could not be drawn" in html
    assert 'id="since-last-crawl"' not in html  # the part is left out whole, not half drawn
    for part in ('id="summary"', 'id="fix-first"', 'id="findings"', 'id="pages-data"', "Status codes", "Response time"):
        assert part in html, part
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["missing"] == missing and "report.html" in summary["files"]
    assert summary["findings"]["total"] == len(fixture_findings())


def test_a_failing_export_leaves_every_other_output(tmp_path, monkeypatch, caplog):
    whole = write_outputs(tmp_path / "whole", fixture_crawl(), fixture_findings(), REPORT_RULES, BUDGET)
    monkeypatch.setattr("reports.exports.write_workbook_of", _fail)
    # an in-process `seo-audit` run earlier in the session gave "reports" its own handler
    monkeypatch.setattr(logging.getLogger("reports"), "propagate", True)
    with caplog.at_level(logging.ERROR, logger="reports"), pytest.raises(OutputsMissing) as raised:
        write_outputs(tmp_path / "out", fixture_crawl(), fixture_findings(), REPORT_RULES, BUDGET)
    assert raised.value.missing == {"report.xlsx": "RuntimeError: injected failure"}
    assert set(raised.value.files) == set(whole) - {"report.xlsx"}
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(set(whole) - {"report.xlsx"})
    for name in ("pages.csv", "links.csv", "findings.csv"):
        assert (tmp_path / "out" / name).read_bytes() == whole[name].read_bytes(), name
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["missing"] == raised.value.missing
    assert "report.xlsx could not be written: RuntimeError: injected failure" in caplog.text


def test_without_a_model_the_csvs_of_the_crawl_are_still_written(tmp_path, monkeypatch):
    monkeypatch.setattr("reports.outputs.build_model", _fail)
    with pytest.raises(OutputsMissing) as raised:
        write_outputs(tmp_path, fixture_crawl(), fixture_findings(), REPORT_RULES, BUDGET)
    assert set(raised.value.missing) == {"findings.csv", "report.html", "report.xlsx"}
    assert set(raised.value.files) == {"pages.csv", "links.csv", "summary.json"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["crawl"]["id"] == fixture_crawl().crawl_id and set(summary["missing"]) == set(raised.value.missing)


@pytest.fixture
def cli_in_process():
    """seo_audit.cli.main in this process, its global set-up (loggers, log records, signal
    handlers) put back afterwards."""
    from seo_audit import cli

    loggers = [logging.getLogger(name) for name in ("seo_audit", "reports")]
    saved = [(logger.handlers[:], logger.propagate, logger.level) for logger in loggers]
    factory = logging.getLogRecordFactory()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield cli.main
    for logger, (kept, propagate, level) in zip(loggers, saved):
        logger.handlers[:], logger.propagate, logger.level = kept, propagate, level
    logging.setLogRecordFactory(factory)
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_the_cli_names_the_missing_output_and_exits_4_without_a_traceback(serve, tmp_path, monkeypatch, capsys,
                                                                        cli_in_process):
    site = serve(shop_site())
    store = tmp_path / "crawl.sqlite"
    crawl_site(f"{site.url}/", store)
    monkeypatch.setattr("reports.exports.spreadsheet_safe", _fail)  # the workbook's cells
    code = cli_in_process(["report", "--store", str(store), "--out", str(tmp_path / "out"), "--json"])
    captured = capsys.readouterr()
    assert code == 4
    summary = json.loads(captured.out)
    assert summary["exit_code"] == 4 and summary["missing"] == ["report.xlsx"]
    assert summary["error"] == f"not written in {tmp_path / 'out'}: report.xlsx"
    assert "report.xlsx could not be written: RuntimeError: injected failure" in captured.err
    assert "Traceback" not in captured.err
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["missing"] == {"report.xlsx": "RuntimeError: injected failure"}
    assert {"report.html", "pages.csv", "links.csv", "findings.csv"} <= set(written["files"])
    assert not (tmp_path / "out" / "report.xlsx").exists()


# --- any URLs -----------------------------------------------------------------------------------

_SEGMENTS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs"), blacklist_characters="/?#&=%"),
                    min_size=1, max_size=12)
_PARAMETERS = st.sampled_from(["token", "sessionid", "code", "sig", "page", "Password", "utm_source", "API_KEY"])
_VALUES = st.one_of(st.sampled_from(["k1", "k2", "K1", "k1 ", "1", "01"]), _SEGMENTS)


@st.composite
def _urls(draw) -> str:
    path = "/" + "/".join(draw(st.lists(_SEGMENTS, min_size=0, max_size=3)))
    query = "&".join(f"{name}={value}" for name, value in draw(st.lists(st.tuples(_PARAMETERS, _VALUES), max_size=3)))
    user = draw(st.sampled_from(["", "", "admin:hunter2@", "deploy-token@"]))
    long_tail = draw(st.sampled_from(["", "", "x" * 3000]))
    return f"https://{user}shop.test{path}{long_tail}" + (f"?{query}" if query else "")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(urls=st.lists(_urls(), min_size=1, max_size=12, unique=True),
       titles=st.lists(st.sampled_from(["Shoes", "Shoes", "Ünïcode ✓", "=cmd()", "", "<b>x</b>"]), min_size=12,
                       max_size=12))
def test_any_urls_give_a_report_with_every_url_kept_apart(tmp_path_factory, urls, titles):
    crawl = make_crawl([page_row(url, title=title) for url, title in zip(urls, titles)])
    findings = run_audit(crawl)
    out = tmp_path_factory.mktemp("out")
    files = write_outputs(out, crawl, findings, RULES, crawl_budget(crawl, findings))
    assert files["report.html"].read_text(encoding="utf-8").rstrip().endswith("</html>")
    pages = pd.read_csv(files["pages.csv"], keep_default_na=False)["url"]
    assert len(pages) == len(crawl.pages) and pages.is_unique  # distinct URLs stay distinct
    assert not [name for name, path in files.items() if b"hunter2" in _output_bytes(path)]


@pytest.mark.parametrize("where", ["reports.exports.copy_csv", "reports.exports.register_redact"])
def test_links_csv_failing_beside_the_other_outputs_leaves_them(tmp_path, monkeypatch, where):
    """links.csv is written by a thread beside the rest (copy_csv), after its set-up (register_redact)."""
    whole = write_outputs(tmp_path / "whole", fixture_crawl(), fixture_findings(), REPORT_RULES, BUDGET)
    monkeypatch.setattr(where, _fail)
    with pytest.raises(OutputsMissing) as raised:
        write_outputs(tmp_path / "out", fixture_crawl(), fixture_findings(), REPORT_RULES, BUDGET)
    assert raised.value.missing == {"links.csv": "RuntimeError: injected failure"}
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(set(whole) - {"links.csv"})
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["missing"] == raised.value.missing
