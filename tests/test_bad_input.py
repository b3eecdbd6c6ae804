"""Bad input from the user: one clear message, the right exit code, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seo_audit.exit_codes import ExitCode
from seo_audit.sitekit import redirect


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
    assert done.returncode == ExitCode.USAGE_ERROR
    assert says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flag, value", [("--max-pages", "-1"), ("--concurrency", "0"),
                                         ("--timeout", "-5"), ("--trap-run", "0")])
def test_negative_limits_rejected(tmp_path, flag, value):
    done = seo_audit("crawl", "http://127.0.0.1:1/", "--out", str(tmp_path / "out"), flag, value)
    assert done.returncode == ExitCode.USAGE_ERROR and flag in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_unreachable_start(tmp_path):
    done = seo_audit("crawl", "http://127.0.0.1:9/", "--out", str(tmp_path / "out"), "--retries", "0")
    assert done.returncode == ExitCode.CRAWL_FAILED
    assert "could not be fetched (connection-refused)" in done.stderr and "Traceback" not in done.stderr


def test_start_that_redirects_off_site_at_once_is_followed(serve, tmp_path):
    from seo_audit.sitekit import page

    elsewhere = serve({"/": page("Elsewhere", "<a href='/more'>more</a>"), "/more": page("More")},
                      host="127.0.0.7")
    site = serve({"/": redirect(elsewhere.url + "/")})
    done = seo_audit("crawl", site.url + "/", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"redirects to {elsewhere.url}/: the crawl's scope is {elsewhere.url}" in done.stderr
    assert elsewhere.hits["/more"] == 1


def test_start_that_redirects_off_site_at_once_with_strict_origin(serve, tmp_path):
    site = serve({"/": redirect("https://elsewhere.example/")})
    done = seo_audit("crawl", site.url + "/", "--out", str(tmp_path / "out"), "--strict-origin")
    assert done.returncode == ExitCode.CRAWL_FAILED
    assert "redirects off-site at once, to https://elsewhere.example/" in done.stderr


def test_credentials_in_start_url_sent_as_basic_auth_never_written(serve, tmp_path):
    """user:pass@ in the start URL becomes an Authorization header; no output, log or store
    holds the password, and secret query parameters found on the site are masked in outputs."""
    from seo_audit.sitekit import page

    seen = {}

    def home(hit):
        seen["auth"] = hit.headers.get("Authorization")
        return page("Home", "<a href='/x?token=SECRET123&a=1'>x</a>")

    site = serve({"/": home, "/x": page("X")})
    url = site.url.replace("http://", "http://user:pw123@") + "/"
    done = seo_audit("crawl", url, "--out", str(tmp_path / "out"), "-v")
    assert done.returncode == 0, done.stderr[-2000:]
    assert seen["auth"] == "Basic dXNlcjpwdzEyMw=="
    assert "pw123" not in done.stdout + done.stderr and "SECRET123" not in done.stdout + done.stderr
    for path in (tmp_path / "out").iterdir():
        data = path.read_bytes()
        assert b"pw123" not in data and b"dXNlcjpwdzEyMw" not in data, path.name
        if path.suffix in (".html", ".csv", ".json"):
            assert b"SECRET123" not in data, path.name
