"""Making crawled text safe to hand to spreadsheets and browsers, and to show to clients.

Everything that came from a crawled site (titles, URLs, anchors, headers) is hostile.
A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(tab and CR are read as such a start by some importers), so such text cells get a
leading single quote, the neutralisation OWASP recommends. Numbers stay numbers: a
negative number in a numeric column is data, not a formula.

URLs may carry credentials (``https://user:pass@host/``, ``?token=...``); a report is
sent to clients and archived, so ``redact`` masks them wherever a URL appears in text, each
value to a digest of its own: masking never makes two URLs one.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
import os
import re
import secrets
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Browsers strip control characters and spaces from a URL before reading its scheme, so
# anything but a plain "http(s)://" followed by visible characters is refused.
_HTTP_URL = re.compile(r"https?://[^\x00-\x20\x7f]+", re.IGNORECASE)

#: query (or fragment, or ;matrix) parameter names whose values are credentials: whoever holds
#: one acts as its owner (tokens, keys, passwords, the signature of a signed URL). Session ids
#: and ``code`` are not here: see README, "Security and safety"
SECRET_PARAMETERS = (
    "token", "access_token", "refresh_token", "id_token", "auth_token", "api_key", "apikey", "key",
    "secret", "client_secret", "password", "passwd", "pwd", "auth", "signature", "sig",
    "x-amz-signature", "x-amz-security-token", "x-goog-signature",
)
#: hex digits of a masked value's digest: 48 bits, so two of 20,000 secrets share them about once
#: in a million runs (of a million secrets, once in 500); the second gets more digits (Masks)
MASK_DIGITS = 12
#: texts _suspect_texts tests at a time: the evidence of 1.8M findings tested at once was held
#: twice more while tested (joined, then in Arrow): +316 MiB at the report's peak
SUSPECT_CHUNK = 65_536
#: the environment variable holding the masks' key: set by the first process of a run, so the
#: processes it starts mask alike; set it yourself to get the same masks in every run
MASK_KEY_VARIABLE = "SEO_AUDIT_MASK_KEY"
# Userinfo runs from "//" to the last "@" before the path, query or fragment: a password
# may itself hold an "@", and URL parsers split at the last one.
_USERINFO = re.compile(r"(?<=//)[^/?#\s]+(?=@)")
# A secret value runs to the next parameter, the fragment or the end of the URL in text.
_SECRET_PARAMETER = re.compile(
    r"(?<=[?&;#])(" + "|".join(re.escape(name) for name in SECRET_PARAMETERS) + r")=([^&#\s]+)",
    re.IGNORECASE)


class Masks:
    """Masks of secret values, ``<masked:3f2a9c1b0d4e>``: a digest of the value keyed by this
    run's key, so it tells nothing of the value (a short password cannot be guessed back from
    it) and it is the same wherever the value appears. Two values never get one mask: a value
    whose digits another one of this process already has gets more of its digest's digits.
    A mask given again is its own mask, so masking twice changes nothing."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.of_value: dict[str, str] = {}
        self.values: dict[str, str] = {}  # mask -> value
        # a new mask is chosen under it: outputs written by two threads mask values at once
        self._choosing = threading.Lock()

    def __call__(self, value: str) -> str:
        mask = self.of_value.get(value)
        if mask is not None:
            return mask
        if value in self.values:
            return value
        digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), key=self.key).hexdigest()
        with self._choosing:
            mask = self.of_value.get(value)  # another thread's, chosen meanwhile
            if mask is None:
                mask = next(mask for mask in (f"<masked:{digest[:digits]}>" for digits in range(MASK_DIGITS, len(digest) + 1))
                            if mask not in self.values)  # StopIteration only for a 512-bit collision
                self.values[mask], self.of_value[value] = value, mask
        return mask


# any text is a key: hashed to the 32 bytes blake2b takes
_mask = Masks(hashlib.sha256(os.environ.setdefault(MASK_KEY_VARIABLE, secrets.token_hex(32)).encode()).digest())


def neutralise(text: str) -> str:
    """``text`` with a leading quote if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def http_url(url: object) -> str | None:
    """``url`` if it is an http(s) URL a report may link to, else None (show it as text)."""
    if isinstance(url, str) and _HTTP_URL.fullmatch(url):
        return url
    return None


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it masked (Masks): the userinfo
    (``https://<masked:...>@host/``) and the value of each SECRET_PARAMETERS parameter
    (``?token=<masked:...>``). Distinct texts stay distinct. Text with no URL credentials
    comes back unchanged, so any text (a title, an evidence line) can pass."""
    # parameters first: a masked userinfo can never form a new parameter, the reverse can; each
    # only where its character is (the common case is neither, without a regex)
    if "=" in text:
        text = _SECRET_PARAMETER.sub(lambda found: f"{found[1]}={_mask(found[2])}", text)
    return _USERINFO.sub(lambda found: _mask(found[0]), text) if "@" in text else text


def redact_value(value: Any) -> Any:
    """``value`` with ``redact`` applied to every string in it, through lists and dicts."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [redact_value(item) for item in value]
    return value


def redact_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text and list cell redacted; columns with nothing to mask are
    shared with ``frame``, not copied (a crawl's links can be millions of rows)."""
    redacted = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            masked = redacted_categories(column.cat.categories)
            if masked is not None:
                redacted[name] = column.cat.rename_categories(masked)
        elif is_str_dtype(column.dtype):
            masked = _redacted_texts(column)
            if masked is not column:
                redacted[name] = masked
        elif column.dtype == object:
            # each distinct object once: cells sharing an object mask alike
            codes, first = _distinct_objects(column.to_numpy())
            masked = _redacted_objects(column.to_numpy()[first])
            if masked is not None:
                redacted[name] = pd.Series(masked.array.take(codes), index=column.index, name=name)
    return frame.assign(**redacted) if redacted else frame


def redacted_categories(categories: pd.Index) -> pd.Index | None:
    """The categories of a categorical redacted, or None if nothing changes. Masking never makes
    two values one, so the codes stand for the same values as before."""
    masked = pd.Index(_redacted_texts(pd.Series(categories))) if is_str_dtype(categories.dtype) \
        else categories.map(redact_value)
    if masked.equals(categories):
        return None
    if not masked.is_unique:
        raise AssertionError("masking made two categories one")  # Masks prevents it
    return masked


def _redacted_objects(objects: np.ndarray) -> pd.Series | None:
    """``objects`` (distinct) redacted as ``Series.map(redact_value)`` does, or None if nothing changes."""
    lists = objects.tolist()
    if {type(value) for value in lists} == {list}:
        items = list(itertools.chain.from_iterable(lists))
        if {type(item) for item in items} <= {str}:
            # lists of text (redirect chains...): only those with a text that could hold
            # credentials go through Python, the others are their own masked copy
            owners = np.repeat(np.arange(len(lists)), np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)))
            masked = objects.copy()
            for i in np.unique(owners[_Characters(items).holding("@=")]).tolist():
                masked[i] = redact_value(lists[i])
            changed = masked != objects
            return pd.Series(masked, dtype=object) if changed.any() else None
    distinct = pd.Series(objects, dtype=object)
    masked = distinct.map(redact_value, na_action="ignore")
    return None if masked.equals(distinct) else masked


def _distinct_objects(objects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A code per cell of ``objects`` telling its object (by identity), and each code's first
    cell: list cells are mostly a few shared lists (the loader decodes each distinct JSON once)."""
    codes, _ = pd.factorize(np.fromiter(map(id, objects), dtype=np.intp, count=len(objects)))
    _, first = np.unique(codes, return_index=True)
    return codes, first


def is_str_dtype(dtype: Any) -> bool:
    """pandas' own str dtype (text and NA only), not object."""
    return pd.api.types.is_string_dtype(dtype) and dtype != object


def _redacted_texts(column: pd.Series) -> pd.Series:
    """``column`` (str dtype) redacted; ``column`` itself if nothing in it changes."""
    # only the cells that could hold credentials go through Python, each distinct text once
    # (a query string's "=" is on many URLs)
    suspect = _suspect_arrow(pa.array(column.array)) if column.dtype.storage == "pyarrow" \
        else _suspect_texts(column.to_numpy(dtype=object))
    if suspect.any():
        codes, texts = pd.factorize(column[suspect].to_numpy(dtype=object))
        masked = np.array([redact(text) for text in texts], dtype=object)
        if (masked != texts).any():
            return column.mask(suspect, pd.Series(masked[codes], index=column.index[suspect], dtype=column.dtype))
    return column


def _suspect_texts(texts: np.ndarray) -> np.ndarray:
    """Which of ``texts`` (str or missing) may hold credentials redact() masks: _SUSPECT_SQL's
    test, over the whole column in C (pandas' .str methods on Python strings loop in Python:
    5 s for the 40 text columns of a million pages), SUSPECT_CHUNK texts at a time (_suspect_chunk)."""
    suspect = np.zeros(len(texts), dtype=bool)
    held = np.flatnonzero(pd.notna(texts))
    for at in range(0, len(held), SUSPECT_CHUNK):
        rows = held[at:at + SUSPECT_CHUNK]
        suspect[rows] = _suspect_chunk(texts[rows].tolist())
    return suspect


def _suspect_chunk(some: list[str]) -> np.ndarray:
    """_suspect_texts' test of ``some`` texts: none may if their texts joined hold neither "@" nor
    "="; else Arrow's kernels test each text. Texts Arrow cannot hold (a lone surrogate) are
    tested by their characters."""
    suspect = np.zeros(len(some), dtype=bool)
    joined = "\0".join(some)
    if "@" not in joined and "=" not in joined:
        return suspect
    try:
        values = pa.array(some, type=pa.large_string())
    except (pa.ArrowException, UnicodeError):
        return _Characters(some).holding("@=")
    return _suspect_arrow(values)


def _suspect_arrow(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """_suspect_texts' test of Arrow texts (a missing one is not suspect)."""
    suspect = np.zeros(len(values), dtype=bool)
    # the rest of the test on the texts holding "@" or "=" only: a regex costs more than the column
    at, equals = pc.match_substring(values, "@"), pc.match_substring(values, "=")
    either = np.flatnonzero(pc.or_(at, equals).fill_null(False).to_numpy(zero_copy_only=False))
    if not len(either):
        return suspect
    some_values = values.take(either)
    userinfo = pc.and_(at.take(either), pc.match_substring(some_values, "//"))
    parameter = pc.and_(equals.take(either), pc.or_(pc.match_substring_regex(some_values, _SECRET_NAME),
                                                    pc.invert(pc.string_is_ascii(some_values))))
    suspect[either] = pc.or_(userinfo, parameter).to_numpy(zero_copy_only=False)
    return suspect


class _Characters:
    """Texts scanned by numpy, a block of them at a time joined into one array of character
    codes: a million cells at once instead of one cell at a time, and never more than a
    block's characters held twice."""

    #: texts joined at a time
    BLOCK = 65_536

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def holding(self, chars: str) -> np.ndarray:
        """Which texts hold any of ``chars``."""
        found, held = np.zeros(len(self.texts), dtype=bool), _ords(chars)
        for at in range(0, len(self.texts), self.BLOCK):
            block = self.texts[at:at + self.BLOCK]
            ends = np.cumsum(np.fromiter(map(len, block), dtype=np.int64, count=len(block)))
            joined = "".join(block)
            # one code per character (lone surrogates included: crawled text can hold them)
            codes = (np.frombuffer(joined.encode("ascii"), dtype=np.uint8) if joined.isascii()
                     else np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32))
            found[at:at + len(block)][np.searchsorted(ends, np.flatnonzero(np.isin(codes, held)), side="right")] = True
        return found


def _ords(chars: Iterable[str]) -> list[int]:
    return [ord(c) for c in chars]


def _cell_text(value: object) -> object:
    """One cell of a text column as a spreadsheet should get it: lists as JSON, text neutralised."""
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        value = _json_text(value.tolist() if isinstance(value, np.ndarray) else value)
    if isinstance(value, str):
        return neutralise(value)
    return value


def _json_text(value: object) -> str:
    """``json.dumps(value, ensure_ascii=False, default=str)``: the C encoder json.dumps builds
    for it, without json.dumps' Python set-up around it (a crawl has millions of list cells,
    most of them one text: a URL's redirect chain of itself)."""
    if value.__class__ is list and len(value) == 1 and value[0].__class__ is str:
        return "[" + json.encoder.encode_basestring(value[0]) + "]"
    encoder = json.encoder.c_make_encoder({}, str, json.encoder.encode_basestring, None, ": ", ", ",
                                          False, False, True)
    return "".join(encoder(value, 0))


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised and list cells are JSON text.

    Numeric and boolean columns are left as they are.
    """
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            if pd.api.types.is_string_dtype(column.cat.categories.dtype):
                # neutralise() only prefixes, so distinct values stay distinct
                out[name] = column.cat.rename_categories(column.cat.categories.map(neutralise))
        elif is_str_dtype(column.dtype):
            # pandas' own str dtype holds only text and NA: the vectorised path
            risky = column.str.startswith(FORMULA_STARTS, na=False).to_numpy(dtype=bool)
            if risky.any():
                out[name] = column.where(~risky, "'" + column)
        elif column.dtype == object:
            out[name] = column.map(_cell_text)
    return out


def write_csv(path: Path, frame: pd.DataFrame, *, bom: bool = False) -> Path:
    """Write ``frame`` as spreadsheet-safe UTF-8 CSV (with a BOM for Excel if asked): the bytes of
    ``spreadsheet_safe(frame).to_csv(index=False, lineterminator="\r\n")``, written by DuckDB.

    Rows end in CRLF (RFC 4180), and a cell holding a comma, a quote, a CR or an LF is quoted
    (QUOTE_MINIMAL): a crawled title with a bare CR stays one cell instead of starting a new row
    in Excel (a row that could begin with a formula). Text is neutralised in SQL (csv_columns);
    list cells become JSON here, once per distinct list."""
    if frame.shape[1] == 0 or "" in map(str, frame.columns):  # nothing SQL can select or name
        Path(path).write_text(spreadsheet_safe(frame).to_csv(index=False, lineterminator="\r\n"),
                              encoding="utf-8-sig" if bom else "utf-8", newline="")
        return path
    prepared, kinds = _csv_frame(frame)
    copy_frame_csv(prepared, f"SELECT {csv_columns(kinds)} FROM frame", path, bom=bom)
    return path


def write_csv_beside(path: Path, rows: pa.RecordBatchReader, kinds: Mapping[str, str], frame: pd.DataFrame,
                     order: Iterable[str], *, bom: bool = False) -> Path:
    """Write the columns of ``rows`` (``kinds`` as csv_columns takes them, every text and list
    masked) and those of ``frame`` (row by row beside them: as many rows, in their order; masked
    already), in the ``order`` of their names, as write_csv writes one frame of them all."""
    prepared, frame_kinds = _csv_frame(frame)
    every = {**kinds, **frame_kinds}
    columns = csv_columns({name: every[name] for name in order},
                          masked=[name for name, kind in kinds.items() if kind != "number"])
    copy_frame_csv(prepared, f"SELECT {columns} FROM rows POSITIONAL JOIN frame", path, bom=bom, rows=rows)
    return path


def copy_frame_csv(frame: pd.DataFrame, select: str, path: Path, *, bom: bool = False, **tables: Any) -> None:
    """copy_csv of ``select`` over ``frame`` (by the name ``frame``, and ``tables`` by theirs), in
    a DuckDB connection of its own: UTC times, the functions of register_redact."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET TimeZone = 'UTC'")
        # one thread: a frame's Python objects are read under the GIL, so a second thread does not
        # go faster, and in order (PRESERVE_ORDER) it made COPY hold the chunks read ahead, about
        # as much as the file (pages.csv of 1M URLs: +1.7 GB)
        con.execute("SET threads = 1")
        register_redact(con)
        for name, table in {"frame": frame, **tables}.items():
            con.register(name, table)
        copy_csv(con, select, path, bom=bom)
    finally:
        con.close()


#: a text as a spreadsheet should get it, as SQL: a leading quote if its first character is one of
#: FORMULA_STARTS, missing if empty. Each of them, and the empty text, is below "A", so one byte
#: comparison (DuckDB compares a short text's inlined prefix) settles most texts (URLs, titles)
_NEUTRALISED_SQL = ("CASE WHEN {v} < 'A' THEN (CASE WHEN left({v}, 1) IN ("
                    + ", ".join(f"chr({ord(c)})" for c in FORMULA_STARTS) + ") THEN chr(39) || {v} ELSE nullif({v}, '') END) "
                    "ELSE {v} END")
#: a SECRET_PARAMETERS name after ?, &, ; or #, then "=", ignoring ASCII case (RE2: DuckDB's and Arrow's)
_SECRET_NAME = "[?&;#](?i:" + "|".join(re.escape(n) for n in SECRET_PARAMETERS) + ")="
# A text holding no credentials redact() would mask, told apart in SQL: userinfo needs "//" and
# "@"; a secret parameter needs "=" and, in ASCII text, one of SECRET_PARAMETERS' names after ?, &,
# ; or # (ignoring ASCII case). Text that is not ASCII goes to redact(): Python's IGNORECASE
# folds beyond ASCII (the Kelvin sign matches k).
_SUSPECT_SQL = ("((contains({v}, '@') AND contains({v}, '//')) OR (contains({v}, '=') AND "
                "(regexp_matches({v}, '" + _SECRET_NAME + "') OR NOT regexp_full_match({v}, '[[:ascii:]]*'))))")


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def csv_columns(kinds: Mapping[str, str], masked: Iterable[str] = ()) -> str:
    """The SELECT list writing columns as to_csv writes a spreadsheet_safe frame: ``kinds`` maps
    each column to 'text' (neutralised), 'plain' (text written as it is), 'json' (a JSON text,
    written as spreadsheet_safe writes the list it holds; missing: an empty list), 'bool'
    (True/False) or 'number'; text and JSON columns in ``masked`` are redacted first
    (register_redact's functions; a text only if it may hold credentials). A missing value and an empty text are
    an empty field, as the csv module writes them; a frame of one column quotes its empty
    fields, as the csv module does a row's only field."""
    masked = set(masked)
    exprs = []
    for name, kind in kinds.items():
        v = _sql_name(name)
        if kind in ("text", "plain"):
            v = f"{v}::VARCHAR"
            if name in masked:
                v = f"CASE WHEN {_SUSPECT_SQL.format(v=v)} THEN redact_text({v}) ELSE {v} END"
            v = _NEUTRALISED_SQL.format(v=v) if kind == "text" else f"nullif({v}, '')"
            if len(kinds) == 1:
                v = f"coalesce({v}, '')"
        elif kind == "json":
            v = f"{'masked_' if name in masked else ''}list_text(coalesce({v}::VARCHAR, '[]'))"
            v = f"coalesce({v}, '')" if len(kinds) == 1 else f"nullif({v}, '')"
        elif kind == "bool":
            v = f"CASE WHEN {v} THEN 'True' WHEN NOT {v} THEN 'False' END"
        if len(kinds) == 1 and kind not in ("text", "plain"):
            v = f"coalesce({v}::VARCHAR, '')"
        exprs.append(f"{v} AS {_sql_name(name)}")
    return ", ".join(exprs)


def copy_csv(con: Any, select: str, path: Path, *, bom: bool = False) -> None:
    """COPY ``select`` to ``path`` as to_csv writes (header, CRLF, QUOTE_MINIMAL), with a BOM if
    asked (as the start of the first header cell: DuckDB writes the file whole)."""
    if bom:
        names = con.sql(f"SELECT * FROM ({select}) LIMIT 0").columns
        renamed = [f"{_sql_name(names[0])} AS {_sql_name(chr(0xFEFF) + names[0])}", *map(_sql_name, names[1:])]
        select = f"SELECT {', '.join(renamed)} FROM ({select})"
    target = str(path).replace("'", "''")
    # rows in the order selected: without PRESERVE_ORDER, DuckDB's threads write them as they finish
    con.execute(f"COPY ({select}) TO '{target}' (FORMAT csv, HEADER, NEW_LINE '\\r\\n', COMMENT '', PRESERVE_ORDER true)")


def register_redact(con: Any) -> None:
    """Give ``con`` the SQL functions redact_text(text): this process's ``redact``, so a value is
    masked in a file DuckDB writes as in every other output (the same Masks); list_text(json) and
    masked_list_text(json): the cell spreadsheet_safe makes of the list a JSON text holds (as the
    loader decodes it: missing is an empty list), redacted first by the second."""
    def redact_texts(texts: pa.Array) -> pa.Array:
        return pa.array([None if text is None else redact(text) for text in texts.to_pylist()], type=pa.string())

    def list_texts(masked: bool) -> Any:
        def cells(texts: pa.Array) -> pa.Array:
            # each distinct text once: most rows repeat a few lists ("[200]", "[]")
            whole = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
            encoded = whole.dictionary_encode()
            lists = [json.loads(text) for text in encoded.dictionary.to_pylist()]
            made = _object_texts(np.array([_cell_text(redact_value(v) if masked else v) for v in lists], dtype=object))
            return pa.array(made, type=pa.string()).take(encoded.indices)
        return cells

    for name, function in (("redact_text", redact_texts), ("list_text", list_texts(False)),
                           ("masked_list_text", list_texts(True))):
        with contextlib.suppress(duckdb.Error):
            con.remove_function(name)
        con.create_function(name, function, ["VARCHAR"], "VARCHAR", type="arrow")


def _csv_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """``frame`` as csv_columns takes it (names as text; list and other object cells as their
    text, neutralised as spreadsheet_safe does) and the kind of each column."""
    columns, kinds = {}, {}
    for i, name in enumerate(frame.columns):
        column, key = frame.iloc[:, i], str(name)
        dtype = column.dtype
        if is_str_dtype(dtype) or (isinstance(dtype, pd.CategoricalDtype)
                                   and pd.api.types.is_string_dtype(dtype.categories.dtype)):
            columns[key], kinds[key] = column, "text"
        elif pd.api.types.is_bool_dtype(dtype):
            columns[key], kinds[key] = column, "bool"
        elif (isinstance(dtype, np.dtype) and dtype.kind in "iuf" and dtype.itemsize == 8) or \
                (pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, np.dtype)):
            columns[key], kinds[key] = column, "number"
        elif isinstance(dtype, pd.CategoricalDtype):  # numbers, dates...: written as their objects are
            objects = np.append(dtype.categories.to_numpy(dtype=object), None)[column.array.codes]
            columns[key], kinds[key] = pd.Series(_object_texts(objects), index=column.index, dtype=object), "plain"
        elif dtype == object:
            # spreadsheet_safe's map, once per distinct object (list cells are mostly a few shared
            # lists): pandas infers the dtype of what it makes, whose values it then writes
            objects = column.to_numpy()
            codes, first = _distinct_objects(objects)
            distinct = objects[first]
            if all(value.__class__ is list for value in distinct.tolist()):
                # lists only (redirect chains, a million distinct ones): their JSON, which starts
                # with "[" (no formula) and is never empty, is what pandas would write of it
                texts = [_json_text(value) for value in distinct.tolist()]
            else:
                made = pd.Series(distinct, dtype=object).map(_cell_text)
                texts = _object_texts(made.to_numpy()) if made.dtype == object else _pandas_texts(made)
            columns[key], kinds[key] = pd.Series(np.array(texts, dtype=object)[codes], index=column.index,
                                                 dtype=object), "plain"
        else:  # dates and other values only pandas knows how to write
            columns[key], kinds[key] = pd.Series(_pandas_texts(column), index=column.index, dtype=object), "plain"
    return pd.DataFrame(columns, index=frame.index, copy=False), kinds  # a copy: as much again as the pages


def _object_texts(values: np.ndarray) -> list[str | None]:
    """Objects as the csv module writes them: missing as nothing (None here), others by str."""
    missing = pd.isna(values).tolist()
    return [None if gone else value if isinstance(value, str) else str(value)
            for value, gone in zip(values.tolist(), missing)]


def _pandas_texts(column: pd.Series) -> list[str | None]:
    """The fields DataFrame.to_csv writes for ``column`` (dates, periods...), missing as None."""
    written = column.to_frame().to_csv(index=False, header=False, lineterminator="\r\n")
    return [row[0] or None for row in csv.reader(io.StringIO(written, newline=""))]
