"""Bad input from the user: one clear message, the right exit code, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seo_audit.sitekit import redirect

EXIT_USAGE, EXIT_CRAWL_FAILED = 2, 3


def seo_audit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seo_audit", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("url, says", [
    ("not a url", "not an absolute http(s) URL"),
    ("ftp://127.0.0.1/", "not an absolute http(s) URL"),
    ("http://127.0.0.1:99999/", "not an absolute http(s) URL"),
    ("javascript:alert(1)", "not an absolute http(s) URL"),
])
def test_malformed_start_url_writes_nothing(tmp_path, url, says):
    done = seo_audit("crawl", url, "--out", str(tmp_path / "out"))
    assert done.returncode == EXIT_USAGE
    assert says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flag, value", [("--max-pages", "-1"), ("--concurrency", "0"),
                                         ("--timeout", "-5"), ("--trap-run", "0")])
def test_negative_limits_rejected(tmp_path, flag, value):
    done = seo_audit("crawl", "http://127.0.0.1:1/", "--out", str(tmp_path / "out"), flag, value)
    assert done.returncode == EXIT_USAGE and flag in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_unreachable_start(tmp_path):
    done = seo_audit("crawl", "http://127.0.0.1:9/", "--out", str(tmp_path / "out"), "--retries", "0")
    assert done.returncode == EXIT_CRAWL_FAILED
    assert "could not be fetched (connection-refused)" in done.stderr and "Traceback" not in done.stderr


def test_start_that_redirects_off_site_at_once(serve, tmp_path):
    site = serve({"/": redirect("https://elsewhere.example/")})
    done = seo_audit("crawl", site.url + "/", "--out", str(tmp_path / "out"))
    assert done.returncode == EXIT_CRAWL_FAILED
    assert "redirects off-site at once, to https://elsewhere.example/" in done.stderr
