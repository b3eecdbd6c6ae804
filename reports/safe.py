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

import csv
import hashlib
import io
import itertools
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any, Iterable, TextIO

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK_ROWS = 100_000

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
#: in a million runs (of a million secrets, once in 500); the second gets more digits (Masks, in
#: each process: one writing links.csv apart masks a value the same unless it met such a pair)
MASK_DIGITS = 12
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

    def __call__(self, value: str) -> str:
        mask = self.of_value.get(value)
        if mask is not None:
            return mask
        if value in self.values:
            return value
        digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), key=self.key).hexdigest()
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
    # (a content type with "charset=" is on every page)
    suspect = _Characters(column.to_numpy(dtype=object, na_value="").tolist()).holding("@=")
    if suspect.any():
        codes, texts = pd.factorize(column.to_numpy()[suspect])
        masked = np.array([redact(text) for text in texts], dtype=object)
        if (masked != texts).any():
            return column.mask(suspect, pd.Series(masked[codes], index=column.index[suspect], dtype=column.dtype))
    return column


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
        return self.scan(holding=chars)[0]

    def starting_with(self, chars: Iterable[str]) -> np.ndarray:
        """Which texts start with one of ``chars`` (single characters)."""
        return self.scan(starting_with=chars)[1]

    def scan(self, holding: str = "", starting_with: Iterable[str] = "") -> tuple[np.ndarray, np.ndarray]:
        """holding(holding) and starting_with(starting_with) in one pass (an empty one: all False)."""
        found, first = np.zeros(len(self.texts), dtype=bool), np.zeros(len(self.texts), dtype=bool)
        held, firsts = _ords(holding), _ords(starting_with)
        for at in range(0, len(self.texts), self.BLOCK):
            block = self.texts[at:at + self.BLOCK]
            lengths = np.fromiter(map(len, block), dtype=np.int64, count=len(block))
            ends = np.cumsum(lengths)
            starts = ends - lengths
            joined = "".join(block)
            # one code per character (lone surrogates included: crawled text can hold them)
            codes = (np.frombuffer(joined.encode("ascii"), dtype=np.uint8) if joined.isascii()
                     else np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32))
            rows = slice(at, at + len(block))
            if held:
                found[rows][np.searchsorted(ends, np.flatnonzero(np.isin(codes, held)), side="right")] = True
            if firsts:
                nonempty = ends > starts
                first[rows][nonempty] = np.isin(codes[starts[nonempty]], firsts)
        return found, first


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
            risky = _Characters(column.to_numpy(dtype=object, na_value="").tolist()).starting_with(FORMULA_STARTS)
            if risky.any():
                out[name] = column.where(~risky, "'" + column)
        elif column.dtype == object:
            out[name] = column.map(_cell_text)
    return out


def write_csv(path: Path, frame: pd.DataFrame, *, bom: bool = False) -> Path:
    """Write ``frame`` as spreadsheet-safe UTF-8 CSV (with a BOM for Excel if asked).

    Rows end in CRLF (RFC 4180): the csv writer quotes a cell holding any character of the
    line ending, so a crawled title with a bare CR stays one cell instead of starting a new
    row in Excel (a row that could begin with a formula). Written in chunks: a neutralised
    copy of a few million links at once would double the memory the report needs.
    """
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        write_csv_rows(out, frame, header=True)
    return path


CSV_LINE_END = "\r\n"
# what the csv module (QUOTE_MINIMAL) quotes a field for: the delimiter, the quote, the line end
_CSV_QUOTED_CHARS = ',"\r\n'
_NULLABLE_INTEGERS = (pd.BooleanDtype, pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype, pd.Int64Dtype,
                      pd.UInt8Dtype, pd.UInt16Dtype, pd.UInt32Dtype, pd.UInt64Dtype)
# cells (and as many separators) joined into one string and written at a time
_JOINED_CELLS = 1_000_000
# DataFrame.to_csv formats this many cells at a time (its rows-per-chunk is this over the columns)
_PANDAS_CSV_CELLS = 100_000


def write_csv_rows(out: TextIO, frame: pd.DataFrame, *, header: bool,
                   made: dict[int, tuple[pd.Index, np.ndarray]] | None = None) -> None:
    """``frame``'s rows (after its header line if ``header``) into ``out``, as write_csv writes them.

    The bytes are those of ``spreadsheet_safe(chunk).to_csv(index=False, lineterminator="\r\n")``
    (categories decoded first), made without pandas' row-by-row csv writer: each column of a chunk
    becomes an array of finished fields (distinct values and categories formatted once, text
    scanned by numpy for what needs neutralising or quoting), then a chunk is one string join.
    ``made``: given, the fields of categories are kept there for the next call (a frame written
    in parts whose categoricals have the same categories objects).
    """
    if header:
        out.write(frame.iloc[:0].to_csv(index=False, lineterminator=CSV_LINE_END))
    if frame.shape[1] == 0:  # rows with no cells are bare line ends
        out.write(CSV_LINE_END * len(frame))
        return
    made = {} if made is None else made  # categories' fields, shared by columns (and chunks) of one dtype
    columns = [_ColumnFields(frame.iloc[:, i], frame.shape[1], made) for i in range(frame.shape[1])]
    # rows as cells and separators, a block of rows at a time: one join, one write per block
    block_rows = max(_JOINED_CELLS // (2 * len(columns)), 1)
    cells = np.empty((min(block_rows, len(frame)), 2 * len(columns)), dtype=object)
    cells[:, 1::2] = [","] * (len(columns) - 1) + [CSV_LINE_END]
    for start in range(0, len(frame), CSV_CHUNK_ROWS):
        fields = [column.fields(slice(start, start + CSV_CHUNK_ROWS)) for column in columns]
        if len(columns) == 1:  # the csv module quotes a row's only field when it is empty
            fields[0][fields[0] == ""] = '""'
        for block in range(0, len(fields[0]), block_rows):
            block_cells = cells[:len(fields[0]) - block]
            for i, column_fields in enumerate(fields):
                block_cells[:, 2 * i] = column_fields[block:block + block_rows]
            out.write("".join(block_cells.ravel().tolist()))


class _ColumnFields:
    """One column's CSV fields, a chunk of rows at a time."""

    def __init__(self, column: pd.Series, frame_width: int, made: dict[int, tuple[pd.Index, np.ndarray]]) -> None:
        """``made``: the category fields of the frame's other columns, by id of their categories
        (the source and target URLs of links share theirs: a million URLs formatted once)."""
        self.column = column
        # pandas formats dates and other such values for its chunk of rows: the same rows here
        self.format_rows = max(_PANDAS_CSV_CELLS // frame_width, 1)
        self.codes = self.category_fields = self.categories = None
        if isinstance(column.dtype, pd.CategoricalDtype):
            self.codes = column.array.codes
            index = column.cat.categories
            known, fields = made.get(id(index), (None, None))
            if known is index:
                self.category_fields = fields
                return
            safe = spreadsheet_safe(pd.DataFrame({"c": index}))["c"]
            categories = safe.to_numpy(dtype=object)  # decoded as objects, as pandas writes them
            if is_str_dtype(safe.dtype) or safe.dtype.kind in "biuf":
                # text and numbers are written the same whichever chunk they are in: each
                # category's field is made once
                self.category_fields = np.append(self._csv_fields(pd.Series(categories)), "")  # -1: missing
                made[id(index)] = (index, self.category_fields)
            else:  # dates and such: pandas formats each chunk's decoded values its own way
                self.categories = np.append(categories, None)

    def fields(self, rows: slice) -> np.ndarray:
        if self.category_fields is not None:
            return self.category_fields[self.codes[rows]]
        if self.categories is not None:
            return self._csv_fields(pd.Series(self.categories[self.codes[rows]]))
        return self._safe_fields(self.column.iloc[rows])

    def _safe_fields(self, column: pd.Series) -> np.ndarray:
        """The fields of ``spreadsheet_safe``'s ``column``."""
        if is_str_dtype(column.dtype):
            return _text_fields(column.to_numpy(dtype=object, na_value="").tolist(), neutralised=True)
        if column.dtype == object:
            # spreadsheet_safe's map, once per distinct object (list cells are mostly a few shared
            # lists): pandas infers the result's dtype from the kinds of values, however many
            objects = column.to_numpy()
            codes, first = _distinct_objects(objects)
            distinct = pd.Series(objects[first], dtype=object).map(_cell_text)
            if _formatted_alone(distinct.dtype):
                return self._csv_fields(distinct)[codes]
            return self._csv_fields(column.map(_cell_text))
        return self._csv_fields(column)

    def _csv_fields(self, column: pd.Series) -> np.ndarray:
        """The fields DataFrame.to_csv writes for ``column``."""
        dtype = column.dtype
        if not _formatted_alone(dtype):
            return _text_fields(self._pandas_texts(column), neutralised=False)
        if is_str_dtype(dtype):
            return _text_fields(column.to_numpy(dtype=object, na_value="").tolist(), neutralised=False)
        if dtype == object:
            return _text_fields(_object_texts(column.to_numpy()), neutralised=False)
        if isinstance(dtype, np.dtype):
            return _number_fields(column.to_numpy())
        codes, uniques = pd.factorize(column.array)  # nullable integers and booleans
        return _coded_fields(map(str, uniques.astype(object)), codes)

    def _pandas_texts(self, column: pd.Series) -> list[str]:
        """The texts pandas makes of values only it knows how to write (dates, periods...)."""
        texts: list[str] = []
        for start in range(0, len(column), self.format_rows):
            written = column.iloc[start:start + self.format_rows].to_frame().to_csv(index=False, header=False)
            texts += [row[0] for row in csv.reader(io.StringIO(written, newline=""))]
        return texts


def _formatted_alone(dtype: Any) -> bool:
    """Whether to_csv writes each value of ``dtype`` the same whatever the others (not so dates)."""
    return (is_str_dtype(dtype) or dtype == object or isinstance(dtype, _NULLABLE_INTEGERS)
            or (isinstance(dtype, np.dtype) and dtype.kind in "biuf" and dtype.itemsize <= 8))


def _object_texts(values: np.ndarray) -> list[str]:
    """Objects as the csv module writes them: missing as nothing (to_csv's na_rep), others by str."""
    missing = pd.isna(values).tolist()
    return ["" if gone else value if isinstance(value, str) else str(value)
            for value, gone in zip(values.tolist(), missing)]


def _number_fields(values: np.ndarray) -> np.ndarray:
    """Numbers and booleans as to_csv writes them, each distinct value formatted once: floats as
    numpy's str, missing as nothing; integers and booleans as Python's str."""
    floats = values.dtype.kind == "f"
    # floats are told apart by their bits: factorize would take -0.0 for 0.0
    codes, uniques = pd.factorize(values.view(f"i{values.itemsize}") if floats else values)
    if floats:
        codes[np.isnan(values)] = -1
        uniques = uniques.view(values.dtype)
        # numpy's str of a float64 is Python's repr (the shortest text that reads back), made quicker
        texts = ([repr(value) for value in uniques.tolist()] if values.dtype == np.float64
                 else uniques.astype(str).astype(object))
    else:
        texts = [str(value) for value in uniques.tolist()]
    return _coded_fields(texts, codes)


def _coded_fields(texts: Iterable[str], codes: np.ndarray) -> np.ndarray:
    """``texts`` by code; code -1 (missing) as an empty field."""
    return np.array([*texts, ""], dtype=object)[codes]


def _text_fields(texts: list[str], *, neutralised: bool) -> np.ndarray:
    """``texts`` as CSV fields: neutralised if asked, then quoted as the csv module quotes."""
    fields = np.array(texts, dtype=object)
    characters = _Characters(texts)
    quoted, risky = characters.scan(holding=_CSV_QUOTED_CHARS, starting_with=FORMULA_STARTS if neutralised else "")
    for i in np.flatnonzero(quoted | risky).tolist():
        text = neutralise(texts[i]) if risky[i] else texts[i]
        fields[i] = '"' + text.replace('"', '""') + '"' if quoted[i] else text
    return fields
