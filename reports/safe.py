"""Making crawled text safe to hand to spreadsheets and browsers, and to show to clients.

Everything that came from a crawled site (titles, URLs, anchors, headers) is hostile.
A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(tab and CR are read as such a start by some importers), so such text cells get a
leading single quote, the neutralisation OWASP recommends. Numbers stay numbers: a
negative number in a numeric column is data, not a formula.

URLs may carry credentials (``https://user:pass@host/``, ``?token=...``); a report is
sent to clients and archived, so ``redact`` masks them wherever a URL appears in text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK_ROWS = 100_000

# Browsers strip control characters and spaces from a URL before reading its scheme, so
# anything but a plain "http(s)://" followed by visible characters is refused.
_HTTP_URL = re.compile(r"https?://[^\x00-\x20\x7f]+", re.IGNORECASE)

#: query (or fragment, or ;matrix) parameter names whose values are secrets
SECRET_PARAMETERS = (
    "token", "access_token", "refresh_token", "id_token", "api_key", "apikey", "key", "secret",
    "client_secret", "password", "passwd", "pwd", "session", "sessionid", "jsessionid", "phpsessid",
    "sid", "auth", "signature", "sig", "x-amz-signature", "x-amz-security-token", "code",
)
REDACTED = "***"
# Userinfo runs from "//" to the last "@" before the path, query or fragment: a password
# may itself hold an "@", and URL parsers split at the last one.
_USERINFO = re.compile(r"//[^/?#\s]+@")
# A secret value runs to the next parameter, the fragment or the end of the URL in text.
_SECRET_PARAMETER = re.compile(
    r"(?<=[?&;#])(" + "|".join(re.escape(name) for name in SECRET_PARAMETERS) + r")=[^&#\s]+",
    re.IGNORECASE)


def neutralise(text: str) -> str:
    """``text`` with a leading quote if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def http_url(url: object) -> str | None:
    """``url`` if it is an http(s) URL a report may link to, else None (show it as text)."""
    if isinstance(url, str) and _HTTP_URL.fullmatch(url):
        return url
    return None


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it masked: userinfo becomes ``***:***``
    and the value of each SECRET_PARAMETERS parameter becomes ``***``. Text with no URL
    credentials comes back unchanged, so any text (a title, an evidence line) can pass."""
    if "@" not in text and "=" not in text:  # the common case, without a regex
        return text
    # parameters first: a masked userinfo can never form a new parameter, the reverse can
    return _USERINFO.sub(f"//{REDACTED}:{REDACTED}@", _SECRET_PARAMETER.sub(rf"\1={REDACTED}", text))


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
            # each distinct value once; masking may merge values, so the categories are made anew
            categories = column.cat.categories
            masked_categories = categories.map(redact_value)
            if not masked_categories.equals(categories):
                merged, uniques = pd.factorize(masked_categories)
                codes = np.append(merged, -1)[column.cat.codes.to_numpy()]  # -1 (missing) stays -1
                redacted[name] = pd.Series(pd.Categorical.from_codes(codes, categories=uniques),
                                           index=column.index, name=name)
        elif pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
            # pandas' str dtype: only the cells that could hold credentials go through Python
            suspect = (column.str.contains("@", regex=False) | column.str.contains("=", regex=False)
                       ).fillna(False).astype(bool)  # two plain searches: twice as fast as one regex
            if suspect.any():
                masked = column[suspect].map(redact)
                if not masked.equals(column[suspect]):
                    redacted[name] = column.mask(suspect, masked)
        elif column.dtype == object:
            masked = column.map(redact_value, na_action="ignore")
            if not masked.equals(column):
                redacted[name] = masked
    return frame.assign(**redacted) if redacted else frame


def _cell_text(value: object) -> object:
    """One cell of a text column as a spreadsheet should get it: lists as JSON, text neutralised."""
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        value = json.dumps(value.tolist() if isinstance(value, np.ndarray) else value,
                           ensure_ascii=False, default=str)
    if isinstance(value, str):
        return neutralise(value)
    return value


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
        elif pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
            # pandas' own str dtype holds only text and NA: the vectorised path
            risky = column.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
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


def write_csv_rows(out: TextIO, frame: pd.DataFrame, *, header: bool) -> None:
    """``frame``'s rows (after its header line if ``header``) into ``out``, as write_csv writes them."""
    # categorical columns (links' URLs and anchors): each distinct value made safe and turned
    # into a Python string once, then looked up by code chunk by chunk
    decoded = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            safe = spreadsheet_safe(pd.DataFrame({name: column.cat.categories}))[name]
            decoded[name] = (np.append(safe.to_numpy(dtype=object), None), column.cat.codes.to_numpy())
    others = [name for name in frame.columns if name not in decoded]
    for start in range(0, max(len(frame), 1), CSV_CHUNK_ROWS):
        rows = slice(start, start + CSV_CHUNK_ROWS)
        chunk = frame.iloc[rows]
        chunk = chunk.assign(**spreadsheet_safe(chunk[others]),
                             **{name: values[codes[rows]] for name, (values, codes) in decoded.items()})
        chunk.to_csv(out, index=False, header=header and start == 0, lineterminator="\r\n")
