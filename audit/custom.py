"""Custom extraction and search results as pages columns (one per name).

``extract_NAME``: the value (mode first), the list of values (mode all) or the count (mode
count) each page's extractor read; ``search_NAME``: how many times each search matched. A page
not read (not HTML, not a 2xx answer), or where an extractor found nothing, holds a missing
value (a count: 0 where the page was read).
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from crawler.extraction import EXTRACT_PREFIX, SEARCH_PREFIX, Definitions, definitions


def definitions_of(meta: Mapping[str, Any]) -> Definitions:
    """The custom extractions and searches a crawl was made with (its recorded settings)."""
    settings = meta.get("settings") or {}
    return definitions(settings.get("extract") or {}, settings.get("search") or {},
                       settings.get("search_absent") or {})


def add_custom_columns(pages: pd.DataFrame, found: Definitions, extractions: pd.DataFrame | None,
                       search_matches: pd.DataFrame | None) -> None:
    """Add extract_NAME and search_NAME to ``pages`` in place from the store's rows (columns
    already there, as a hand-built crawl gives them, are typed instead)."""
    urls = pages["url"]
    for extractor in found.extractors:
        column = EXTRACT_PREFIX + extractor.name
        rows = (extractions[extractions["name"] == extractor.name] if extractions is not None
                else None)
        if rows is None:
            values = pages[column] if column in pages else pd.Series(None, index=pages.index, dtype=object)
        elif extractor.mode == "all":
            lists = rows.sort_values(["url", "seq"]).groupby("url", sort=False)["value"].agg(list)
            values = urls.map(lists)
        else:
            values = urls.map(dict(zip(rows["url"], rows["value"])))
        if extractor.mode == "count":
            pages[column] = pd.to_numeric(values).astype("Int64")
        elif extractor.mode == "all":
            pages[column] = values.astype(object)
        else:
            pages[column] = values.astype("str")
    for search in found.searches:
        column = SEARCH_PREFIX + search.name
        if search_matches is not None:
            rows = search_matches[search_matches["name"] == search.name]
            values = urls.map(dict(zip(rows["url"], rows["matches"])))
        else:
            values = pages[column] if column in pages else pd.Series(None, index=pages.index, dtype=object)
        pages[column] = pd.to_numeric(values).astype("Int64")
