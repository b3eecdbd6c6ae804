"""`seo-audit` as cron, systemd or CI runs it: a subprocess, its exit code, its last line.

The main scenario crawls one site three times while its server changes between the first two
runs (a page turns 202, a link breaks, a redirect is fixed), and checks that history, compare,
the report's "since last crawl" data, --fail-on new, --json and the webhook all tell exactly
those changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from seo_audit.cli import build_parser
from seo_audit.exit_codes import ExitCode
from seo_audit.jobs import lock_path
from seo_audit.sitekit import Reply, page, redirect

FAST = ["--concurrency", "8", "--timeout", "3", "--recheck-max-wait", "1"]


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seo_audit", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


class WebhookReceiver:
    """A stdlib HTTP server on 127.0.0.1:0 that keeps the JSON bodies POSTed to it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def described(title: str, body: str = "", **kwargs) -> Reply:
    """A page with a title, h1 and meta description: no content rule fires on it."""
    return page(title, f"<h1>{title}</h1>{body}",
                head=f"<meta name='description' content='All about {title}'>", **kwargs)


def home(third_link: str) -> Reply:
    return described("Home", f"<a href='/a'>A</a><a href='/b'>B</a><a href='{third_link}'>New</a>")


SITEMAP = ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
           + "".join(f"<url><loc>{{origin}}{path}</loc></url>" for path in ("/", "/a", "/b", "/new"))
           + "</urlset>")


def changing_site() -> dict:
    routes = {
        "/": home("/old"),
        "/a": described("Page A", "<a href='/'>home</a>"),
        "/b": described("Page B"),
        "/old": redirect("/new"),
        "/new": described("New page"),
        "/robots.txt": Reply(200, "User-agent: *\nAllow: /\n", "text/plain"),
    }
    routes["/sitemap.xml"] = lambda hit: Reply(200, SITEMAP.format(origin=hit.server.url), "application/xml")
    return routes


def break_site(routes: dict) -> None:
    """Between the crawls: /a turns 202, the link to /b breaks, the redirect /old is fixed."""
    routes["/a"] = Reply(202, "<html><title>Processing</title>Please wait</html>")
    routes["/b"] = described("Not found", status=404)
    routes["/"] = home("/new")


@pytest.fixture(scope="module")
def three_crawls(tmp_path_factory):
    """Crawl 1 (the baseline), crawl 2 after break_site, then `compare 1 2`, then crawl 3 of the
    unchanged site with retention 2 (which deletes crawl 1)."""
    from seo_audit.sitekit import SiteServer

    out, compare_out = tmp_path_factory.mktemp("job"), tmp_path_factory.mktemp("compare")
    store = out / "seo-audit.sqlite"
    receiver = WebhookReceiver()
    routes = changing_site()
    with SiteServer(routes) as site:
        common = ["crawl", f"{site.url}/", "--out", out, "--job", "nightly", "--fail-on", "new", *FAST]
        first = run_cli(*common)
        break_site(routes)
        second = run_cli(*common, "--json", "--webhook", receiver.url)
        report_summary = json.loads((out / "summary.json").read_text())
        compared = run_cli("compare", "--store", store, "1", "2", "--out", compare_out, "--json")
        third = run_cli(*common, "--retention", "2", "--quiet", "--webhook", closed_port_url())
    receiver.close()
    return {"url": site.url, "out": out, "store": store, "runs": (first, second, third),
            "webhook": receiver.received, "compared": compared, "compare_out": compare_out,
            "report_summary": report_summary}


def test_fail_on_new_passes_the_baseline_fails_on_regressions_then_passes(three_crawls):
    first, second, third = three_crawls["runs"]
    assert first.returncode == 0, first.stderr[-2000:]
    assert "no previous finished crawl" in first.stderr
    assert second.returncode == 1, second.stderr[-2000:]
    assert third.returncode == 0, "the same findings again are not new"


def test_json_summary_is_the_only_stdout_and_the_webhook_gets_it(three_crawls):
    summary = json.loads(three_crawls["runs"][1].stdout)
    assert summary["exit_code"] == 1 and summary["outcome"] == "findings"
    assert summary["crawl_id"] == 2 and summary["previous_crawl_id"] == 1
    assert summary["job"] == "nightly" and summary["state"] == "complete"
    assert summary["new_findings"] > 0 and summary["fixed_findings"] > 0
    assert summary["findings"]["critical"] >= 1  # the 202
    assert three_crawls["webhook"] == [summary]


def test_quiet_prints_the_final_line_and_errors_only(three_crawls):
    third = three_crawls["runs"][2]
    assert third.stdout.count("\n") == 1
    assert third.stdout.startswith("seo-audit: crawl 3 of job nightly") and "exit 0" in third.stdout
    assert "since crawl 2: 0 new, 0 fixed" in third.stdout
    # a webhook that cannot be reached is an error to see, not a reason to fail the run
    assert "webhook" in third.stderr and "attempt 2 of 2" in third.stderr
    assert "INFO" not in third.stderr


def test_plain_runs_log_timestamped_lines_and_end_with_a_summary_line(three_crawls):
    first = three_crawls["runs"][0]
    assert all(line[:4].isdigit() and line[10] == " " for line in first.stderr.splitlines() if line)
    assert first.stdout.splitlines()[-1].startswith("seo-audit: crawl 1 of job nightly")


def test_compare_reports_exactly_the_changes(three_crawls):
    url, result, compare_out = three_crawls["url"], three_crawls["compared"], three_crawls["compare_out"]
    assert result.returncode == 0, result.stderr
    comparison = json.loads(result.stdout)
    assert comparison == json.loads((compare_out / "compare.json").read_text())
    assert comparison == three_crawls["report_summary"]["previous"], "the report got the same comparison"
    assert comparison["status_changes"] == [{"url": f"{url}/a", "old": 200, "new": 202},
                                            {"url": f"{url}/b", "old": 200, "new": 404}]
    assert comparison["appeared"] == [] and comparison["disappeared"] == [f"{url}/old"]
    by_rule = comparison["findings"]["by_rule"]
    new = {(rule, u) for rule, c in by_rule.items() for u in c["new"]}
    fixed = {(rule, u) for rule, c in by_rule.items() for u in c["fixed"]}
    assert {u for _, u in new} == {f"{url}/a", f"{url}/b"}
    assert {("crawlable-202", f"{url}/a"), ("internal-4xx", f"{url}/b")} <= new
    # linking /new directly fixes the redirect, and /new is no longer reached only by a redirect
    assert fixed == {("internal-link-to-redirect", f"{url}/old"), ("orphan-page", f"{url}/new")}
    budget = comparison["budget"]
    assert budget["change"]["wasted"] == budget["new"]["wasted"] - budget["old"]["wasted"]
    assert budget["change"]["by_cause"]["accepted-202-204"] == 1
    assert budget["change"]["by_cause"]["redirects"] == -1
    csv_text = (compare_out / "compare.csv").read_text()
    assert f"status-changed,,,{url}/a,200,202" in csv_text
    assert f"finding-fixed,internal-link-to-redirect,warning,{url}/old" in csv_text


def test_compare_defaults_to_the_last_two_crawls_of_the_job(three_crawls):
    result = run_cli("compare", "--store", three_crawls["store"], "--job", "nightly")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("crawl 2 -> crawl 3 of ")
    assert "status changed: 0" in result.stdout


def test_history_lists_the_crawls_retention_kept(three_crawls):
    result = run_cli("history", "--store", three_crawls["store"], "--json")
    records = json.loads(result.stdout)
    assert [r["id"] for r in records] == [3, 2], "retention 2 deleted crawl 1"
    assert all(r["state"] == "complete" and r["job"] == "nightly" for r in records)
    assert [r["fetched"] for r in records] == [4, 4], "/, /a, /b and /new; /old is gone"
    assert records[1]["findings"]["critical"] >= 1
    text = run_cli("history", "--store", three_crawls["store"], "--job", "nightly").stdout
    assert text.splitlines()[0].split()[:3] == ["id", "job", "start"]
    assert len(text.splitlines()) == 3


def test_audit_verb_fail_on_severity(three_crawls):
    store = three_crawls["store"]
    assert run_cli("audit", "--store", store, "--crawl", "3", "--fail-on", "critical").returncode == 1
    disable = three_crawls["out"] / "lenient.toml"
    disable.write_text("".join(f"[rules.{rule}]\nseverity = 'notice'\n" for rule in (
        "crawlable-202", "202-persistent", "202-without-status-url-or-retry-after", "internal-4xx",
        "202-in-sitemap", "sitemap-non-200")))
    lenient = run_cli("audit", "--store", store, "--crawl", "3", "--config", disable, "--fail-on", "warning")
    assert lenient.returncode == 0, lenient.stdout


def test_the_readme_and_the_help_list_every_exit_code_and_outcome():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    assert [int(code) for code in re.findall(r"^\| (\d+) \|", table, re.M)] == list(ExitCode)
    outcomes = re.search(r"`outcome` is (.+?);", readme, re.S).group(1)
    assert re.findall(r"`([a-z-]+)`", outcomes) == [code.outcome for code in ExitCode]
    assert [int(code) for code in re.findall(r"^  (\d+) ", build_parser().epilog, re.M)] == list(ExitCode)


def test_unreachable_start_url_exits_3(tmp_path):
    result = run_cli("crawl", closed_port_url(), "--out", tmp_path, *FAST, "--retries", "0", "--json")
    assert result.returncode == 3, result.stderr[-2000:]
    assert json.loads(result.stdout)["outcome"] == "crawl-failed"


def test_unusable_store_exits_4(tmp_path):
    (tmp_path / "store-is-a-folder").mkdir()
    result = run_cli("crawl", closed_port_url(), "--out", tmp_path, "--store", tmp_path / "store-is-a-folder")
    assert result.returncode == 4
    assert "crawl store" in result.stderr


def test_usage_errors_exit_2_before_anything_is_written(tmp_path):
    out = tmp_path / "out"
    no_url = run_cli("crawl", "--out", out)
    assert no_url.returncode == 2 and "no start URL" in no_url.stderr
    bad_flag = run_cli("crawl", "http://127.0.0.1:1/", "--out", out, "--max-pages", "-3")
    assert bad_flag.returncode == 2 and "--max-pages" in bad_flag.stderr
    assert not out.exists()


def test_second_run_of_a_job_exits_5_while_the_first_holds_the_lock(tmp_path):
    store = tmp_path / "seo-audit.sqlite"
    with open(lock_path(store, "nightly"), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = run_cli("crawl", closed_port_url(), "--out", tmp_path, "--job", "nightly", "--json")
    assert result.returncode == 5
    assert "another run of job 'nightly' is running" in result.stderr
    assert json.loads(result.stdout)["outcome"] == "locked"
    assert not store.exists(), "the locked-out run touched nothing"


def slow_site(pages: int = 400) -> dict:
    routes = {"/": page("Home", "".join(f"<a href='/p{i}'>{i}</a>" for i in range(pages)))}
    for i in range(pages):
        routes[f"/p{i}"] = Reply(200, f"<html><title>P{i}</title></html>", delay=0.05)
    return routes


def test_sigterm_mid_crawl_exits_130_and_history_says_incomplete(serve, tmp_path):
    site = serve(slow_site())
    store = tmp_path / "seo-audit.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "seo_audit", "crawl", f"{site.url}/", "--out", str(tmp_path),
                             "--job", "big", "--concurrency", "2", "--timeout", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while sum(site.hits.values()) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "--resume" in stderr
    assert "interrupted" in stdout.splitlines()[-1] and "findings" not in stdout.splitlines()[-1]
    (record,) = json.loads(run_cli("history", "--store", store, "--json").stdout)
    assert record["state"] == "incomplete" and 0 < record["fetched"] < 400
    assert not (tmp_path / "report.html").exists()


def test_compare_reads_outlines_and_gets_what_whole_crawls_give(three_crawls):
    from audit import CrawlOutline, load_crawl, load_outline
    from audit.load import OUTLINE_PAGE_COLUMNS
    from seo_audit.compare import compare_crawls, load_for_compare

    store = three_crawls["store"]
    outlines = [load_for_compare(store, crawl_id) for crawl_id in (2, 3)]  # retention deleted 1
    assert all(isinstance(o, CrawlOutline) for o in outlines)  # each audit stored its budget
    assert list(outlines[0].pages.columns) == list(OUTLINE_PAGE_COLUMNS)
    assert compare_crawls(*outlines) == compare_crawls(load_crawl(store, 2), load_crawl(store, 3))
    assert load_outline(store, 1) is None  # no audit stored (deleted): callers load the whole crawl
