"""Server logs joined with a real crawl: every format, malformed lines, verification, the join,
Googlebot's crawl budget, the log rules, and `seo-audit logs` end to end."""

from __future__ import annotations

import bz2
import copy
import dataclasses
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from audit.engine import AuditConfig, run_audit
from audit.load import load_crawl
from audit.logs import LogFormatError, analyse_logs, load_logs
from audit.logs import read as log_read
from audit.logs.read import PIPE_CHUNK, _Feeder, _known_agents, _text_chunks, connect, detect_format, read_logs
from audit.rules import RULES_BY_ID
from audit.rules import logs as log_rules
from reports.logs import log_section
from seo_audit.compare import compare_crawls, reaudited_outline
from seo_audit.sitekit import SiteServer

from . import log_site
from .conftest import crawl_site

ROOT = Path(__file__).resolve().parent.parent


def _with(crawl, **changes):
    """A shallow copy of ``crawl`` with ``changes`` (its links shared)."""
    other = copy.copy(crawl)
    vars(other).update(changes)
    return other


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A crawl of the log site, and its logs written in every format."""
    folder = tmp_path_factory.mktemp("logs")
    site_routes = log_site.routes()
    with SiteServer(site_routes) as server:
        log_site.add_sitemap(site_routes, server.url)
        store = folder / "store.sqlite"
        result = crawl_site(f"{server.url}/", store)
    host = server.url.split("//", 1)[1]
    combined = log_site.combined_log()
    logs = {
        "combined": folder / "access.log",
        "combined-gz": folder / "access.log.1.gz",
        "combined-bz2": folder / "access.log.2.bz2",
        "vhost": folder / "vhost.log.bz2",
        "w3c": folder / "u_ex261010.log",
        "cloudfront": folder / "cloudfront.log.gz",
        "cloudflare": folder / "logpush.json.gz",
    }
    logs["combined"].write_bytes(combined)
    logs["combined-gz"].write_bytes(gzip.compress(combined))
    logs["combined-bz2"].write_bytes(bz2.compress(combined))
    logs["vhost"].write_bytes(bz2.compress(log_site.combined_log(vhost=host)))
    logs["w3c"].write_bytes(log_site.w3c_log())
    logs["cloudfront"].write_bytes(gzip.compress(log_site.w3c_log(cloudfront=True, host=host)))
    logs["cloudflare"].write_bytes(gzip.compress(log_site.cloudflare_log(host)))
    ranges = log_site.ranges_file(folder / "googlebot.json")
    crawl = load_crawl(store, result.crawl_id)
    crawl.findings = run_audit(crawl)
    return {"folder": folder, "store": store, "base": server.url, "crawl": crawl, "logs": logs, "ranges": ranges}


def facts_of(site, name, **options):
    return analyse_logs([str(site["logs"][name])], site["crawl"], ranges=[site["ranges"]], **options)


def u(site, path):
    return site["base"] + path


# --- reading ------------------------------------------------------------------------------------

FORMATS = {"combined": "combined", "combined-gz": "combined", "combined-bz2": "combined", "vhost": "vhost",
           "w3c": "w3c", "cloudfront": "cloudfront", "cloudflare": "cloudflare"}
COMBINED_REJECTS = {"not a combined line": [21, 23], "bad date": [22], "not UTF-8 text": [27]}
#: per log: lines, bot lines, visitors' lines, unreadable lines by reason with their line numbers
COUNTS = {
    "combined": (26, 19, 3, COMBINED_REJECTS),
    "combined-gz": (26, 19, 3, COMBINED_REJECTS),
    "combined-bz2": (26, 19, 3, COMBINED_REJECTS),
    "vhost": (26, 19, 3, {"not a vhost line": [21, 23], "bad date": [22], "not UTF-8 text": [27]}),
    "w3c": (20, 16, 3, {"4 fields, the #Fields: header has 12": [22]}),
    "cloudfront": (20, 16, 3, {"2 fields, the #Fields: header has 19": [22]}),
    "cloudflare": (20, 16, 3, {"not JSON": [20]}),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_format_is_detected_from_the_first_lines(site, name):
    assert detect_format(str(site["logs"][name])).format == FORMATS[name]


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_lines_are_counted_and_unreadable_ones_sampled_with_line_and_reason(site, name):
    facts = facts_of(site, name)
    lines, bots, humans, rejected = COUNTS[name]
    (file,) = facts.files
    assert (file["lines"], file["bot_lines"], file["human_lines"], file["rejected"]) == (
        lines, bots, humans, sum(map(len, rejected.values())))
    got = {row["why"]: [s["line"] for s in row["samples"]] for row in facts.rejected.to_dict("records")}
    assert got == rejected


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_every_format_gives_the_same_googlebot_hits(site, name):
    facts = facts_of(site, name)
    assert facts.googlebot_trust == "verified"
    assert facts.budget["hits"] == log_site.GOOGLEBOT_HITS
    per_url = facts.urls.set_index("url")
    assert per_url.loc[u(site, "/sale"), "statuses"] == "202: 3"
    assert per_url.loc[u(site, "/about"), "statuses"] == "200: 1, 500: 1"
    assert per_url.loc[u(site, "/"), "hits"] == 2  # one from an IPv6 address
    assert set(facts.spoofed["url"]) == {u(site, "/about"), u(site, "/noindex")}
    assert int(facts.spoofed["hits"].sum()) == log_site.SPOOFED_HITS


def _read_both_ways(paths):
    """What read_logs gives with DuckDB's CSV reader splitting the lines, and reading them whole."""
    answers = []
    for native in (True, False):
        with connect() as con:
            read = read_logs(con, [str(p) for p in paths], native=native)
            hits = con.execute("SELECT * FROM bot_hits ORDER BY ALL").fetchall()
        rejected = sorted(map(str, read.rejected.to_dict("records")))
        answers.append(((read.lines, read.humans, read.bots, rejected, hits), read.natively))
    return answers


def test_the_csv_reader_path_reads_the_hostile_logs_as_whole_lines_do(site, tmp_path):
    """Every test log, malformed lines included, gives the same counts, refusals (line numbers
    and reasons) and bot hits by either path; the files it can split are split by the CSV reader."""
    # without its bot line of a bad date (read whole, its line number unknown to the CSV reader)
    placed = tmp_path / "placed.log.gz"
    placed.write_bytes(gzip.compress(b"\n".join(line for line in log_site.combined_log().split(b"\n")
                                                 if b"99/Xxx" not in line)))
    crlf = tmp_path / "crlf.log"
    crlf.write_bytes(log_site.combined_log().replace(b"99/Xxx", b"10/Oct").replace(b"\n", b"\r\n"))
    paths = [*site["logs"].values(), placed, crlf]
    (native, natively), (whole, _) = _read_both_ways(paths)
    assert native == whole
    assert {Path(p).name for p in natively} == {"placed.log.gz", "crlf.log", "u_ex261010.log", "cloudfront.log.gz"}
    lines, _, bots, rejected, _ = native
    assert (lines[str(placed)], bots[str(placed)], lines[str(crlf)]) == (25, 19, 26)
    assert sum(str(placed) in row for row in rejected) == 2  # not a combined line (21, 22), not UTF-8 (26)


def test_files_read_at_once_each_give_what_they_give_alone(site, tmp_path):
    """Files are read one query each, several at once on cursors of their own: every file's
    counts, refusals and bot hits are those it gives read alone on one thread."""
    placed = tmp_path / "placed.log.gz"
    placed.write_bytes(gzip.compress(b"\n".join(line for line in log_site.combined_log().split(b"\n")
                                                 if b"99/Xxx" not in line)))
    paths = [str(p) for p in (*site["logs"].values(), placed)]

    def per_file(paths, threads):
        with connect(threads) as con:
            read = read_logs(con, paths)
            hits = con.execute("SELECT * EXCLUDE (file), file FROM bot_hits").fetchall()
        rejected = read.rejected.assign(samples=read.rejected["samples"].map(str))
        return {path: (read.lines[path], read.humans[path], read.bots[path],
                       sorted(map(str, rejected[rejected["file"] == path].to_dict("records"))),
                       sorted(map(str, (row[:-1] for row in hits if paths[row[-1]] == path))), path in read.natively)
                for path in paths}

    together = per_file(paths, 2)
    assert len(together) == len(paths) > 2
    for path, answer in together.items():
        assert answer == per_file([path], 1)[path], path


#: a line whose escaped quote makes up for a missing one: the CSV reader splits it in as many
#: parts as a whole line, so only the escaped quote tells it apart (the file is then read whole)
_PASSING_AS_WHOLE = (f'{log_site.VERIFIED_V4} - - [10/Oct/2026:09:00:00 +0000] "GET /a\\"b HTTP/1.1" 200 5 '
                     f'"-" "{log_site.GOOGLEBOT_MOBILE}')


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, bytes], ids=["gzip", "bz2", "plain"])
def test_an_escaped_quote_in_a_line_of_the_right_shape_sends_its_file_to_the_whole_path(tmp_path, compress):
    clean = b"\n".join(line for line in log_site.combined_log().split(b"\n") if b"99/Xxx" not in line)
    escaped = tmp_path / "escaped.log"
    escaped.write_bytes(compress(clean + _PASSING_AS_WHOLE.encode() + b"\n"))
    placed = tmp_path / "placed.log"
    placed.write_bytes(compress(clean))
    (native, natively), (whole, _) = _read_both_ways([escaped, placed])
    assert native == whole
    assert natively == {str(placed)}
    rejected = [row for row in whole[3] if str(escaped) in row]
    assert any("not a combined line" in row and "'line': 27" in row for row in rejected)


def test_compressed_files_are_fed_through_fifos_that_are_removed(site, tmp_path, monkeypatch):
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    paths = [site["logs"]["combined-gz"], site["logs"]["combined-bz2"], site["logs"]["cloudfront"]]
    with connect() as con:
        read = read_logs(con, [str(p) for p in paths])
        assert con.execute("SELECT count(*) FROM bot_hits").fetchone()[0] > 0
    assert str(site["logs"]["cloudfront"]) in read.natively
    assert [p.name for p in folder.iterdir()] == []


def _fed(path, fifo):
    feeder = _Feeder(str(path), str(fifo))
    with open(fifo, "rb") as f:
        text = f.read()
    escaped = feeder.held_escaped_quotes()
    feeder.close()
    return text, escaped


def test_an_escaped_quote_across_two_chunks_is_found(tmp_path):
    source = tmp_path / "a.log.gz"
    text = b"x" * (PIPE_CHUNK - 1) + b'\\"' + b"y" * 10
    source.write_bytes(gzip.compress(text))
    assert _fed(source, tmp_path / "a.fifo") == (text, True)
    source.write_bytes(gzip.compress(b"x\\y\n" * 1000))
    assert _fed(source, tmp_path / "a.fifo") == (b"x\\y\n" * 1000, False)
    assert not (tmp_path / "a.fifo").exists()


def test_a_gzip_file_cut_short_gives_its_text_up_to_the_cut(tmp_path):
    whole = gzip.compress(os.urandom(3 * PIPE_CHUNK).hex().encode())
    cut = tmp_path / "cut.gz"
    cut.write_bytes(whole[: len(whole) * 6 // 10])
    expected = b""
    with gzip.open(cut, "rb") as f:
        try:
            while chunk := f.read1(PIPE_CHUNK):
                expected += chunk
        except EOFError:
            pass
    assert len(expected) > 3 * PIPE_CHUNK
    assert b"".join(_text_chunks(str(cut))) == expected


@pytest.mark.parametrize("batch", [1, log_read.AGENT_BATCH], ids=["a-query-a-file", "one-query"])
def test_known_agents_hold_every_files_sample_whatever_the_batching(site, tmp_path, monkeypatch, batch):
    monkeypatch.setattr(log_read, "AGENT_BATCH", batch)
    other = tmp_path / "other.log.gz"
    other.write_bytes(gzip.compress(f'{log_site.VERIFIED_V4} - - [10/Oct/2026:09:00:00 +0000] "GET / HTTP/1.1" '
                                    f'200 5 "-" "Mozilla/5.0 (compatible; SeoTestBot/1.0)"\n'.encode()))
    paths = [site["logs"]["combined"], other, site["logs"]["w3c"], site["logs"]["cloudflare"]]

    def known(*logs):
        with connect() as con:
            _known_agents(con, [detect_format(str(p)) for p in logs])
            return dict(con.execute("SELECT agent, agent_is_bot FROM known_agents").fetchall())

    together = known(*paths)
    assert together == {agent: is_bot for path in paths for agent, is_bot in known(path).items()}
    assert together["Mozilla/5.0 (compatible; SeoTestBot/1.0)"] is True
    assert together[log_site.GOOGLEBOT_MOBILE] is True and together[log_site.FIREFOX] is False


def test_odd_urls_are_read_whole_and_normalised(site):
    urls = set(facts_of(site, "combined").bot_hits["url"])
    assert u(site, "/search?q=%22quoted%22%20value") in urls
    assert u(site, "/a%20b") in urls
    assert u(site, "/" + "x" * 10_000) in urls


def test_many_files_and_globs_read_together(site):
    folder = site["folder"]
    facts = analyse_logs([str(folder / "access.log*")], site["crawl"], ranges=[site["ranges"]])
    assert [Path(f["file"]).name for f in facts.files] == ["access.log", "access.log.1.gz", "access.log.2.bz2"]
    assert facts.budget["hits"] == 3 * log_site.GOOGLEBOT_HITS
    assert facts.lines_read == 3 * 26


def test_regex_format_with_named_groups(site, tmp_path):
    log = tmp_path / "custom.log"
    log.write_text(f"2026-10-10T08:00:00+0000|{log_site.VERIFIED_V4}|/sale|202|{log_site.GOOGLEBOT_MOBILE}\n"
                   "nonsense\n")
    regex = r"regex:^(?P<time>[^|]+)\|(?P<ip>[^|]+)\|(?P<url>[^|]+)\|(?P<status>\d+)\|(?P<user_agent>.*)$"
    facts = analyse_logs([str(log)], site["crawl"], ranges=[site["ranges"]], log_format=regex)
    assert facts.urls[["url", "statuses"]].values.tolist() == [[u(site, "/sale"), "202: 1"]]
    assert facts.rejected[["why", "lines"]].values.tolist() == [["does not match the regex", 1]]


def test_unknown_format_and_missing_file_are_clear_errors(site, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello\nworld\n")
    with pytest.raises(LogFormatError, match="not a log format"):
        analyse_logs([str(text)], site["crawl"])
    with pytest.raises(LogFormatError, match="no log file"):
        analyse_logs([str(tmp_path / "absent*.log")], site["crawl"])
    with pytest.raises(LogFormatError, match="unknown group"):
        analyse_logs([str(text)], site["crawl"], log_format="regex:(?P<colour>.*)")


# --- verification -------------------------------------------------------------------------------

def test_without_ranges_googlebot_is_taken_at_its_word_and_bingbot_unknown(site):
    facts = analyse_logs([str(site["logs"]["combined"])], site["crawl"], shipped=False)
    assert facts.googlebot_trust == "claimed"
    assert facts.budget["hits"] == log_site.GOOGLEBOT_HITS + log_site.SPOOFED_HITS
    assert set(facts.bot_hits["verified"]) == {"unknown"}
    assert facts.summary()["verification"]["ranges"] == []


def test_with_ranges_spoofed_googlebot_is_apart_and_ranges_described(site):
    facts = facts_of(site, "combined")
    verdicts = facts.bot_hits.groupby(["bot", "verified"])["hits"].sum().to_dict()
    assert verdicts == {("Bingbot", "unknown"): 4, ("Googlebot desktop", "no"): 2, ("Googlebot desktop", "yes"): 1,
                        ("Googlebot smartphone", "yes"): 12}
    ranges = {r["name"]: r for r in facts.summary()["verification"]["ranges"]}
    google = ranges.pop("googlebot")  # the given file replaces the shipped one of its name
    assert (google["prefixes"], google["creation_time"], google["shipped"]) == (2, "2026-11-30T23:00:00+00:00", False)
    assert set(ranges) == {"special-crawlers", "user-triggered-fetchers"}
    assert all(r["shipped"] for r in ranges.values())


#: an address inside Google's published googlebot ranges (the shipped snapshot: 66.249.66.0/27)
GOOGLE_IP = "66.249.66.1"


def test_the_shipped_snapshot_of_google_ranges_verifies_by_default_and_says_its_date(site, tmp_path):
    log = tmp_path / "access.log"
    log.write_text("".join(log_site.combined_line(ip, 10, "08:00:00", "GET", "/sale", 202, log_site.GOOGLEBOT_MOBILE)
                           + "\n" for ip in (GOOGLE_IP, log_site.VERIFIED_V4)))
    facts = analyse_logs([str(log)], site["crawl"])
    assert facts.googlebot_trust == "verified"
    assert facts.bot_hits.groupby("verified")["hits"].sum().to_dict() == {"yes": 1, "no": 1}
    google = next(r for r in facts.ranges if r["name"] == "googlebot")
    # Google's googlebot.json of 20 August 2026, as published (creationTime and all)
    assert (google["shipped"], google["creation_time"][:10], google["prefixes"]) == (True, "2026-08-20", 315)
    assert google["stale"] == (google["age_days"] > 90)
    out = tmp_path / "out"
    done = run_cli("logs", log, "--store", site["store"], "--out", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = (out / "report.html").read_text()
    assert "the snapshot of Google's published list shipped with seo-audit, created 2026-08-20" in report
    if google["stale"]:
        assert "older than 90 days" in report and "shipped with seo-audit are" in done.stderr


# --- the join and Googlebot's budget ------------------------------------------------------------

def test_per_url_facts_joined_with_the_crawl(site):
    urls = facts_of(site, "combined").urls.set_index("url")
    sale = urls.loc[u(site, "/sale")]
    assert (sale["hits"], sale["in_crawl"], sale["crawl_status"], sale["crawl_cause"]) == (3, True, 202, "accepted-202-204")
    assert sale["first_hit"] == pd.Timestamp("2026-10-10 08:00:00", tz="UTC")
    assert sale["last_hit"] == pd.Timestamp("2026-10-11 09:30:00", tz="UTC")
    assert sale["days_since_last_hit"] == 0
    gone = urls.loc[u(site, "/gone-page")]
    assert (gone["in_crawl"], gone["statuses"], gone["days_since_last_hit"]) == (False, "404: 1", 1)
    assert urls.loc[u(site, "/")]["indexable"]


def test_googlebot_waste_by_cause(site):
    budget = facts_of(site, "combined").budget
    assert budget["by_cause"] == {"redirects": 1, "errors": 3, "accepted-202-204": 4, "blocked": 0, "noindex": 0,
                                  "canonicalised": 0, "duplicates": 1, "trap": 0}
    assert (budget["hits"], budget["wasted"]) == (13, 9)
    assert budget["waste_share"] == pytest.approx(9 / 13)
    assert (budget["urls_not_in_crawl"], budget["hits_not_in_crawl"]) == (2, 2)


# --- rules ----------------------------------------------------------------------------------------

#: rule id -> URLs (paths) it flags on the combined log, and a text its evidence holds
EXPECTED = {
    "googlebot-got-202": (["/sale"], "Googlebot got 202 3 times (of 3 hits: 202: 3) on 2026-10-10 (2), 2026-10-11 (1)"),
    "googlebot-got-202-not-indexable": (["/noindex"], "Googlebot got 202 1 times"),
    "googlebot-got-5xx-429": (["/about", "/robots.txt"], "errors by day: 2026-10-11 (1)"),
    "bot-url-not-in-crawl": (["/gone-page", "/products?color=green", "/search?q=%22quoted%22%20value", "/a%20b",
                              "/" + "x" * 10_000], "Googlebot smartphone: 1 hits (404: 1)"),
    "indexable-not-fetched-by-googlebot": (["/products?color=blue", "/in-sitemap-only"],
                                           "no Googlebot hit between 2026-10-10 08:00 and 2026-10-12 00:00 UTC"),
    "sitemap-url-not-fetched-by-googlebot": (["/in-sitemap-only"], "in the sitemap"),
    "googlebot-parameter-variants": (["/products?color=green"], "pattern /products?color: 2 URLs, 2 Googlebot hits"),
    "spoofed-googlebot": (["/about", "/noindex"], "1 hits from 1 addresses with a Googlebot user agent"),
    "robots-txt-non-200-to-googlebot": (["/robots.txt"], "Googlebot got 503 x 1 on 2026-10-11 (1)"),
}


def test_every_log_rule_is_tested():
    assert set(EXPECTED) == {rule.id for rule in log_rules.RULES}


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_log_rule_flags_exactly_its_urls(site, rule_id):
    crawl = _with(site["crawl"], logs=facts_of(site, "combined"))
    hits = RULES_BY_ID[rule_id].run(crawl)
    paths, evidence = EXPECTED[rule_id]
    assert sorted(hits["url"]) == sorted(u(site, p) for p in paths)
    assert hits["evidence"].str.contains(evidence, regex=False).any(), hits["evidence"].tolist()


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_log_rules_are_silent_without_logs(site, rule_id):
    crawl = load_crawl(site["store"])
    assert len(RULES_BY_ID[rule_id].run(crawl)) == 0


def test_log_rules_declared_fully():
    for rule in log_rules.RULES:
        assert rule.category == "logs" and rule.severity in ("critical", "warning", "notice")
        assert rule.title and rule.why and rule.fix and rule.severity_why and rule.learn_more.startswith("https://")


# --- the command ----------------------------------------------------------------------------------

def run_cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "seo_audit", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=240)


def test_logs_command_writes_the_outputs_and_no_visitor_data(site, tmp_path):
    out = tmp_path / "out"
    done = run_cli("logs", site["logs"]["combined-gz"], site["logs"]["cloudflare"], "--store", site["store"],
                   "--out", out, "--bot-ranges", site["ranges"], "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["outcome"] == "ok"
    bot_hits = pd.read_csv(out / "bot-hits.csv")
    assert list(bot_hits.columns) == ["url", "bot", "verified", "hits", "statuses", "first_hit", "last_hit"]
    sale = bot_hits[bot_hits["url"].eq(u(site, "/sale"))]
    assert sale[["bot", "verified", "hits", "statuses", "first_hit"]].values.tolist() == [
        ["Googlebot smartphone", "yes", 4, "202: 4", "2026-10-10T08:00:00Z"],
        ["Googlebot desktop", "yes", 2, "202: 2", "2026-10-11T09:30:00Z"]]
    log_summary = json.loads((out / "log-summary.json").read_text())
    assert (log_summary["lines_read"], log_summary["lines_rejected"], log_summary["human_lines"]) == (46, 5, 6)
    report_summary = json.loads((out / "summary.json").read_text())
    assert report_summary["logs"]["googlebot"]["hits"] == 2 * log_site.GOOGLEBOT_HITS
    assert "bot-hits.csv" in report_summary["files"]
    findings = pd.read_csv(out / "findings.csv")
    assert set(findings.loc[findings["rule"].eq("googlebot-got-202"), "url"]) == {u(site, "/sale")}
    assert "crawlable-202" in set(findings["rule"])  # the crawl's own findings stay
    report = (out / "report.html").read_text()
    assert "What Googlebot fetched" in report and "Googlebot's real waste" in report
    assert "<script>alert(1)" not in report and "&lt;script&gt;alert(1)" in report  # a sampled log line
    for path in out.iterdir():
        text = path.read_bytes()
        for visitor in (log_site.VISITOR.encode(), b"visitor-only", b"Firefox/133"):
            assert visitor not in text, (path.name, visitor)


def test_logs_command_without_files_or_with_bad_ranges_fails_clearly(site, tmp_path):
    done = run_cli("logs", "--store", site["store"], cwd=tmp_path)
    assert done.returncode == 2 and "log files" in done.stderr
    bad = tmp_path / "googlebot.json"
    bad.write_text("{\"prefixes\": 3}")
    done = run_cli("logs", site["logs"]["combined"], "--store", site["store"], "--bot-ranges", bad, cwd=tmp_path)
    assert done.returncode == 2 and "published format" in (done.stdout + done.stderr)


def test_notebook_api_returns_frames(site):
    facts = load_logs([str(site["logs"]["w3c"])], site["store"], ranges=[site["ranges"]])
    assert isinstance(facts.bot_hits, pd.DataFrame) and isinstance(facts.urls, pd.DataFrame)
    assert facts.budget["hits"] == log_site.GOOGLEBOT_HITS


def test_job_file_logs_and_crawl_logs_flag_then_compare_googlebot_waste(tmp_path):
    """A nightly job: the job file's logs joined with each crawl, then `crawl --logs` with other
    logs; compare reports the change in Googlebot's waste share."""
    site_routes = log_site.routes()
    with SiteServer(site_routes) as server:
        log_site.add_sitemap(site_routes, server.url)
        (tmp_path / "logs").mkdir()
        (tmp_path / "logs" / "access.log.1.gz").write_bytes(gzip.compress(log_site.combined_log()))
        ranges = log_site.ranges_file(tmp_path / "googlebot.json")
        job = tmp_path / "nightly.toml"
        job.write_text(f'start_url = "{server.url}/"\nout = "out"\nstore = "site.sqlite"\n'
                       f'logs = ["logs/access.log*"]\nbot_ranges = ["googlebot.json"]\n'
                       '[crawl]\nconcurrency = 8\ntimeout = 6\nrecheck_max_wait = 1.0\n')
        first = run_cli("crawl", "--config", job, "--json", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert json.loads((tmp_path / "out" / "summary.json").read_text())["logs"]["googlebot"]["hits"] == 13
        healthy = "\n".join(log_site.combined_line(log_site.VERIFIED_V4, 12, f"0{h}:00:00", "GET", "/about", 200,
                                                   log_site.GOOGLEBOT_MOBILE) for h in range(4)) + "\n"
        (tmp_path / "today.log").write_text(healthy)
        second = run_cli("crawl", "--config", job, "--logs", tmp_path / "today.log", "--bot-ranges", ranges,
                         "--json", cwd=tmp_path)
        assert second.returncode == 0, second.stderr
    log_summary = json.loads((tmp_path / "out" / "log-summary.json").read_text())
    assert (log_summary["lines_read"], log_summary["googlebot"]["waste_share"]) == (4, 0.0)
    compared = run_cli("compare", "--config", job, "--json", cwd=tmp_path)
    assert compared.returncode == 0, compared.stderr
    googlebot = json.loads(compared.stdout)["googlebot"]
    assert googlebot["old"]["waste_share"] == pytest.approx(9 / 13)
    assert googlebot["new"]["waste_share"] == 0.0
    assert googlebot["change"]["waste_share"] == pytest.approx(-9 / 13)
    printed = run_cli("compare", "--config", job, cwd=tmp_path)
    assert "Googlebot's waste (server logs): 69% -> 0% (-69 points)" in printed.stdout
    by_rule = json.loads(compared.stdout)["findings"]["by_rule"]  # log findings compared like any
    assert by_rule["googlebot-got-202"]["fixed"] == [f"{server.url}/sale"]
    assert by_rule["googlebot-got-202"]["new"] == []


def test_log_rules_are_rules_like_any_other(site, tmp_path):
    """The job file's [rules] (enable, severity, thresholds), fail_on, findings.csv, the store."""
    store = tmp_path / "store.sqlite"
    store.write_bytes(site["store"].read_bytes())
    job = tmp_path / "job.toml"
    job.write_text(f'store = "{store}"\nout = "out"\nlogs = ["{site["logs"]["combined-gz"]}"]\n'
                   f'bot_ranges = ["{site["ranges"]}"]\nfail_on = "critical"\n'
                   '[rules.spoofed-googlebot]\nenabled = false\n'
                   '[rules.googlebot-got-5xx-429]\nmin_hits = 2\n'
                   '[rules.sitemap-url-not-fetched-by-googlebot]\nseverity = "warning"\n')
    done = run_cli("logs", "--config", job, "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # googlebot-got-202 is critical
    findings = pd.read_csv(tmp_path / "out" / "findings.csv")
    severity = findings.drop_duplicates("rule").set_index("rule")["severity"]
    assert (severity["googlebot-got-202"], severity["sitemap-url-not-fetched-by-googlebot"]) == ("critical", "warning")
    assert not {"spoofed-googlebot", "googlebot-got-5xx-429"} & set(findings["rule"])
    assert (tmp_path / "out" / "findings-googlebot-got-202.csv").exists()
    crawl = load_crawl(store)
    stored = crawl.findings
    assert set(stored.loc[stored["rule"].eq("googlebot-got-202"), "url"]) == {u(site, "/sale")}
    # a comparison audits a crawl again when the rules changed: its logs are gone, its log
    # findings are kept as stored, at the severity in force
    outline = reaudited_outline(store, crawl.crawl_id,
                                AuditConfig.from_dict({"rules": {"googlebot-got-202": {"severity": "warning"}}}))
    kept = outline.findings[outline.findings["rule"].eq("googlebot-got-202")]
    assert kept[["url", "severity"]].values.tolist() == [[u(site, "/sale"), "warning"]]
    lenient = run_cli("logs", "--config", job, "--fail-on", "new", "--json", cwd=tmp_path)
    assert lenient.returncode == 0, lenient.stderr  # no previous crawl of the job: the baseline


def test_report_without_the_logs_keeps_what_they_gave(site, tmp_path):
    """`seo-audit report` audits the crawl again without log files: the logs joined with it
    before are read back from the store, so their findings and the report's section stay."""
    store = tmp_path / "store.sqlite"
    store.write_bytes(site["store"].read_bytes())
    done = run_cli("logs", site["logs"]["combined-gz"], "--store", store, "--out", tmp_path / "first",
                   "--bot-ranges", site["ranges"], "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    again = run_cli("report", "--store", store, "--out", tmp_path / "again", "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    out = tmp_path / "again"
    findings = pd.read_csv(out / "findings.csv")
    assert set(findings.loc[findings["rule"].eq("googlebot-got-202"), "url"]) == {u(site, "/sale")}
    first = pd.read_csv(tmp_path / "first" / "findings.csv")
    assert sorted(findings.loc[findings["category"].eq("logs"), "url"]) == sorted(
        first.loc[first["category"].eq("logs"), "url"])
    report = (out / "report.html").read_text()
    assert "What Googlebot fetched" in report and "2026-11-30" in report  # the ranges' date
    assert json.loads((out / "summary.json").read_text())["logs"]["googlebot"]["hits"] == log_site.GOOGLEBOT_HITS
    assert pd.read_csv(out / "bot-hits.csv").equals(pd.read_csv(tmp_path / "first" / "bot-hits.csv"))
    stored = load_crawl(store).findings
    assert set(stored.loc[stored["rule"].eq("googlebot-got-202"), "url"]) == {u(site, "/sale")}


def test_log_findings_are_not_compared_with_a_run_that_had_no_logs(site):
    crawl = site["crawl"]
    with_logs = _with(crawl, logs=facts_of(site, "combined"))
    with_logs.findings = run_audit(with_logs)
    without_logs = _with(crawl, findings=run_audit(crawl))
    gained = compare_crawls(without_logs, with_logs)["findings"]["by_rule"]["googlebot-got-202"]
    assert (gained["new"], gained["not_compared"]) == ([], 1)
    lost = compare_crawls(with_logs, without_logs)["findings"]["by_rule"]["googlebot-got-202"]
    assert (lost["fixed"], lost["not_compared"]) == ([], 1)
    both = compare_crawls(with_logs, with_logs)["findings"]["by_rule"]["googlebot-got-202"]
    assert (both["persisting"], both["not_compared"]) == (1, 0)


def test_status_monitor_rules_on_the_crawl(site):
    pages = site["crawl"].pages.set_index("url")
    monitor = u(site, "/export/status/7")
    assert (pages.loc[monitor, "fetch_kind"], pages.loc[monitor, "cache_control"]) == ("status-url", "public")
    findings = site["crawl"].findings
    flagged = {rule: set(findings.loc[findings["rule"].eq(rule), "url"]) for rule in (
        "status-monitor-public-indexable", "status-monitor-shared-cacheable", "status-monitor-no-expiry",
        "status-monitor-guessable-id")}
    assert flagged == {"status-monitor-public-indexable": {monitor}, "status-monitor-shared-cacheable": {monitor},
                       "status-monitor-no-expiry": {monitor}, "status-monitor-guessable-id": set()}


def test_bots_on_202s_and_status_monitors_per_day(site, tmp_path):
    hits = [(log_site.VERIFIED_V4, 10, "08:00:00", "/export", 202, log_site.GOOGLEBOT_MOBILE),
            (log_site.VERIFIED_V4, 11, "08:00:00", "/export/status/7", 200, log_site.GOOGLEBOT_MOBILE),
            (log_site.VERIFIED_V6, 11, "09:00:00", "/export/status/7", 200, log_site.GOOGLEBOT_MOBILE),
            (log_site.BING_IP, 11, "10:00:00", "/export/status/7", 200, log_site.BINGBOT),
            (log_site.SPOOFER, 11, "11:00:00", "/export", 202, log_site.GOOGLEBOT_DESKTOP),  # not counted
            (log_site.VISITOR, 11, "12:00:00", "/export", 202, log_site.FIREFOX)]  # nor a visitor
    log = tmp_path / "jobs.log"
    log.write_text("".join(log_site.combined_line(ip, day, clock, "GET", target, status, ua) + "\n"
                           for ip, day, clock, target, status, ua in hits))
    facts = analyse_logs([str(log)], site["crawl"], ranges=[site["ranges"]])
    assert [(str(r.day), r.bot, r.got_202, r.monitor_hits) for r in facts.monitors.itertuples()] == [
        ("2026-10-10", "Googlebot smartphone", 1, 0), ("2026-10-11", "Bingbot", 0, 1),
        ("2026-10-11", "Googlebot smartphone", 0, 2)]
    section = log_section(facts, {})
    assert section["monitors"][0] == {"day": "2026-10-10", "bot": "Googlebot smartphone", "got_202": 1,
                                      "monitor_hits": 0}


def test_a_large_plain_file_has_every_line_counted_and_numbered(site, tmp_path):
    """Past DuckDB's read buffers (tens of MB), lines are neither lost nor misnumbered."""
    line = log_site.combined_line(log_site.VISITOR, 10, "08:00:00", "GET", "/about", 200, log_site.FIREFOX) + "\n"
    count, bad = 300_000, (5, 250_000, 299_999)
    log = tmp_path / "big.log"
    with open(log, "w") as out:
        for number in range(1, count + 1):
            out.write("not a log line\n" if number in bad else line)
    facts = analyse_logs([str(log)], site["crawl"])
    assert (facts.files[0]["lines"], facts.files[0]["human_lines"]) == (count, count - len(bad))
    assert [s["line"] for s in facts.rejected.loc[0, "samples"]] == list(bad)


def test_an_unreadable_file_is_left_out_and_said_the_others_read(site, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\nworld\n")
    broken = tmp_path / "cut.log.gz"  # a gzip file cut short: its lines up to the cut are read
    whole = gzip.compress(log_site.combined_log() * 50)
    broken.write_bytes(whole[: len(whole) * 6 // 10])
    facts = analyse_logs([str(notes), str(site["logs"]["w3c"]), str(broken)], site["crawl"], ranges=[site["ranges"]])
    by_file = {Path(f["file"]).name: f for f in facts.files}
    assert "not a log format" in by_file["notes.txt"]["error"]
    assert by_file["u_ex261010.log"]["lines"] == 20 and facts.budget["hits"] > log_site.GOOGLEBOT_HITS
    assert 0 < by_file["cut.log.gz"]["lines"] < 26 * 50
