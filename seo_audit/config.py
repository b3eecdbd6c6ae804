"""Job files: one TOML file says everything a scheduled crawl needs.

A job file, e.g. ``site.toml`` (every key optional except a start URL, which may come from the
command line instead)::

    job = "example-nightly"        # name in history and comparisons (default: the file's stem)
    start_url = "https://www.example.com/"   # one start URL per job
    out = "reports/example"        # output folder (default audit-output)
    store = "example.sqlite"       # crawl store (default OUT/seo-audit.sqlite)
    retention = 30                 # keep the last 30 crawls of this job in the store
    webhook = "https://hooks.example.com/seo"   # POST the run's summary JSON here
    fail_on = "new"                # critical, warning, notice or new
    csv_bom = false
    memory_budget = "2GB"          # peak memory of the audit and report (larger crawls spill to disk)
    logs = ["/var/log/nginx/access.log*"]   # server access logs joined with each crawl (globs)
    bot_ranges = ["googlebot.json"]          # published crawler IP ranges that verify bots

    [crawl]                        # any CrawlOptions field: scope, limits, politeness, downloads
    max_pages = 5000
    exclude = ["/search\\?"]
    concurrency = 4
    user_agent = "googlebot-smartphone"
    sampling = true                # sample URL families (--no-sampling); sample_size = 30
    # list = "old-urls.txt"        # list mode instead of a start URL (--list; "-": stdin);
    # list_sitemap = "https://www.example.com/sitemap.xml"   # or a sitemap's URLs; list_depth = 0

    [rules.slow-response]          # per rule: enabled, severity, thresholds (audit.AuditConfig)
    max_seconds = 1.5
    [rules.missing-meta-description]
    enabled = false

    [branding]                     # the report's title, client, logo (a path), accent colour
    client = "Example Ltd"

    [extract]                      # custom extraction (crawler.extraction): name = spec
    price = "css:.price::text"
    tags = "all:css:.tag::text"
    [search]                       # custom search: pages that contain it ...
    old-brand = "text:regex:(?i)acme corp"
    [search_absent]                # ... and pages that lack it
    analytics = "gtag("
    [segments]                     # audit.segments: name = URL regex or {extract, regex}
    blog = "/blog/"

Relative paths (out, store, branding.logo) are relative to the job file's folder, so a job
runs the same from cron, systemd or a shell. Command-line flags override the file: the CLI
turns them into a dict of the same shape and ``merge`` lays it over the file's.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from audit import AuditConfig
from audit.graph import parse_size
from crawler.options import CrawlOptions
from crawler.url_list import UrlList, read_url_list
from crawler.urls import normalise
from seo_audit.jobs import DEFAULT_STORE_NAME, FAIL_ON

DEFAULT_OUT = Path("audit-output")

#: CrawlOptions fields a job cannot set in [crawl]: they have top-level keys, or are per run
_NOT_IN_CRAWL_TABLE = {"start_url", "store", "job", "resume", "log_level", "list_urls", "list_counts"}
#: CrawlOptions fields set by top-level tables of the job file
CUSTOM_TABLES = ("extract", "search", "search_absent", "segments")
_NOT_IN_CRAWL_TABLE |= set(CUSTOM_TABLES)
#: [crawl] keys (and flags) named otherwise than their CrawlOptions field: a field named ``list``
#: would hide the builtin in the dataclass's annotations
_FIELD_OF_CRAWL_KEY = {"list": "list_file"}
_CRAWL_KEY_OF_FIELD = {fld: key for key, fld in _FIELD_OF_CRAWL_KEY.items()}
CRAWL_KEYS: dict[str, Any] = {_CRAWL_KEY_OF_FIELD.get(name, name): hint
                              for name, hint in typing.get_type_hints(CrawlOptions).items()
                              if name not in _NOT_IN_CRAWL_TABLE}
TOP_LEVEL_KEYS: dict[str, Any] = {
    "job": str, "start_url": str, "out": str, "store": str, "retention": int, "webhook": str,
    "fail_on": str, "csv_bom": bool, "memory_budget": str, "crawl": dict, "rules": dict, "branding": dict,
    # server access logs (audit.logs): files or globs, format, crawler ranges files, DNS checks
    "logs": list[str], "log_format": str, "bot_ranges": list[str], "verify_dns": bool,
    "extract": dict[str, str], "search": dict[str, str], "search_absent": dict[str, str], "segments": dict,
}
BRANDING_KEYS = {"title": str, "client": str, "logo": str, "accent": str}
#: a placeholder start URL, to validate a file's [crawl] table when the URL comes from the command line
_ANY_START_URL = "http://start-url.invalid/"


class ConfigError(ValueError):
    """A job file cannot be used: says which file, which key and (when found) which line."""

    def __init__(self, path: Path, message: str, key: str | None = None, line: int | None = None):
        where = str(path) + (f", line {line}" if line else "") + (f", key {key}" if key else "")
        super().__init__(f"{where}: {message}")
        self.path, self.key, self.line = path, key, line


@dataclass
class Job:
    """Everything a run does, resolved from the job file and the flags. ``options`` is None
    for the commands on stored crawls (report, audit, history, compare): they crawl nothing."""

    store: Path
    name: str | None
    out: Path | None
    options: CrawlOptions | None = None
    url_list: UrlList | None = None  # list mode: what the list file held (its URLs are in options)
    audit: AuditConfig = field(default_factory=AuditConfig)
    branding: dict[str, str] = field(default_factory=dict)
    retention: int | None = None
    webhook: str | None = None
    fail_on: str | None = None
    csv_bom: bool = False
    logs: dict[str, Any] = field(default_factory=dict)  # files, log_format, bot_ranges, verify_dns
    #: the [segments] table (audit.segments); None: the one recorded with the crawl
    segments: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        """What identifies the job in the store: its name, else its (normalised) start URL."""
        return self.name or self.options.start_url


def read_job_file(path: str | Path) -> dict[str, Any]:
    """The checked settings of a job file, relative paths made absolute; ConfigError if unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(path, f"cannot read the job file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "the job file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not valid TOML: {exc}") from None
    lines = text.splitlines()

    def fail(dotted: str, message: str) -> typing.NoReturn:
        raise ConfigError(path, message, dotted, _line_of(lines, dotted))

    _check_table(data, TOP_LEVEL_KEYS, "", fail)
    _check_table(data.get("crawl", {}), CRAWL_KEYS, "crawl", fail)
    _check_table(data.get("branding", {}), BRANDING_KEYS, "branding", fail)
    for rule_id, rule_settings in data.get("rules", {}).items():
        if not isinstance(rule_settings, dict):
            fail(f"rules.{rule_id}", "must be a table of the rule's settings")

    data.setdefault("job", path.stem)
    base = path.resolve().parent
    for key in ("out", "store"):
        if key in data:
            data[key] = str(base / data[key])
    if data.get("crawl", {}).get("list", "-") != "-":
        data["crawl"]["list"] = str(base / data["crawl"]["list"])
    if "logo" in data.get("branding", {}):
        data["branding"]["logo"] = str(base / data["branding"]["logo"])
    for key in ("logs", "bot_ranges"):
        if key in data:
            data[key] = [str(base / item) if "=" not in item else item for item in data[key]]

    def within(table: str) -> dict[str, Any]:
        return {f"{table}.{key}": value for key, value in _table(data, table).items()}

    # the same checks a merged job gets (build_job), piece by piece, so an error names its key
    with _blamed(fail, {k: v for k, v in data.items() if not isinstance(v, dict)}):
        _check_run_settings(data)
    custom = {key: value for table in CUSTOM_TABLES for key, value in within(table).items()}
    with _blamed(fail, custom, next((t for t in CUSTOM_TABLES if t in data), None)):
        _check_custom(data)
    with _blamed(fail, {"start_url": data.get("start_url"), **within("crawl")}, "crawl"):
        _crawl_options({"start_url": _ANY_START_URL, **data})
    for rule_id, rule_settings in _table(data, "rules").items():
        with _blamed(fail, within(f"rules.{rule_id}"), f"rules.{rule_id}"):
            AuditConfig.from_dict({"rules": {rule_id: rule_settings}})
    with _blamed(fail, within("branding"), "branding"):
        _check_branding(_table(data, "branding"))
    return data


def _table(data: Mapping[str, Any], dotted: str) -> dict[str, Any]:
    """The table at ``dotted`` ("rules.slow-response"), or {} if absent."""
    for part in dotted.split("."):  # rule ids are kebab-case: no dots
        data = data.get(part, {})
    return dict(data)


def merge(file_settings: Mapping[str, Any], flag_settings: Mapping[str, Any]) -> dict[str, Any]:
    """Flags over the file: top-level keys replace, [crawl] keys replace one by one, and
    request headers merge by name."""
    merged = {**file_settings, **flag_settings}
    crawl = {**file_settings.get("crawl", {}), **flag_settings.get("crawl", {})}
    headers = {**file_settings.get("crawl", {}).get("headers", {}),
               **flag_settings.get("crawl", {}).get("headers", {})}
    merged["crawl"] = {**crawl, **({"headers": headers} if headers else {})}
    for table in ("extract", "search", "search_absent"):  # by name; [segments] is replaced whole (order)
        if table in file_settings or table in flag_settings:
            merged[table] = {**file_settings.get(table, {}), **flag_settings.get(table, {})}
    return merged


def build_job(settings: Mapping[str, Any], *, crawl: bool = True) -> Job:
    """A validated Job from settings shaped like a job file; ValueError names the bad setting.
    ``crawl=False``: for stored crawls, no start URL needed and the output folder is optional."""
    url_list = None
    if crawl:
        settings, url_list = _listed(settings)
    if crawl and not settings.get("start_url"):
        raise ValueError("no start URL: give it on the command line or as start_url in the job file "
                         "(or a list of URLs: --list FILE, --list-sitemap URL)")
    _check_run_settings(settings)
    _check_branding(settings.get("branding", {}))
    _check_custom(settings)
    options = _crawl_options(settings) if crawl else None
    return Job(
        url_list=url_list,
        store=options.store if options else _store(settings),
        name=settings.get("job"),
        out=_out(settings) if crawl else (Path(settings["out"]) if settings.get("out") else None),
        options=options,
        audit=_audit_config(settings),
        branding=dict(settings.get("branding", {})),
        retention=settings.get("retention"),
        webhook=settings.get("webhook"),
        fail_on=settings.get("fail_on"),
        csv_bom=bool(settings.get("csv_bom", False)),
        logs={"files": list(settings.get("logs") or []), "log_format": settings.get("log_format"),
              "bot_ranges": list(settings.get("bot_ranges") or []),
              "verify_dns": bool(settings.get("verify_dns", False))},
        segments=dict(settings["segments"]) if "segments" in settings else None,
    )


def _audit_config(settings: Mapping[str, Any]) -> AuditConfig:
    config = AuditConfig.from_dict({"rules": settings.get("rules", {})})
    if settings.get("memory_budget") is not None:
        config.memory_budget = parse_size(settings["memory_budget"])
    return config


def _listed(settings: Mapping[str, Any]) -> tuple[Mapping[str, Any], UrlList | None]:
    """List mode's settings: the list file read (its URLs and counts into [crawl]), the start URL
    its first URL (or the list's sitemap). ValueError if there is nothing to fetch."""
    crawl = dict(settings.get("crawl", {}))
    source, sitemap = crawl.get("list"), crawl.get("list_sitemap")
    if not (source or sitemap):
        return settings, None
    if settings.get("start_url"):
        raise ValueError("list mode fetches the list's URLs: give a start URL or a list "
                         "(list, list_sitemap), not both")
    start = normalise(sitemap) if sitemap else None
    if sitemap and start is None:
        raise ValueError(f"list_sitemap {sitemap!r} is not an absolute http(s) URL")
    url_list = None
    if source:
        try:
            url_list = read_url_list(source, max_url_length=crawl.get("max_url_length", 4096))
        except OSError as exc:
            raise ValueError(f"list {source}: cannot read it: {exc.strerror or exc}") from None
        if not url_list.urls and not sitemap:
            hint = " (a CSV needs a header line naming a url column)" if str(source).lower().endswith(".csv") else ""
            raise ValueError(f"list {source}: no URL to fetch: {url_list.describe()}{hint}")
        crawl.update(list_urls=url_list.urls, list_counts=url_list.counts())
        start = start or url_list.urls[0]
    return {**settings, "start_url": start, "crawl": crawl}, url_list


def _out(settings: Mapping[str, Any]) -> Path:
    return Path(settings["out"]) if settings.get("out") else DEFAULT_OUT


def _store(settings: Mapping[str, Any]) -> Path:
    return Path(settings["store"]) if settings.get("store") else _out(settings) / DEFAULT_STORE_NAME


def _crawl_options(settings: Mapping[str, Any]) -> CrawlOptions:
    crawl = dict(settings.get("crawl", {}))
    for name, hint in CRAWL_KEYS.items():
        if name in crawl and _base_type(hint) is float:
            crawl[name] = float(crawl[name])  # TOML says 2 for 2.0
    crawl = {_FIELD_OF_CRAWL_KEY.get(key, key): value for key, value in crawl.items()}
    custom = {table: dict(settings[table]) for table in CUSTOM_TABLES if table in settings}
    options = CrawlOptions(start_url=settings["start_url"], store=_store(settings), job=settings.get("job"),
                           resume=bool(settings.get("resume", False)), **crawl, **custom)
    options.validate()
    # the start URL as the crawler records it: a job without a name is found in the store by it
    options.start_url = normalise(options.start_url)
    return options


def _check_run_settings(settings: Mapping[str, Any]) -> None:
    retention = settings.get("retention")
    if retention is not None and retention < 1:
        raise ValueError(f"retention must be at least 1 (crawls kept per job), got {retention}")
    webhook = settings.get("webhook")
    if webhook is not None and not re.match(r"https?://[^/\s]+", webhook):
        raise ValueError(f"webhook must be an http(s) URL, not {webhook!r}")
    fail_on = settings.get("fail_on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    job = settings.get("job")
    if job is not None and not job.strip():
        raise ValueError("job must not be empty")
    if settings.get("memory_budget") is not None:
        try:
            parse_size(settings["memory_budget"])
        except ValueError as exc:
            raise ValueError(f"memory_budget: {exc}") from None


def _check_custom(settings: Mapping[str, Any]) -> None:
    """The custom extractions, searches and segments: ValueError names a bad one."""
    from audit.segments import parse_segments
    from crawler.extraction import definitions

    extract = settings.get("extract") or {}
    definitions(extract, settings.get("search") or {}, settings.get("search_absent") or {})
    parse_segments(settings.get("segments") or {}, extract)


def _check_branding(branding: Mapping[str, Any]) -> None:
    from reports.branding import Branding

    Branding.from_config(branding)  # reads the logo and checks the colour; writes nothing


# --- the file's shape -------------------------------------------------------------------------

def _check_table(table: Mapping[str, Any], schema: Mapping[str, Any], prefix: str, fail) -> None:
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in schema:
            close = difflib.get_close_matches(key, list(schema), n=1)
            hint = f" (did you mean {close[0]}?)" if close else f"; known keys: {', '.join(schema)}"
            fail(dotted, f"unknown key{hint}")
        if not _conforms(value, schema[key]):
            fail(dotted, f"must be {_describe(schema[key])}, not {value!r}")


def _base_type(hint: Any) -> Any:
    """``int`` for ``int | None``: TOML has no null, an optional setting is simply left out."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return next(h for h in typing.get_args(hint) if h is not type(None))
    return hint


def _conforms(value: Any, hint: Any) -> bool:
    hint = _base_type(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        return isinstance(value, list) and all(_conforms(v, args[0]) for v in value)
    if origin is dict or hint is dict:
        return isinstance(value, dict) and (not args or all(_conforms(v, args[1]) for v in value.values()))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _describe(hint: Any) -> str:
    hint = _base_type(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        return f"a list of {_describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict or hint is dict:
        return "a table" + (f" of {_describe(args[1]).removeprefix('a ')}s" if args else "")
    return {bool: "true or false", int: "an integer", float: "a number"}.get(hint, "a string")


# --- finding the key and line an error is about ---------------------------------------------

@contextmanager
def _blamed(fail, settings: Mapping[str, Any], table: str | None = None) -> Iterator[None]:
    """Turn a ValueError from the checks into ConfigError on the setting the message is about:
    of ``settings`` ({dotted key: value}), the first whose name it says or whose text value it
    quotes; else ``table``. The checks' messages name settings, not where they were written."""
    try:
        yield
    except ValueError as exc:
        message = str(exc)

        def says_name(dotted: str) -> bool:
            return re.search(rf"\b{re.escape(dotted.rsplit('.', 1)[-1])}\b", message) is not None

        def quotes_value(value: Any) -> bool:
            return any(isinstance(item, str) and item and item in message
                       for item in (value if isinstance(value, list) else [value]))

        blamed = (next((k for k in settings if says_name(k)), None)
                  or next((k for k, v in settings.items() if quotes_value(v)), None))
        fail(blamed or table, message)


_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_.\"'-]+?)\s*=")


def _line_of(lines: list[str], dotted: str | None) -> int | None:
    """The line where ``dotted`` (e.g. "crawl.max_pages") is set or its table opens: TOML
    parsers give no positions, so follow the table headers, as a reader of the file would."""
    if not dotted:
        return None
    table = ""
    header_line = None
    for number, line in enumerate(lines, start=1):
        if header := _TABLE_HEADER.match(line):
            table = _unquote(header.group(1))
            if table == dotted:
                header_line = number
            continue
        if key := _KEY_LINE.match(line):
            name = _unquote(key.group(1))
            if ".".join(p for p in (table, name) if p) == dotted:
                return number
    return header_line


def _unquote(dotted: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in dotted.split("."))

