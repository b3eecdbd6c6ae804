"""What a person sees: a live display on a terminal (a real `seo-audit crawl` in a pseudo-terminal,
its screen rendered by a terminal emulator), Scrapy's warnings in SEO words, plain lines elsewhere."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from crawler.progress import SeoFormatter, UserFacing, seo_message
from seo_audit.sitekit import Reply, SiteServer, page

pyte = pytest.importorskip("pyte", reason="the test extra is not installed: pip install -e '.[test]'")

REPO = Path(__file__).resolve().parent.parent
COLUMNS, ROWS = 160, 80
PHASES = ("robots.txt and sitemaps", "crawl", "202 re-checks", "audit", "report")
DATA_LOSS = "response cut short by the server"


@pytest.mark.parametrize("scrapy_says, user_reads", [
    ("Got data loss in http://x/cut. If you want to process broken responses set the setting "
     "DOWNLOAD_FAIL_ON_DATALOSS = False -- This message won't be shown in further requests",
     "response cut short by the server (fewer bytes than announced; recorded as connection-reset): http://x/cut"),
    ("Received 20000000 bytes which is larger than download max size (10485760) in request <GET http://x/big>.",
     "response over the size limit (20000000 bytes > --max-size 10485760), not downloaded: http://x/big"),
    ("Expected to receive 20000000 bytes which is larger than download max size (10485760) in request "
     "<HEAD http://x/big.zip>.",
     "response over the size limit (20000000 bytes > --max-size 10485760), not downloaded: http://x/big.zip"),
    ("Memory usage exceeded 2048MiB. Shutting down Scrapy...",
     "memory limit reached (2048 MiB, --memory-limit-mb): the crawl stops; --resume continues it"),
    ("Spider error processing <GET http://x/p> (referer: None)",
     "a page could not be read (an internal error; details in crawl.log): http://x/p"),
    ("Crawled 10 pages (at 5 pages/min)", None),
])
def test_scrapy_messages_are_said_in_seo_words(scrapy_says, user_reads):
    assert seo_message(scrapy_says) == user_reads


def test_the_terminal_gets_seo_words_and_the_log_file_the_untouched_record():
    record = logging.LogRecord("scrapy.core.downloader.handlers.http11", logging.WARNING, __file__, 1,
                               "Got data loss in %s. If you want to process broken responses set the setting "
                               "DOWNLOAD_FAIL_ON_DATALOSS = False", ("http://x/cut",), None)
    shown = SeoFormatter("%(levelname)s: %(message)s").format(record)
    assert shown == ("WARNING: response cut short by the server (fewer bytes than announced; recorded as "
                     "connection-reset): http://x/cut")
    assert "DOWNLOAD_FAIL_ON_DATALOSS" in logging.Formatter("%(message)s").format(record)
    chatter = logging.LogRecord("scrapy.middleware", logging.INFO, __file__, 1, "Enabled extensions", (), None)
    assert not UserFacing().filter(chatter) and UserFacing().filter(record)


@pytest.fixture(scope="module")
def site():
    """Pages that answer slowly enough for the display to draw, one cut short, a 202, a 404."""
    routes = {"/": page("Home", "".join(f"<a href='/p/{i}'>{i}</a>" for i in range(30))
                        + "<a href='/cut'>cut</a><a href='/wait'>wait</a><a href='/nope'>nope</a>"),
              "/p/*": Reply(200, "<html><head><title>P</title></head><body>text</body></html>", delay=0.15),
              "/cut": Reply(200, "x" * 5000, fault="reset"),
              "/wait": Reply(202, "<html><head><title>Wait</title></head></html>", headers=[("Retry-After", "1")]),
              "/nope": Reply(404, "<html><head><title>Gone</title></head></html>")}
    with SiteServer(routes) as server:
        yield server


def crawl_args(site, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "seo_audit", "crawl", f"{site.url}/", "--out", str(out), "--concurrency", "2",
            "--timeout", "10", "--recheck-max-wait", "1", *extra]


def run_in_pty(argv: list[str], timeout: float = 180) -> tuple[int, bytes]:
    """Run ``argv`` with a pseudo-terminal as stdin, stdout and stderr; its exit code and output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, close_fds=True)
    os.close(slave)
    output, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(30), output


def screen_of(output: bytes) -> str:
    """The screen a terminal shows after ``output``."""
    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(output)
    return "\n".join(line.rstrip() for line in screen.display)


def test_a_crawl_on_a_terminal_shows_its_phases_with_bars_rate_and_eta(site, tmp_path):
    code, output = run_in_pty(crawl_args(site, tmp_path))
    screen = screen_of(output)
    assert code == 0, screen
    done = {phase: line for line in screen.splitlines() for phase in PHASES
            if re.match(rf"✓ {re.escape(phase)}\s+━", line)}
    assert set(done) == set(PHASES), screen
    assert re.search(r"━+ (3\d)/\1 +\d+ pages/s +ETA", done["crawl"]), done["crawl"]
    assert re.search(r"errors: .*HTTP 404 \d", done["crawl"]) and "connection-reset 1" in done["crawl"]
    assert re.search(r" 4/4 ", done["audit"]) and re.search(r" 1/1 ", done["report"])
    assert DATA_LOSS in screen and "/cut" in screen, "Scrapy's warning, in SEO words"
    assert "DOWNLOAD_FAIL_ON_DATALOSS" not in screen and "Enabled downloader middlewares" not in screen
    assert "seo-audit: crawl 1 (" in screen, "the summary line, after the display"
    log = (tmp_path / "crawl.log").read_text()
    assert "DOWNLOAD_FAIL_ON_DATALOSS" in log and "Enabled downloader middlewares" in log, "the full log"


def test_quiet_on_a_terminal_draws_no_display(site, tmp_path):
    code, output = run_in_pty(crawl_args(site, tmp_path, "--quiet"))
    screen = screen_of(output)
    assert code == 0, screen
    assert "━" not in screen and "pages/s" not in screen
    assert "seo-audit: crawl 1 (" in screen and "INFO" not in screen, "errors and the summary line only"


def test_off_a_terminal_the_lines_are_plain_timestamped_and_in_seo_words(site, tmp_path):
    run = subprocess.run(crawl_args(site, tmp_path, "--json"), capture_output=True, timeout=180, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    assert b"\x1b" not in run.stdout + run.stderr, "no terminal escapes in a log or a pipe"
    assert json.loads(run.stdout)["outcome"] == "ok"
    plain = subprocess.run(crawl_args(site, tmp_path / "plain"), capture_output=True, text=True, timeout=180,
                           cwd=REPO)
    assert plain.returncode == 0 and "\x1b" not in plain.stderr
    lines = [line for line in plain.stderr.splitlines() if line]
    assert lines and all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[", line) for line in lines), lines
    assert any(DATA_LOSS in line for line in lines) and "DOWNLOAD_FAIL_ON_DATALOSS" not in plain.stderr
    assert "DOWNLOAD_FAIL_ON_DATALOSS" in (tmp_path / "plain" / "crawl.log").read_text()
