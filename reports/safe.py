"""Making crawled text safe to hand to spreadsheets and browsers.

Everything that came from a crawled site (titles, URLs, anchors, headers) is hostile.
A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(tab and CR are read as such a start by some importers), so such text cells get a
leading single quote, the neutralisation OWASP recommends. Numbers stay numbers: a
negative number in a numeric column is data, not a formula.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK_ROWS = 100_000

# Browsers strip control characters and spaces from a URL before reading its scheme, so
# anything but a plain "http(s)://" followed by visible characters is refused.
_HTTP_URL = re.compile(r"https?://[^\x00-\x20\x7f]+", re.IGNORECASE)


def neutralise(text: str) -> str:
    """``text`` with a leading quote if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def http_url(url: object) -> str | None:
    """``url`` if it is an http(s) URL a report may link to, else None (show it as text)."""
    if isinstance(url, str) and _HTTP_URL.fullmatch(url):
        return url
    return None


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
        if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
            # pandas' own str dtype holds only text and NA: the vectorised path
            risky = column.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
            if risky.any():
                out[name] = column.where(~risky, "'" + column)
        elif column.dtype == object:
            out[name] = column.map(_cell_text)
    return out


def write_csv(path: Path, frame: pd.DataFrame, *, bom: bool = False) -> Path:
    """Write ``frame`` as spreadsheet-safe UTF-8 CSV (with a BOM for Excel if asked).

    Written in chunks: a neutralised copy of a few million links at once would double the
    memory the report needs.
    """
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        for start in range(0, max(len(frame), 1), CSV_CHUNK_ROWS):
            chunk = spreadsheet_safe(frame.iloc[start:start + CSV_CHUNK_ROWS])
            chunk.to_csv(out, index=False, header=start == 0)
    return path
