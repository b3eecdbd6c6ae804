"""Kill a real crawl process with SIGKILL, resume it, and lose nothing, double nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from seo_audit.sitekit import Reply, SiteServer, page

PAGES = 240


def generated_site() -> dict:
    routes = {"/": page("Home", "".join(f"<a href='/p{i}'>{i}</a>" for i in range(0, 5)))}
    for i in range(PAGES):
        links = "".join(f"<a href='/p{j % PAGES}'>{j}</a>" for j in range(i + 1, i + 6))
        routes[f"/p{i}"] = Reply(200, f"<html><title>P{i}</title><body>{links}"
                                      f"<a href='/r{i}'>r</a><img src='/img{i % 7}.png'></body></html>",
                                 delay=0.01)
        routes[f"/r{i}"] = Reply(301, b"", None, headers=[("Location", f"/p{(i * 7) % PAGES}")])
    for k in range(7):
        routes[f"/img{k}.png"] = Reply(200, b"PNG", "image/png")
    routes["/robots.txt"] = Reply(200, "User-agent: *\nDisallow: /p13\n", "text/plain")
    return routes


def crawl_command(url: str, out, *extra: str) -> list[str]:
    return [sys.executable, "-m", "seo_audit", "crawl", url, "--out", str(out), "--no-report",
            "--concurrency", "4", "--timeout", "5", *extra]


def snapshot(store) -> tuple[dict, int, int]:
    with sqlite3.connect(store) as conn:
        (crawl_id,) = conn.execute("SELECT max(id) FROM crawls").fetchone()
        pages = dict(conn.execute("SELECT url, coalesce(status, skip_reason) FROM pages "
                                  "WHERE crawl_id = ?", (crawl_id,)))
        (links,) = conn.execute("SELECT count(*) FROM links WHERE crawl_id = ?", (crawl_id,)).fetchone()
        (state,) = conn.execute("SELECT count(*) FROM crawls").fetchone()
    return pages, links, state


def recorded(store) -> int:
    try:
        with sqlite3.connect(store, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM pages").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def site():
    with SiteServer(generated_site()) as server:
        yield server


@pytest.fixture(scope="module")
def uninterrupted(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    subprocess.run(crawl_command(site.url + "/", out), check=True, capture_output=True, timeout=300)
    return snapshot(out / "seo-audit.sqlite")


@pytest.mark.parametrize("kill_after", [25, 140, 400])
def test_sigkill_then_resume_equals_uninterrupted(site, uninterrupted, tmp_path, kill_after):
    store = tmp_path / "seo-audit.sqlite"
    proc = subprocess.Popen(crawl_command(site.url + "/", tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while recorded(store) < kill_after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the crawl ended before it could be killed: make the site slower"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial, _, _ = snapshot(store)
    assert 0 < len(partial) < len(uninterrupted[0])

    resumed = subprocess.run(crawl_command(site.url + "/", tmp_path, "--resume"),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    pages, links, crawls = snapshot(store)
    expected_pages, expected_links, _ = uninterrupted
    assert crawls == 1, "resume continues the same crawl"
    assert pages == expected_pages
    assert links == expected_links, "no link row lost or doubled"
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT state FROM crawls").fetchone()[0] == "complete"


def test_sigterm_stops_cleanly_and_marks_incomplete(site, tmp_path):
    store = tmp_path / "seo-audit.sqlite"
    proc = subprocess.Popen(crawl_command(site.url + "/", tmp_path, "--delay", "0.05"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while recorded(store) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    with sqlite3.connect(store) as conn:
        state, finished = conn.execute("SELECT state, finished_at FROM crawls").fetchone()
        kept = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
    assert state == "incomplete" and finished is not None
    assert kept >= 20
    assert "Traceback" not in output
