"""Stores survive an upgrade: a store written by release 6281866 (checked in, see
tests/fixtures/old_store.py) opens with this code, its history, comparison, report and
``--fail-on new`` baseline intact; a newer store, or no store at all, is a clear exit 4."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler import store
from seo_audit.exit_codes import ExitCode
from seo_audit.sitekit import page
from tests.fixtures.old_store import JOB, moved_to, site_routes
from tests.test_store_faults import tiny_mount  # noqa: F401 (a fixture)

FIXTURE = Path(__file__).parent / "fixtures" / "store-6281866.sqlite"


def run_cli(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seo_audit", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def old_store(tmp_path) -> Path:
    copy = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, copy)
    return copy


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_the_fixture_is_an_unversioned_store_of_the_earlier_release():
    with sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM crawls WHERE job = ?", (JOB,)).fetchone() == (2,)
    assert "ttfb" not in columns(FIXTURE, "pages")


def test_history_upgrades_the_store_and_lists_its_crawls(old_store):
    result = run_cli("history", "--store", old_store, "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [(r["id"], r["job"], r["state"], r["fetched"]) for r in records] == [
        (2, JOB, "complete", 5), (1, JOB, "complete", 5)]
    assert records[0]["findings"] == {"critical": 0, "warning": 1, "notice": 1}
    with sqlite3.connect(old_store) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (store.SCHEMA_VERSION,)
        assert conn.execute("PRAGMA application_id").fetchone() == (store.APPLICATION_ID,)
        # the new column reads as missing for the crawls made before it
        assert conn.execute("SELECT count(*), count(ttfb) FROM pages").fetchone() == (14, 0)


def test_compare_and_report_read_the_old_crawls(old_store, tmp_path):
    compared = run_cli("compare", "--store", old_store, "--json")
    assert compared.returncode == 0, compared.stderr
    comparison = json.loads(compared.stdout)
    assert (comparison["old"]["crawl_id"], comparison["new"]["crawl_id"]) == (1, 2)
    by_rule = comparison["findings"]["by_rule"]
    assert by_rule["missing-meta-description"]["new"] == [comparison["new"]["start_url"] + "about"]
    assert by_rule["internal-4xx"]["persisting"] == 1
    out = tmp_path / "report"
    reported = run_cli("report", "--store", old_store, "--crawl", "1", "--out", out)
    assert reported.returncode == 0, reported.stderr
    assert "About the fixture site" in (out / "pages.csv").read_text(encoding="utf-8")
    assert (out / "report.html").stat().st_size > 0


def test_fail_on_new_takes_the_old_crawl_as_its_baseline(old_store, serve):
    routes: dict = {}
    site = serve(routes)
    routes.update(site_routes(2, site.url))  # the site as the old release's last crawl saw it
    moved_to(old_store, site.url)
    result = run_cli("crawl", f"{site.url}/", "--store", old_store, "--job", JOB, "--no-report",
                     "--no-resources", "--concurrency", "4", "--fail-on", "new", "--json")
    summary = json.loads(result.stdout)
    assert (result.returncode, summary["previous_crawl_id"], summary["new_findings"]) == (0, 2, 0), result.stderr
    routes["/blog/first"] = page("First post", "<h1>First post</h1>")  # its description is gone
    regressed = run_cli("crawl", f"{site.url}/", "--store", old_store, "--job", JOB, "--no-report",
                        "--no-resources", "--concurrency", "4", "--fail-on", "new", "--json")
    assert regressed.returncode == 1, regressed.stderr
    assert json.loads(regressed.stdout)["new_findings"] >= 1


@pytest.mark.parametrize("verb", ["history", "crawl"])
def test_a_store_from_a_newer_release_exits_4_and_says_so(old_store, verb, tmp_path):
    with sqlite3.connect(old_store) as conn:
        conn.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    args = (["history", "--store", old_store] if verb == "history" else
            ["crawl", "http://127.0.0.1:9/", "--store", old_store, "--out", tmp_path / "out"])
    result = run_cli(*args)
    assert result.returncode == ExitCode.STORE_ERROR
    assert "newer release of seo-audit" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert "ttfb" not in columns(old_store, "pages"), "left as it was"


@pytest.mark.parametrize("content", [b"\x00garbage that is no database" * 100, "sqlite-other-app"])
def test_a_file_that_is_no_crawl_store_exits_4(tmp_path, content):
    path = tmp_path / "not-a-store.sqlite"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (text TEXT)")
    before = path.read_bytes()
    result = run_cli("history", "--store", path)
    assert result.returncode == ExitCode.STORE_ERROR
    assert "not a crawl store" in result.stderr and "Traceback" not in result.stderr
    assert path.read_bytes() == before


def test_declared_columns_are_added_and_migrations_run_once_in_one_transaction(old_store, monkeypatch):
    ran = []
    monkeypatch.setattr(store, "SCHEMA", store.SCHEMA.replace(
        "category TEXT, url TEXT NOT NULL, evidence TEXT",
        "category TEXT, url TEXT NOT NULL, evidence TEXT, weight INTEGER NOT NULL DEFAULT 1"))
    monkeypatch.setattr(store, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(store, "MIGRATIONS", {2: lambda conn: ran.append(
        conn.execute("UPDATE findings SET weight = 3 WHERE rule = 'internal-4xx'").rowcount)})
    store._declared.cache_clear()
    try:
        store.connect(old_store, readonly=True).close()
        store.connect(old_store).close()
        with sqlite3.connect(old_store) as conn:
            weights = dict(conn.execute("SELECT rule, weight FROM findings WHERE crawl_id = 2"))
            assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        assert weights == {"internal-4xx": 3, "missing-meta-description": 1}
        assert ran == [2], "once: the second open found the store up to date"
    finally:
        store._declared.cache_clear()


def test_a_failing_migration_leaves_the_store_as_it_was(old_store, monkeypatch):
    def fails(conn):
        conn.execute("DELETE FROM findings")
        raise sqlite3.OperationalError("migration 2 failed")

    monkeypatch.setattr(store, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(store, "MIGRATIONS", {2: fails})
    with pytest.raises(store.StoreError, match="left as it was"):
        store.connect(old_store)
    with sqlite3.connect(old_store) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM findings").fetchone() == (3,)
    assert "ttfb" not in columns(old_store, "pages")


def test_a_rule_the_baselines_audit_did_not_run_is_no_regression(serve, tmp_path):
    """As after an upgrade that adds a rule: the baseline crawl is audited again with the rules
    in force before the comparison, so only a change of the site counts as new."""
    routes: dict = {}
    site = serve(routes)
    routes.update(site_routes(2, site.url))  # /about has no description
    store_path = tmp_path / "store.sqlite"
    job_file = tmp_path / "job.toml"

    def crawl(rules: str) -> dict:
        job_file.write_text(f'job = "{JOB}"\nstore = "{store_path}"\nfail_on = "new"\n{rules}')
        result = run_cli("crawl", f"{site.url}/", "--config", job_file, "--no-report", "--no-resources",
                         "--json")
        assert result.returncode in (0, 1), result.stderr
        return json.loads(result.stdout) | {"exit": result.returncode}

    crawl("[rules.missing-meta-description]\nenabled = false\n")  # the earlier release had no such rule
    second = crawl("")
    assert (second["exit"], second["new_findings"]) == (0, 0)
    with sqlite3.connect(store_path) as conn:
        assert conn.execute("SELECT count(*) FROM audits WHERE rules IS NOT NULL").fetchone() == (2,)
        # the baseline's own stored audit is left as it was
        assert conn.execute("SELECT count(*) FROM findings WHERE crawl_id = 1 "
                            "AND rule = 'missing-meta-description'").fetchone() == (0,)
    routes["/blog/first"] = page("First post", "<h1>First post</h1>")
    assert crawl("")["exit"] == 1, "a page that lost its description since is new"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_an_old_store_that_cannot_be_written_says_it_must_be_upgraded(old_store, tiny_mount):
    folder = tiny_mount("1m")
    shutil.copy(old_store, folder / "old.sqlite")
    if subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot remount the tmpfs read-only")
    result = run_cli("history", "--store", folder / "old.sqlite")
    assert result.returncode == ExitCode.STORE_ERROR
    assert "earlier release and must be upgraded once, which needs write access" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_baseline_is_audited_again_before_the_crawl_is_loaded(serve, tmp_path, monkeypatch):
    """The baseline's new audit takes a process of its own: it ends before the report's own
    load, so the two crawls are never held at once."""
    import audit
    from seo_audit import cli, compare

    routes: dict = {}
    site = serve(routes)
    routes.update(site_routes(2, site.url))
    store_path = tmp_path / "store.sqlite"
    job_file = tmp_path / "job.toml"
    for rules in ("[rules.missing-meta-description]\nenabled = false\n", ""):  # two releases' rules
        job_file.write_text(f'job = "{JOB}"\nstore = "{store_path}"\n{rules}')
        result = run_cli("crawl", f"{site.url}/", "--config", job_file, "--no-report", "--no-resources")
        assert result.returncode == 0, result.stderr
    with sqlite3.connect(store_path) as conn:  # as the earlier release stored the baseline's audit
        conn.execute("UPDATE audits SET rules = 'an earlier release' WHERE crawl_id = 1")
    events = []
    started, loads = compare.in_new_process, audit.load_crawl

    def in_new_process(function, *args):
        waiting = started(function, *args)
        return lambda: (waiting(), events.append(function.__name__))[0]

    def load_crawl(*args, **kwargs):
        events.append("load_crawl")
        return loads(*args, **kwargs)

    monkeypatch.setattr(compare, "in_new_process", in_new_process)
    monkeypatch.setattr(audit, "load_crawl", load_crawl)
    assert cli.main(["report", "--store", str(store_path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert events == ["reaudited_outline", "load_crawl"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["previous"]["findings"]["new"] == 0, "the baseline was judged by the same rules"
