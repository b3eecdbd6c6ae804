"""A store that cannot be written (disk full, read-only): a clear error, exit code 4, and a
store that is still whole. Uses small tmpfs mounts, so it needs root (CI runs as root)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from seo_audit.exit_codes import ExitCode
from seo_audit.sitekit import page


@pytest.fixture
def tiny_mount(tmp_path):
    """mount(size, read_only) -> a tmpfs folder of that size, unmounted after the test."""
    mounts = []

    def make(size: str, read_only: bool = False):
        folder = tmp_path / f"mnt{len(mounts)}"
        folder.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                              capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
        mounts.append(folder)
        return folder

    yield make
    for folder in mounts:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def crawl(url: str, out, store) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seo_audit", "crawl", url, "--out", str(out),
                           "--store", str(store), "--no-report", "--concurrency", "8", "--timeout", "5"],
                          capture_output=True, text=True, timeout=300)


def big_site() -> dict:
    routes = {"/": page("Home", "".join(f"<a href='/p{i}'>{i}</a>" for i in range(400)))}
    for i in range(400):
        routes[f"/p{i}"] = page(f"Page {i} " + "long title " * 20,
                                "".join(f"<a href='/p{j}'>anchor text {j} {'x' * 60}</a>" for j in range(60)))
    return routes


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_disk_full_stops_with_clear_error_and_intact_store(serve, tmp_path, tiny_mount):
    site = serve(big_site())
    store = tiny_mount("400k") / "store.sqlite"
    done = crawl(site.url + "/", tmp_path / "out", store)
    assert done.returncode == ExitCode.STORE_ERROR, done.stderr[-3000:]
    assert "could not be written" in done.stderr
    assert "Traceback" not in done.stderr
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
    assert kept > 0, "what was committed before the disk filled is kept"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_read_only_store_fails_before_crawling(serve, tmp_path, tiny_mount):
    site = serve({"/": page("Home")})
    store = tiny_mount("1m", read_only=True) / "store.sqlite"
    done = crawl(site.url + "/", tmp_path / "out", store)
    assert done.returncode == ExitCode.STORE_ERROR
    assert "read-only" in done.stderr.lower()
    assert site.hits["/"] == 0, "nothing is fetched when nothing could be kept"
