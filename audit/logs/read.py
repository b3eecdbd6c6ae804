"""Read server access logs with DuckDB: every line parsed in the engine, only bot hits kept.

Files of a format whose lines split at one character (the combined family at its quotes, W3C
and CloudFront at their separator) are split by DuckDB's CSV reader (``_native_select``); the
others are read as whole lines (one VARCHAR column); one query a file, as many at once as DuckDB
has threads (``_read_into``). A compressed file is fed to DuckDB through a FIFO by a thread that
inflates it (``_Feeder``), so no file is ever held whole in memory or written out. Either way the lines are
taken apart by the same vectorised string expressions of their format, detected from the first
lines (``detect_format``) or forced, and grouped: a bot's hits row by row, a visitor's as one
count per file (no visitor's IP, URL or user agent leaves the engine), unreadable lines as a
count and a sample per file and reason (file, line number, why).
"""

from __future__ import annotations

import bz2
import fcntl
import gzip
import os
import re
import shutil
import tempfile
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import duckdb
import pandas as pd
from isal import igzip, isal_zlib

from audit.logs.bots import PREFILTER

FORMATS = ("combined", "common", "vhost", "w3c", "cloudfront", "cloudflare")
#: unreadable lines sampled per file and reason
SAMPLES = 5
#: characters of an unreadable line shown in its sample
SAMPLE_CHARS = 200
#: lines read to detect a file's format
DETECT_LINES = 50
#: DuckDB's memory limit: past it, the grouping of bot hits spills to its temporary folder
MEMORY_LIMIT = "500MB"
#: bytes of a compressed file inflated, and handed to DuckDB through its FIFO, at a time
PIPE_CHUNK = 1 << 20
#: longest line read; a longer one is counted as unreadable
MAX_LINE_BYTES = 1 << 20

#: what a line's format gives (any may be NULL but time, status and target)
LINE_COLUMNS = ("ip", "time", "target", "status", "user_agent", "host", "scheme", "response_time")


class LogFormatError(ValueError):
    """A file whose format cannot be told, or a bad --format."""


@dataclass
class LogFile:
    path: str
    format: str  # one of FORMATS, or "regex"
    fields: list[str] = field(default_factory=list)  # W3C/CloudFront: the #Fields header
    regex: str | None = None
    #: (delimiter, parts) when DuckDB's CSV reader can split the file's lines as the format's
    #: parts expression does (see _native_select); None: lines read whole and split in SQL
    native: tuple[str, int] | None = None


@dataclass
class LogRead:
    """What reading some log files found."""

    files: list[LogFile]
    lines: dict[str, int]  # per file: lines read (blank and comment lines left out)
    humans: dict[str, int]  # per file: visitors' lines (counted, never kept)
    bots: dict[str, int]  # per file: bots' lines (in the BOT_HITS table)
    rejected: pd.DataFrame  # file, why, lines, samples (a list of {"line", "text"})
    unreadable: dict[str, str] = field(default_factory=dict)  # file -> why it was left out
    natively: set[str] = field(default_factory=set)  # files whose lines DuckDB's CSV reader split


# --- opening and detecting ------------------------------------------------------------------

def compression(path: str) -> str | None:
    with open(path, "rb") as f:
        magic = f.read(3)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"BZh":
        return "bz2"
    return None


#: what reading a damaged compressed file raises (cut short, corrupt)
DAMAGED = (OSError, EOFError, ValueError, zlib.error, isal_zlib.error)


def _open(path: str):
    kind = compression(path)
    return gzip.open(path, "rb") if kind == "gzip" else bz2.open(path, "rb") if kind == "bz2" else open(path, "rb")


def first_lines(path: str, count: int = DETECT_LINES) -> list[str]:
    """The first ``count`` non-blank lines, decoded leniently (detection only)."""
    lines: list[str] = []
    with _open(path) as f:
        for raw in f:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if text.strip():
                lines.append(text)
                if len(lines) >= count:
                    break
    return lines


_QUOTED = r'"(?:[^"\\]|\\.)*"'
_HEAD = r"\S+ \S+ \S+ \[[^\]]+\] "
_SHAPES = {
    "vhost": re.compile(rf"^\S+ {_HEAD}{_QUOTED} \d{{3}} \S+ {_QUOTED} {_QUOTED}"),
    "combined": re.compile(rf"^{_HEAD}{_QUOTED} \d{{3}} \S+ {_QUOTED} {_QUOTED}"),
    "common": re.compile(rf"^{_HEAD}{_QUOTED} \d{{3}} \S+\s*$"),
}


def detect_format(path: str, forced: str | None = None) -> LogFile:
    """The file's format from its first lines (``forced``: a name of FORMATS or 'regex:...')."""
    if forced and forced.startswith("regex:"):
        return LogFile(path, "regex", regex=_checked_regex(forced[len("regex:"):]))
    if forced and forced not in FORMATS:
        raise LogFormatError(f"unknown log format {forced!r}; one of {', '.join(FORMATS)} or 'regex:PATTERN'")
    lines = first_lines(path)
    log = _detect(path, forced, lines)
    log.native = _native_shape(log, lines)
    return log


#: parts a line of the combined family has at least (split at its quotes)
_MIN_PARTS = {"combined": 7, "vhost": 7, "common": 3}


def _native_shape(log: LogFile, lines: list[str]) -> tuple[str, int] | None:
    """(delimiter, parts) of the file's lines as its format splits them, when its first lines
    agree on the count (most lines of a log have one shape); None for JSON and regex formats."""
    if log.format in _MIN_PARTS:
        counts = [line.replace('\\"', "%22").count('"') + 1 for line in lines if not line.startswith("#")]
        delimiter, least = '"', _MIN_PARTS[log.format]
    elif log.format in ("w3c", "cloudfront"):
        delimiter = "\t" if log.format == "cloudfront" else " "
        return delimiter, len(log.fields)
    else:
        return None
    if not counts:
        return None
    parts = max(set(counts), key=counts.count)
    return (delimiter, parts) if parts >= least else None


def _detect(path: str, forced: str | None, lines: list[str]) -> LogFile:
    fields_line = next((line for line in lines if line.startswith("#Fields:")), None)
    if forced in ("w3c", "cloudfront") or (forced is None and fields_line):
        if not fields_line:
            raise LogFormatError(f"{path}: no #Fields: header in its first lines")
        fields = fields_line[len("#Fields:"):].split()
        data = next((line for line in lines if not line.startswith("#")), "")
        tabbed = "\t" in data or "x-edge-location" in fields
        return LogFile(path, forced or ("cloudfront" if tabbed else "w3c"), fields)
    if forced:
        return LogFile(path, forced)
    if not lines:
        return LogFile(path, "combined")  # empty: nothing to read whatever the format
    if sum(line.lstrip().startswith("{") for line in lines) > len(lines) / 2:
        return LogFile(path, "cloudflare")
    votes = {name: sum(bool(shape.match(line)) for line in lines) for name, shape in _SHAPES.items()}
    best = max(votes, key=votes.get)
    if not votes[best]:
        raise LogFormatError(f"{path}: not a log format seo-audit knows (combined, common, vhost, W3C, "
                             f"CloudFront, Cloudflare NDJSON); give --format, e.g. 'regex:...'")
    return LogFile(path, best)


#: named groups a --format regex may use
REGEX_GROUPS = ("ip", "time", "request", "method", "url", "status", "bytes", "referer", "user_agent",
                "host", "response_time")


def _checked_regex(pattern: str) -> str:
    try:
        groups = re.compile(pattern).groupindex
    except re.error as exc:
        raise LogFormatError(f"--format regex: {exc}") from exc
    unknown = set(groups) - set(REGEX_GROUPS)
    if unknown:
        raise LogFormatError(f"--format regex: unknown group(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(REGEX_GROUPS)}")
    if not ({"request", "url"} & set(groups)) or "status" not in groups or "time" not in groups:
        raise LogFormatError("--format regex needs the groups time, status and request (or url)")
    return pattern


# --- the SQL of each format -------------------------------------------------------------------

def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


#: timestamp formats tried on a regex's time group
_TIME_FORMATS = "['%d/%b/%Y:%H:%M:%S %z', '%Y-%m-%dT%H:%M:%S%z', '%Y-%m-%dT%H:%M:%S.%f%z', '%Y-%m-%d %H:%M:%S']"


#: the protocols of a request line whose target _request_columns cuts out by position (9 characters)
_HTTP_ENDS = (" HTTP/1.1", " HTTP/1.0", " HTTP/2.0")


def _request_columns(request: str) -> dict[str, str]:
    """The target of a request line "GET /a?b HTTP/1.1" (a target with spaces kept whole)."""
    # most request lines are "METHOD target HTTP/x.y" with no whitespace but spaces: their target
    # cut out by position, seven times faster than the regular expression, which reads the others
    space = f"strpos({request}, ' ')"
    plain = (f"{space} > 1 AND len({request}) - 9 >= {space} AND "
             f"({' OR '.join(f'ends_with({request}, {_q(end)})' for end in _HTTP_ENDS)}) AND NOT "
             f"({' OR '.join(f'contains({request}, chr({c}))' for c in (9, 10, 12, 13))})")
    return {
        "target": f"CASE WHEN {plain} THEN substr({request}, {space} + 1, len({request}) - 9 - {space}) "
                  f"WHEN {space} > 0 THEN regexp_extract({request}, '^\\S+ (.*?)(?: HTTP/[0-9.]+)?$', 1) END",
    }


def _combined_family(fmt: str) -> tuple[str, dict[str, str], str]:
    """(the parts expression, the columns from it, the check) of combined, common and vhost:
    the line split at its quotes (a quote escaped as \\" first made %22)."""
    parts = "string_split(CASE WHEN contains(line, '\\\"') THEN replace(line, '\\\"', '%22') ELSE line END, '\"')"
    head = "p[1]"
    stamp = f"substr({head}, strpos({head}, '[') + 1)"
    first = 2 if fmt == "vhost" else 1
    cols = {
        "ip": f"split_part({head}, ' ', {first})",
        # the text between the first [ and the next ] (as regexp_extract '\[([^\]]*)\]' reads it): string
        # functions, twice as fast as the regular expression
        "time": f"try_strptime(CASE WHEN strpos({head}, '[') > 0 AND strpos({stamp}, ']') > 0 "
                f"THEN split_part({stamp}, ']', 1) ELSE '' END, '%d/%b/%Y:%H:%M:%S %z')",
        **_request_columns("p[2]"),
        "status": "try_cast(split_part(trim(p[3]), ' ', 1) AS INTEGER)",
        "user_agent": "NULL" if fmt == "common" else "p[6]",
        "host": f"nullif(split_part({head}, ' ', 1), '-')" if fmt == "vhost" else "NULL",
        "scheme": ("CASE split_part(split_part(p[1], ' ', 1), ':', 2) WHEN '443' THEN 'https' "
                   "WHEN '80' THEN 'http' END") if fmt == "vhost" else "NULL",
        # nginx formats often end with $request_time: a number after the user agent
        "response_time": "NULL" if fmt == "common" else "try_cast(split_part(trim(p[7]), ' ', 1) AS DOUBLE)",
    }
    count = 3 if fmt == "common" else 7
    check = (f"CASE WHEN len(p) < {count} OR NOT contains({head}, ' [') THEN 'not a {fmt} line' "
             f"WHEN {fmt != 'common'} AND p[5] <> ' ' THEN 'not a {fmt} line' END")
    return parts, cols, check


_W3C_COLUMNS = {  # our column: W3C fields, the first present wins
    "ip": ("c-ip",), "stem": ("cs-uri-stem",), "query": ("cs-uri-query",),
    "status": ("sc-status",),
    "user_agent": ("cs(User-Agent)",), "host": ("x-host-header", "cs-host", "cs(Host)"),
    "response_time": ("time-taken",), "date": ("date",), "time": ("time",),
    "scheme": ("cs-protocol",), "port": ("s-port",),
}


def _w3c(log: LogFile) -> tuple[str, dict[str, str], str]:
    sep = "\t" if log.format == "cloudfront" else " "
    where = {}
    for ours, names in _W3C_COLUMNS.items():
        index = next((log.fields.index(n) + 1 for n in names if n in log.fields), None)
        where[ours] = f"nullif(p[{index}], '-')" if index else "NULL"
    ua = where["user_agent"]
    cols = {
        "ip": where["ip"],
        "time": f"try_strptime({where['date']} || ' ' || {where['time']}, '%Y-%m-%d %H:%M:%S')",
        "target": f"{where['stem']} || coalesce('?' || {where['query']}, '')",
        "status": f"try_cast({where['status']} AS INTEGER)",
        "user_agent": (f"url_decode({ua})" if log.format == "cloudfront" else f"replace({ua}, '+', ' ')"),
        "host": where["host"],
        "scheme": (f"lower({where['scheme']})" if where["scheme"] != "NULL" else
                   f"CASE {where['port']} WHEN '443' THEN 'https' WHEN '80' THEN 'http' END"),
        # IIS gives milliseconds, CloudFront seconds
        "response_time": f"try_cast({where['response_time']} AS DOUBLE)"
                         + ("" if log.format == "cloudfront" else " / 1000"),
    }
    check = (f"CASE WHEN len(p) <> {len(log.fields)} THEN len(p) || ' fields, the #Fields: header has "
             f"{len(log.fields)}' END")
    return f"string_split(line, {_q(sep)})", cols, check


_CLOUDFLARE = ("ClientIP", "EdgeStartTimestamp", "ClientRequestMethod", "ClientRequestURI",
               "EdgeResponseStatus", "EdgeResponseBytes", "ClientRequestReferer", "ClientRequestUserAgent",
               "ClientRequestHost", "ClientRequestScheme", "EdgeTimeToFirstByteMs")


def _cloudflare() -> tuple[str, dict[str, str], str]:
    at = {name: f"p[{i + 1}]" for i, name in enumerate(_CLOUDFLARE)}
    stamp = at["EdgeStartTimestamp"]
    cols = {
        "ip": at["ClientIP"],
        # RFC 3339 text, or unix seconds / nanoseconds as Logpush's timestamp_format says
        "time": f"CASE WHEN try_cast({stamp} AS DOUBLE) IS NULL THEN try_cast({stamp} AS TIMESTAMPTZ) "
                f"WHEN try_cast({stamp} AS DOUBLE) > 1e14 THEN to_timestamp(try_cast({stamp} AS DOUBLE) / 1e9) "
                f"ELSE to_timestamp(try_cast({stamp} AS DOUBLE)) END",
        "target": at["ClientRequestURI"],
        "status": f"try_cast({at['EdgeResponseStatus']} AS INTEGER)",
        "user_agent": at["ClientRequestUserAgent"],
        "host": at["ClientRequestHost"],
        "scheme": f"lower({at['ClientRequestScheme']})",
        "response_time": f"try_cast({at['EdgeTimeToFirstByteMs']} AS DOUBLE) / 1000",
    }
    paths = ", ".join(_q("$." + name) for name in _CLOUDFLARE)
    parts = f"CASE WHEN json_valid(line) THEN json_extract_string(line, [{paths}]) END"
    return parts, cols, "CASE WHEN p IS NULL THEN 'not JSON' END"


def _regex(log: LogFile) -> tuple[str, dict[str, str], str]:
    groups = list(re.compile(log.regex).groupindex)
    parts = f"regexp_extract(line, {_q(log.regex)}, [{', '.join(map(_q, groups))}])"

    def group(name: str) -> str:
        return f"nullif(p.{name}, '')" if name in groups else "NULL"

    request = _request_columns(group("request")) if "request" in groups else {"target": group("url")}
    cols = {
        "ip": group("ip"), "time": f"try_strptime({group('time')}, {_TIME_FORMATS})", **request,
        "status": f"try_cast({group('status')} AS INTEGER)", "user_agent": group("user_agent"), "host": group("host"),
        "scheme": "NULL", "response_time": f"try_cast({group('response_time')} AS DOUBLE)",
    }
    return parts, cols, f"CASE WHEN NOT regexp_matches(line, {_q(log.regex)}) THEN 'does not match the regex' END"


def _format_sql(log: LogFile) -> tuple[str, dict[str, str], str]:
    if log.format in ("combined", "common", "vhost"):
        return _combined_family(log.format)
    if log.format in ("w3c", "cloudfront"):
        return _w3c(log)
    if log.format == "cloudflare":
        return _cloudflare()
    return _regex(log)


#: (plain text: a compressed file is fed through a FIFO, whatever its name says)
_READ_OPTIONS = ("columns={'line': 'VARCHAR'}, delim='\x01', quote='', escape='', header=false, compression='none', "
                 "auto_detect=false, strict_mode=false, store_rejects=true, "
                 f"max_line_size={MAX_LINE_BYTES}")


def _classified(log: LogFile, lines: str, parts: str, refer: "Callable[[str], str]" = lambda sql: sql) -> str:
    """The lines of the relation ``lines`` (file, lineno, line, and what ``parts`` reads: skip,
    odd) as (file, lineno, line, skip, odd, shape: why the line is not of the format or NULL,
    is_bot, LINE_COLUMNS, agent_id: the user agent's number in KNOWN_AGENTS); a visitor's
    columns are all NULL. ``refer`` rewrites the format's expressions on ``p`` (the parts) for
    relations that hold the parts as columns. _grouped tells the line's kind from them.

    Only a bot's line is taken apart (date, status, target...): a visitor's is checked for its
    shape and counted, so most lines cost a split and one look at their user agent: in the
    table KNOWN_AGENTS (_known_agents), else by the regular expression."""
    _, cols, check = _format_sql(log)
    cols = {name: refer(sql) for name, sql in cols.items()}
    names = [name for name in LINE_COLUMNS if name != "user_agent"]
    parsed = ", ".join(f"CASE WHEN is_bot THEN {cols[name]} END AS {name}" for name in names)
    # a bot's user agent as its number in KNOWN_AGENTS when it is there: a small key to group by
    # instead of a long text (the view BOT_HITS gives the text back)
    kept = ", ".join(name if name != "user_agent" else "CASE WHEN is_bot AND agent_id IS NULL THEN user_agent END "
                     "AS user_agent, CASE WHEN is_bot THEN agent_id END AS agent_id" for name in LINE_COLUMNS)
    return f"""
    SELECT file, lineno, line, skip, odd, shape, is_bot, {kept}
    FROM (
        SELECT *, {parsed} FROM (
            SELECT u.*, k.agent_id, shape IS NULL AND coalesce(k.agent_is_bot, regexp_matches(user_agent, {_q(PREFILTER)}),
                                                   false) AS is_bot
            FROM (SELECT *, {refer(check)} AS shape, {cols["user_agent"]} AS user_agent
                  FROM (SELECT *, {parts} FROM ({lines}))) u
            LEFT JOIN {KNOWN_AGENTS} k ON u.user_agent = k.agent))"""


#: the user agents met in the first lines of the files, each with a number and whether PREFILTER matches it
KNOWN_AGENTS = "known_agents"
#: lines per file whose user agents go into KNOWN_AGENTS (a log repeats a few user agents)
AGENT_SAMPLE = 5000
#: sampled lines whose user agents go into KNOWN_AGENTS in one query
AGENT_BATCH = 10 * AGENT_SAMPLE


def _known_agents(con: duckdb.DuckDBPyConnection, files: list[LogFile]) -> None:
    """The table KNOWN_AGENTS: the user agents of each file's first AGENT_SAMPLE lines (read by
    its format's expressions) and whether PREFILTER matches each. A line's user agent is looked up
    there, a hash join, and only the others go through the regular expression, which cost six
    times more; whatever the sample holds, a line's answer is the expression's."""
    con.execute(f"""DROP TABLE IF EXISTS {KNOWN_AGENTS}; CREATE OR REPLACE SEQUENCE known_agent_ids;
                    CREATE TABLE {KNOWN_AGENTS} (agent VARCHAR PRIMARY KEY, agent_is_bot BOOLEAN,
                                                            agent_id INTEGER DEFAULT nextval('known_agent_ids'))""")
    def insert(parts: str, user_agent: str, lines: list[str]) -> None:
        con.register("agent_sample", pd.DataFrame({"line": pd.Series(lines, dtype=object)}))
        con.execute(f"""INSERT OR IGNORE INTO {KNOWN_AGENTS} (agent, agent_is_bot)
                        SELECT agent, coalesce(regexp_matches(agent, {_q(PREFILTER)}), false)
                        FROM (SELECT DISTINCT {user_agent} AS agent FROM (SELECT {parts} AS p FROM agent_sample))
                        WHERE agent IS NOT NULL""")
        con.unregister("agent_sample")

    # the samples of files read by the same expressions go in one query (a query costs more than
    # the sample), AGENT_BATCH lines at most
    samples: dict[tuple[str, str], list[str]] = {}
    for log in files:
        parts, cols, _ = _format_sql(log)
        try:
            lines = samples.setdefault((parts, cols["user_agent"]), [])
            lines += first_lines(log.path, AGENT_SAMPLE)
        except DAMAGED:
            continue  # a damaged file: its lines go through the expression
        if len(lines) >= AGENT_BATCH:
            insert(parts, cols["user_agent"], samples.pop((parts, cols["user_agent"])))
    for (parts, user_agent), lines in samples.items():
        if lines:
            insert(parts, user_agent, lines)


def _whole_lines(log: LogFile, lines: str) -> str:
    """_classified on a relation of whole lines (file, lineno, line)."""
    parts, _, _ = _format_sql(log)
    skip = "line IS NULL OR trim(line) = '' OR starts_with(line, '#')"
    return _classified(log, lines, f"{parts} AS p, {skip} AS skip, false AS odd")


def _file_select(index: int, log: LogFile, source: str) -> str:
    """One file's lines, read whole and numbered, as _classified gives them (``source``: the
    file, or a FIFO of its text)."""
    return _whole_lines(log, f"SELECT {index} AS file, ordinality AS lineno, line "
                             f"FROM read_csv({_q(source)}, {_READ_OPTIONS}) WITH ORDINALITY")


#: rejected records DuckDB's CSV reader keeps per file; past it the file is read whole
REJECTS_LIMIT = 100_000


def _native_options(delimiter: str, parts: int) -> str:
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, parts + 1))
    return (f"columns={{{columns}}}, delim={_q(delimiter)}, quote='', escape='', header=false, compression='none', "
            "auto_detect=false, "
            f"strict_mode=true, null_padding=false, store_rejects=true, rejects_table='native_rejects', "
            f"rejects_scan='native_scans', rejects_limit={REJECTS_LIMIT}, max_line_size={MAX_LINE_BYTES}")


def _native_select(index: int, log: LogFile, source: str, escaped_quotes: bool = True) -> str:
    """The lines of ``source`` (a file of log.native's format and shape) split by DuckDB's
    CSV reader, in many threads, as _classified gives them (file ``index``, lineno NULL).

    The reader splits a line at each delimiter as the format's parts expression does, so the
    same expressions read the same values; it refuses, with their line numbers, the lines
    whose count of parts is not the file's (read whole afterwards: _read_natively). A line
    it takes that the parts expression would have split otherwise (an escaped quote \\" of the
    combined family, a comment or blank line) is 'odd', as is any unreadable line it takes
    (its line number is unknown): the file is then read whole (_read_natively).
    ``escaped_quotes``: False when the source is known to hold no \\" (no line to check for one)."""
    delimiter, parts = log.native
    columns = [f"c{i}" for i in range(1, parts + 1)]

    def refer(sql: str) -> str:
        sql = re.sub(r"\bp\[(\d+)\]", lambda m: f"c{m[1]}" if int(m[1]) <= parts else "NULL", sql)
        return sql.replace("len(p)", str(parts))

    # a line of spaces (trim only when no '[' says otherwise: trim on every line cost more than the split)
    odd = ["starts_with(c1, '#')", "CASE WHEN contains(c1, '[') THEN false ELSE trim(c1) = '' END"]
    if log.format in _MIN_PARTS and escaped_quotes:
        odd += [f"ends_with({c}, '\\')" for c in columns[:-1]]
    relation = (f"SELECT {index} AS file, NULL::BIGINT AS lineno, NULL::VARCHAR AS line, {', '.join(columns)} "
                f"FROM read_csv({_q(source)}, {_native_options(delimiter, parts)})")
    return _classified(log, relation, f"false AS skip, ({' OR '.join(odd)}) AS odd", refer)


class _Feeder:
    """A FIFO DuckDB reads, fed by a thread with the text of a compressed file a chunk at a time
    (never the whole file in memory, nothing on disk), up to where the file is damaged if it is."""

    def __init__(self, path: str, fifo: str):
        self.path, self.fifo, self.escaped_quotes = path, fifo, False
        os.mkfifo(fifo)
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        last = b""
        try:
            with open(self.fifo, "wb") as dst:
                try:  # a larger pipe: fewer switches between this thread and DuckDB's
                    fcntl.fcntl(dst.fileno(), fcntl.F_SETPIPE_SZ, PIPE_CHUNK)
                except (AttributeError, OSError):
                    pass
                for chunk in _text_chunks(self.path):
                    dst.write(chunk)
                    # most logs hold no backslash at all, which memchr tells at once
                    if not self.escaped_quotes and (b"\\" in chunk or last == b"\\"):
                        self.escaped_quotes = b'\\"' in chunk or (last == b"\\" and chunk[:1] == b'"')
                    last = chunk[-1:]
        except OSError:
            pass  # DuckDB went away (its error is the query's)

    def held_escaped_quotes(self) -> bool:
        """Whether the text held \\" (an escaped quote of the combined family), once DuckDB has
        read the FIFO to its end (True if the feeding has not ended: the text is not known)."""
        self.thread.join(timeout=5)
        return self.escaped_quotes or self.thread.is_alive()

    def close(self) -> None:
        if self.thread.is_alive():  # DuckDB stopped early: let the writer open, fail and end
            try:
                os.close(os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK))
            except OSError:
                pass
        self.thread.join(timeout=5)
        os.unlink(self.fifo)


def _text_chunks(path: str) -> Iterator[bytes]:
    """The text of a compressed file, chunk by chunk, up to where it is damaged (cut short, corrupt).
    gzip is inflated by ISA-L, three times faster than zlib (and than DuckDB's own reader)."""
    given = 0
    if compression(path) == "gzip":
        try:
            with igzip.open(path, "rb") as src:
                while chunk := src.read1(PIPE_CHUNK):
                    given += len(chunk)
                    yield chunk
            return
        except DAMAGED:
            pass  # ISA-L drops what it inflated of a chunk cut short; Python's gzip gives it, from there on
    try:
        with _open(path) as src:
            src.seek(given)
            while chunk := src.read1(PIPE_CHUNK):
                yield chunk
    except DAMAGED:
        return


@contextmanager
def _readable(path: str) -> Iterator[str | _Feeder]:
    """What DuckDB reads of the file ``path``: a plain file itself, a compressed one through a
    _Feeder (its ``fifo``; DuckDB's own gzip reader is slower and fails on a file cut short),
    removed at the end."""
    if not compression(path):
        yield path
        return
    folder = tempfile.mkdtemp(prefix="seo-audit-logs-")
    feeder = _Feeder(path, os.path.join(folder, "text.log"))
    try:
        yield feeder
    finally:
        feeder.close()
        os.rmdir(folder)


def _source_path(source: str | _Feeder) -> str:
    return source.fifo if isinstance(source, _Feeder) else source


@contextmanager
def connect(threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB database in a new temporary folder, removed at the end: its tables (bots' hits
    only) live on disk, compressed, so memory stays under MEMORY_LIMIT whatever the logs' size."""
    folder = tempfile.mkdtemp(prefix="seo-audit-duckdb-")
    con = duckdb.connect(os.path.join(folder, "logs.duckdb"),
                         config={"memory_limit": MEMORY_LIMIT, "temp_directory": folder,
                                 "preserve_insertion_order": False})
    try:
        con.execute("SET TimeZone = 'UTC'")  # a log time without a zone (W3C) is UTC
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        yield con
    finally:
        con.close()
        shutil.rmtree(folder, ignore_errors=True)


#: the bot hits (a view of the rows read): a bot's lines grouped by who asked what and got what on one day
BOT_HITS = "bot_hits"
BOT_HIT_COLUMNS = ("file", "ip", "user_agent", "host", "scheme", "target", "status", "day",
                   "first_hit", "last_hit", "hits", "response_time_sum", "response_times")


def read_logs(con: duckdb.DuckDBPyConnection, paths: list[str], forced: str | None = None, *,
              native: bool = True) -> LogRead:
    """Read the log files at ``paths`` into the table BOT_HITS of ``con`` (see the module
    docstring); the lines counted and refused are in the answer. ``native``: let DuckDB's CSV
    reader split the lines of the files it can (False: every line read whole; the same answer)."""
    if not paths:
        raise LogFormatError("no log files given")
    files, unreadable = [], {}
    for path in paths:
        try:
            files.append(detect_format(path, forced))
        except (LogFormatError, *DAMAGED) as exc:  # one bad file never stops the others
            unreadable[path] = str(exc)
    if not files:
        raise LogFormatError("; ".join(unreadable.values()))
    try:
        rejects, natively = _read_into(con, files, native)
    except duckdb.IOException as exc:
        raise LogFormatError(f"cannot read the logs: {exc}") from exc
    # a view, not a copy: the bots' rows are most of lines_read
    columns = ", ".join("coalesce(k.agent, h.user_agent) AS user_agent" if name == "user_agent" else f"h.{name}"
                        for name in BOT_HIT_COLUMNS)
    con.execute(f"CREATE OR REPLACE VIEW {BOT_HITS} AS SELECT {columns} "
                f"FROM lines_read h LEFT JOIN {KNOWN_AGENTS} k USING (agent_id) WHERE h.kind = 'bot'")
    counts = con.execute(f"""SELECT file, kind, why, sum(hits)::BIGINT AS hits,
                                    min_by({{'line': bad_line, 'text': bad_text}}, bad_line, {SAMPLES})
                                        FILTER (WHERE kind = 'bad') AS samples
                             FROM lines_read WHERE kind <> 'skip' GROUP BY file, kind, why""").df()
    bots = counts[counts["kind"].eq("bot")]
    counts = counts[counts["kind"].ne("bot")]
    read = _assemble(files, counts, bots, rejects, natively)
    read.unreadable = unreadable
    read.natively = {files[i].path for i in natively}
    return read


_LINES_READ = ("file INTEGER, kind VARCHAR, why VARCHAR, ip VARCHAR, user_agent VARCHAR, agent_id INTEGER, host VARCHAR, "
               "scheme VARCHAR, target VARCHAR, status INTEGER, day DATE, bad_line BIGINT, "
               "bad_text VARCHAR, first_hit TIMESTAMPTZ, last_hit TIMESTAMPTZ, hits BIGINT, "
               "response_time_sum DOUBLE, response_times BIGINT")


#: why a line is unreadable (NULL: it is not): its shape, else for a bot's line what its fields
#: gave; {time} is its instant (or the first of its group's: a group's lines share their day)
_WHY = ("coalesce(shape, CASE WHEN is_bot THEN CASE WHEN status IS NULL THEN 'no status' WHEN {time} IS NULL "
        "THEN 'bad date' WHEN target IS NULL OR target = '' THEN 'no request line' END END)")
#: a line's kind, from _classified's flags and _WHY
_KIND = ("CASE WHEN skip THEN 'skip' WHEN odd THEN 'odd' WHEN why IS NOT NULL THEN 'bad' WHEN is_bot THEN 'bot' "
         "ELSE 'human' END")
#: what a group of lines_read is keyed by besides its file and kind
_HIT_KEYS = ("ip::VARCHAR AS ip, user_agent::VARCHAR AS user_agent, agent_id::INTEGER AS agent_id, "
             "host::VARCHAR AS host, scheme::VARCHAR AS scheme, "
             "target::VARCHAR AS target, status::INTEGER AS status, "
             # the UTC day by arithmetic on the instant: the cast of a TIMESTAMPTZ goes through ICU, slower
             "CAST(make_timestamp(epoch_us(time)) AS DATE) AS day")
_HITS = ("min(time::TIMESTAMPTZ) AS first_hit, max(time::TIMESTAMPTZ) AS last_hit, count(*) AS hits, "
         "sum(response_time::DOUBLE) AS response_time_sum, count(response_time) AS response_times")


def _grouped(select: str, numbered: bool) -> str:
    """The lines of ``select`` (as _classified gives them) into lines_read: a bot's hits grouped
    per day and answer, a visitor's lines collapsed into one count, skipped lines as one row;
    only fixed-size aggregates, which DuckDB spills to disk past its memory limit. (No filter
    here: DuckDB would push it down and work out every line's kind, its user agent's regular
    expression first, once per reference.)

    ``numbered``: lines with their numbers, each unreadable one kept as a row of its own (sampled
    later), its kind told line by line. Lines without (DuckDB's CSV reader: a file with an
    unreadable line is read again whole) are grouped first, by the flags their kind comes from,
    and their kinds told per group: the bots' fields are then worked out once, not again for
    their kind."""
    if numbered:
        return f"""
        INSERT INTO lines_read BY NAME
        SELECT file::INTEGER AS file, kind, CASE WHEN kind = 'bad' THEN why END AS why, {_HIT_KEYS},
               CASE WHEN kind = 'bad' THEN lineno END AS bad_line,
               CASE WHEN kind = 'bad' THEN left(line, {SAMPLE_CHARS}) END AS bad_text, {_HITS}
        FROM (SELECT *, {_KIND} AS kind FROM (SELECT *, {_WHY.format(time="time")} AS why FROM ({select})))
        GROUP BY ALL"""
    return f"""
        INSERT INTO lines_read BY NAME
        SELECT * EXCLUDE (skip, odd, shape, is_bot, why), CASE WHEN kind = 'bad' THEN why END AS why
        FROM (SELECT *, {_KIND} AS kind FROM (SELECT *, {_WHY.format(time="first_hit")} AS why FROM (
            SELECT file::INTEGER AS file, skip, odd, shape, is_bot, {_HIT_KEYS}, {_HITS}
            FROM ({select}) GROUP BY ALL)))"""


def _read_into(con: duckdb.DuckDBPyConnection, files: list[LogFile], native: bool) -> tuple[dict, set[int]]:
    """The pass over the lines into the table lines_read: one query a file (_read_file), as many
    at once as DuckDB has threads, each on a cursor of its own (a file fed through a FIFO is split
    by one thread: files in one scan waited at its end for the longest). Answers the lines DuckDB
    refused per file, and the files read by the CSV reader."""
    con.execute("DROP TABLE IF EXISTS lines_read")
    con.execute(f"CREATE TABLE lines_read ({_LINES_READ})")
    _known_agents(con, files)
    (threads,) = con.execute("SELECT current_setting('threads')").fetchone()
    at_once = max(1, min(int(threads), len(files)))

    def read(i: int) -> tuple[dict, bool]:
        with con.cursor() as cursor:
            return _read_file(cursor, files, i, native)

    rejects: dict[int, list[tuple[int, str, str]]] = {}
    natively: set[int] = set()
    # the threads shared out between the queries: one each ran 2-3% less CPU than DuckDB's pool
    # beside them
    con.execute(f"SET threads = {max(1, int(threads) // at_once)}")
    try:
        with ThreadPoolExecutor(max_workers=at_once) as pool:
            for i, (refused, split) in enumerate(pool.map(read, range(len(files)))):
                rejects.update(refused)
                if split:
                    natively.add(i)
    finally:
        con.execute(f"SET threads = {int(threads)}")
    return rejects, natively


def _read_file(con: duckdb.DuckDBPyConnection, files: list[LogFile], i: int,
               native: bool) -> tuple[dict[int, list[tuple[int, str, str]]], bool]:
    """File ``i`` into lines_read: split by DuckDB's CSV reader if its format can be
    (_read_natively), else, or if that left it out, its lines read whole. Answers the lines DuckDB
    refused, and whether the CSV reader read it."""
    refused = _read_natively(con, files[i], i) if native and files[i].native else None
    if refused is not None:
        return ({i: refused} if refused else {}), True
    with _readable(files[i].path) as source:
        con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
        con.execute(_grouped(_file_select(i, files[i], _source_path(source)), numbered=True))
        refused = _rejects(con)
    return ({i: refused} if refused else {}), False


def _read_natively(con: duckdb.DuckDBPyConnection, log: LogFile, i: int,
                   checked: bool = False) -> list[tuple[int, str, str]] | None:
    """File ``log`` (number ``i``) split by DuckDB's CSV reader into lines_read, the lines it
    refused read whole; answers the lines it could not read at all (line, why, text), or None
    when the file was left out, to be read whole: it had a line the reader took but could not
    place (kind 'odd', or unreadable: its line number is unknown), or REJECTS_LIMIT refused
    lines or more.

    A plain file's lines are checked one by one for an escaped quote (_native_select), a
    compressed one's text as it is fed (_Feeder), and only a file whose text holds one is
    scanned again with the lines checked (``checked``): most logs hold none."""
    with _readable(log.path) as readable:
        con.execute("DROP TABLE IF EXISTS native_rejects; DROP TABLE IF EXISTS native_scans")
        checked = checked or not isinstance(readable, _Feeder)
        con.execute(_grouped(_native_select(i, log, _source_path(readable), escaped_quotes=checked), numbered=False))
        again = not checked and readable.held_escaped_quotes()
    refused = con.execute("""
        SELECT line, any_value(csv_line) AS text, list(DISTINCT error_type) AS kinds
        FROM native_rejects GROUP BY line""").fetchall()
    unplaced = (len(refused) >= REJECTS_LIMIT
                or bool(con.execute(f"SELECT 1 FROM lines_read WHERE kind IN ('odd', 'bad') AND file = {i} LIMIT 1").fetchall()))
    if unplaced or again:
        con.execute(f"DELETE FROM lines_read WHERE file = {i}")
        return None if unplaced else _read_natively(con, log, i, checked=True)
    unreadable, whole = [], []
    for line, text, kinds in refused:
        text = _bare(text)
        csv_level = [_REFUSED[k] for k in kinds if k in _REFUSED]
        if csv_level:
            unreadable.append((int(line), csv_level[0], text))
        else:
            whole.append((int(line), text))
    if whole:
        con.register("refused_lines", pd.DataFrame(whole, columns=["lineno", "line"]))
        con.execute(_grouped(_whole_lines(log, f"SELECT {i} AS file, * FROM refused_lines"), numbered=True))
        con.unregister("refused_lines")
    return sorted(unreadable)


#: why DuckDB's CSV reader refused a line, for the refusals that are not the format's
_REFUSED = {"INVALID ENCODING": "not UTF-8 text", "LINE SIZE OVER MAXIMUM": f"longer than {MAX_LINE_BYTES} bytes"}


def _bare(text: str | None) -> str:
    """A refused line's text without the line breaks the reader leaves around it (CRLF files)."""
    return (text or "").strip("\r\n")


def _rejects(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str]]:
    """Lines the CSV reader refused in the file it read last (not UTF-8, too long): (line, why, text)."""
    try:
        rows = con.execute("SELECT line, error_type, csv_line FROM reject_errors ORDER BY line").fetchall()
    except duckdb.Error:
        return []
    return [(int(line), _REFUSED.get(kind, str(kind).lower()), _bare(text)) for line, kind, text in rows]


def _true_line(lineno: int, refused: list[int]) -> int:
    """The line number of the ``lineno``-th line DuckDB returned, counting the refused ones."""
    for line in refused:
        if line <= lineno:
            lineno += 1
        else:
            break
    return lineno


def _assemble(files: list[LogFile], counts: pd.DataFrame, bots: pd.DataFrame, rejects: dict,
              natively: set[int]) -> LogRead:
    names = [log.path for log in files]
    per_file = counts.groupby("file")["hits"].sum()
    bot_lines = bots.set_index("file")["hits"]
    lines = {name: int(per_file.get(i, 0)) + int(bot_lines.get(i, 0)) + len(rejects.get(i, []))
             for i, name in enumerate(names)}
    humans = counts[counts["kind"].eq("human")].groupby("file")["hits"].sum()
    rows = []
    for bad in counts[counts["kind"].eq("bad")].itertuples():
        # a line read whole is numbered among those DuckDB gave; the CSV reader numbers them all
        refused = [] if bad.file in natively else [line for line, _, _ in rejects.get(bad.file, [])]
        samples = [{"line": _true_line(int(s["line"]), refused), "text": s["text"]} for s in bad.samples]
        rows.append({"file": names[bad.file], "why": bad.why, "lines": int(bad.hits), "samples": samples})
    for i, refused in rejects.items():
        for why in dict.fromkeys(w for _, w, _ in refused):
            mine = [(line, text) for line, w, text in refused if w == why]
            rows.append({"file": names[i], "why": why, "lines": len(mine),
                         "samples": [{"line": line, "text": text[:SAMPLE_CHARS]} for line, text in mine[:SAMPLES]]})
    rejected = pd.DataFrame(rows, columns=["file", "why", "lines", "samples"])
    return LogRead(files, lines, {name: int(humans.get(i, 0)) for i, name in enumerate(names)},
                   {name: int(bot_lines.get(i, 0)) for i, name in enumerate(names)}, rejected)
