"""Job files: every bad key or value is named with its file and line, before anything runs."""

from __future__ import annotations

import json
import sqlite3
import textwrap

import pytest

from seo_audit.config import ConfigError, build_job, merge, read_job_file
from seo_audit.sitekit import page
from tests.test_cli import FAST, run_cli


def job_file(tmp_path, text: str, name: str = "site.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("text, key, line, words", [
    ("start_url = 'https://example.com/'\n[crawl]\nmax_page = 10\n",
     "crawl.max_page", 3, "unknown key (did you mean max_pages?)"),
    ("colour = 'red'\n", "colour", 1, "unknown key; known keys: job, start_url"),
    ("[crawl]\n\nconcurrency = 'fast'\n", "crawl.concurrency", 3, "must be an integer, not 'fast'"),
    ("[crawl]\ninclude = '/blog/'\n", "crawl.include", 2, "must be a list of strings"),
    ("[crawl]\nautothrottle = 1\n", "crawl.autothrottle", 2, "must be true or false"),
    ("[crawl]\ntimeout = 3\nmax_pages = -5\n", "crawl.max_pages", 3, "max_pages must be at least 1, got -5"),
    ("[crawl]\nmax_depth = -1\n", "crawl.max_depth", 2, "must not be negative"),
    ("[crawl]\nexclude = ['ok', '(unclosed']\n", "crawl.exclude", 2, "bad URL pattern '(unclosed'"),
    ("start_url = 'ftp://example.com/'\n", "start_url", 1, "not an absolute http(s) URL"),
    ("retention = 0\n", "retention", 1, "retention must be at least 1"),
    ("fail_on = 'sometimes'\n", "fail_on", 1, "fail_on must be one of critical, warning, notice, new"),
    ("webhook = 'mailto:me@example.com'\n", "webhook", 1, "webhook must be an http(s) URL"),
    ("[rules.no-such-rule]\nenabled = false\n", "rules.no-such-rule", 1, "unknown rule id 'no-such-rule'"),
    ("[rules.slow-response]\nseverity = 'fatal'\n", "rules.slow-response.severity", 2, "must be one of"),
    ("[rules.slow-response]\nmax_seconds = 'slow'\n", "rules.slow-response.max_seconds", 2, "must be a float"),
    ("[rules.slow-response]\nmax_secs = 2\n", "rules.slow-response.max_secs", 2, "unknown setting 'max_secs'"),
    ("[branding]\naccent = 'url(evil)'\n", "branding.accent", 2, "is not a CSS colour"),
    ("[branding]\nlogo = 'missing.png'\n", "branding.logo", 2, "cannot read logo"),
    ("[branding]\nfont = 'Arial'\n", "branding.font", 2, "unknown key"),
    ("memory_budget = 'lots'\n", "memory_budget", 1, "not a size"),
    ("memory_budget = '1MB'\n", "memory_budget", 1, "under 64 MB"),
])
def test_bad_key_or_value_names_file_key_and_line(tmp_path, text, key, line, words):
    path = job_file(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        read_job_file(path)
    error = caught.value
    assert (error.path, error.key, error.line) == (path, key, line)
    assert words in str(error)
    assert str(error).startswith(f"{path}, line {line}, key {key}: ")


def test_memory_budget_reaches_the_audit_config(tmp_path):
    from audit.graph import DEFAULT_MEMORY_BUDGET

    job = build_job(read_job_file(job_file(tmp_path, "memory_budget = '1.5 GB'\n")), crawl=False)
    assert job.audit.memory_budget == int(1.5 * 2**30)
    assert build_job({}, crawl=False).audit.memory_budget == DEFAULT_MEMORY_BUDGET == 2 * 2**30


def test_toml_syntax_error_says_where(tmp_path):
    path = job_file(tmp_path, "[crawl]\nmax_pages = = 3\n")
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 2"):
        read_job_file(path)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the job file"):
        read_job_file(tmp_path / "nope.toml")


def test_a_full_job_file(tmp_path):
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    path = job_file(tmp_path, """
        start_url = "https://www.example.com/"
        out = "reports"
        retention = 7
        webhook = "https://hooks.example.com/seo"
        fail_on = "new"

        [crawl]
        max_pages = 500
        timeout = 3                       # an integer where a float is expected is fine
        exclude = ["/search\\\\?"]
        headers = { Authorization = "Bearer x" }

        [rules.slow-response]
        max_seconds = 2
        severity = "notice"
        [rules.missing-h1]
        enabled = false

        [branding]
        client = "ACME"
        logo = "logo.png"
    """, name="example-nightly.toml")
    job = build_job(read_job_file(path))
    assert job.name == "example-nightly", "the job is named after its file"
    assert job.out == tmp_path / "reports" and job.store == tmp_path / "reports" / "seo-audit.sqlite"
    assert job.branding["logo"] == str(tmp_path / "logo.png")
    assert (job.retention, job.webhook, job.fail_on) == (7, "https://hooks.example.com/seo", "new")
    options = job.options
    assert (options.max_pages, options.timeout, options.exclude) == (500, 3.0, ["/search\\?"])
    assert isinstance(options.timeout, float)
    assert options.headers == {"Authorization": "Bearer x"}
    assert job.audit.disabled == {"missing-h1"}
    assert job.audit.severities == {"slow-response": "notice"}
    assert job.audit.thresholds == {"slow-response": {"max_seconds": 2}}


def test_flags_override_the_file(tmp_path):
    path = job_file(tmp_path, """
        start_url = "https://www.example.com/"
        [crawl]
        max_pages = 500
        concurrency = 2
        headers = { Authorization = "Bearer x", X-Env = "staging" }
    """)
    flags = {"start_url": "https://staging.example.com/", "crawl": {"max_pages": 3, "headers": {"X-Env": "ci"}}}
    job = build_job(merge(read_job_file(path), flags))
    assert job.options.start_url == "https://staging.example.com/"
    assert (job.options.max_pages, job.options.concurrency) == (3, 2)
    assert job.options.headers == {"Authorization": "Bearer x", "X-Env": "ci"}


def test_the_start_url_may_come_from_the_command_line_only(tmp_path):
    settings = read_job_file(job_file(tmp_path, "[crawl]\nmax_pages = 5\n"))
    with pytest.raises(ValueError, match="no start URL"):
        build_job(settings)
    assert build_job(merge(settings, {"start_url": "https://example.com"})).options.start_url == "https://example.com/"


def test_cli_config_error_exits_2_and_writes_nothing(tmp_path):
    path = job_file(tmp_path, """
        start_url = "http://127.0.0.1:1/"
        out = "out"
        [crawl]
        max_pages = -1
    """)
    result = run_cli("crawl", "--config", path, "--json")
    assert result.returncode == 2
    assert f"{path}, line 5, key crawl.max_pages: max_pages must be at least 1" in result.stderr
    assert json.loads(result.stdout)["outcome"] == "usage-error"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.toml"]


def test_cli_crawl_with_a_job_file_and_overriding_flags(serve, tmp_path):
    site = serve({"/": page("Home", "<a href='/a'>a</a><a href='/b'>b</a>"), "/a": page("A"), "/b": page("B")})
    path = job_file(tmp_path, f"""
        start_url = "{site.url}/"
        out = "report"
        [crawl]
        max_pages = 100
        user_agent = "googlebot-desktop"
        [rules.missing-h1]
        enabled = false
        [branding]
        client = "ACME Widgets"
    """, name="acme.toml")
    result = run_cli("crawl", "--config", path, "--max-pages", "2", *FAST)
    assert result.returncode == 0, result.stderr[-2000:]
    store = tmp_path / "report" / "seo-audit.sqlite"
    with sqlite3.connect(store) as conn:
        job, settings = conn.execute("SELECT job, settings FROM crawls").fetchone()
        rules = {rule for (rule,) in conn.execute("SELECT DISTINCT rule FROM findings")}
    settings = json.loads(settings)
    assert job == "acme"
    assert settings["max_pages"] == 2 and settings["user_agent"] == "googlebot-desktop"
    assert settings["concurrency"] == 8, "the flag given"
    assert "missing-h1" not in rules and "missing-meta-description" in rules
    assert "ACME Widgets" in (tmp_path / "report" / "report.html").read_text()
