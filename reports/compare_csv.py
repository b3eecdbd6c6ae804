"""compare.csv: a comparison of two crawls (seo_audit.compare.compare_crawls) as one row per change."""

from __future__ import annotations

from typing import Any

import pandas as pd

#: compare.csv columns: one row per change
CSV_COLUMNS = ["change", "rule", "severity", "url", "old", "new", "segment"]


def change_rows(comparison: dict[str, Any]) -> pd.DataFrame:
    """One row per change, CSV_COLUMNS: new, fixed and borderline findings, status changes, URLs
    that appeared or disappeared, and the waste change (persisting and not compared findings are
    counted, not listed)."""
    rows = []
    for rule, changes in comparison["findings"]["by_rule"].items():
        for kind in ("new", "fixed", "borderline"):  # a comparison made before borderline has none
            rows += [(f"finding-{kind}", rule, changes["severity"], url, None, None, None)
                     for url in changes.get(kind, [])]
    # answers as text: a status column of numbers and None would be written as 200.0
    rows += [("status-changed", None, None, c["url"], _text(c["old"]), _text(c["new"]), None)
             for c in comparison["status_changes"]]
    rows += [("url-appeared", None, None, url, None, None, None) for url in comparison["appeared"]]
    rows += [("url-disappeared", None, None, url, None, None, None) for url in comparison["disappeared"]]
    budget = comparison["budget"]
    rows.append(("waste-share", None, None, None, round(budget["old"]["waste_share"], 4),
                 round(budget["new"]["waste_share"], 4), None))
    # per segment (a comparison made before segments has none): waste share and findings, where changed
    for name, segment in comparison.get("segments", {}).items():
        was, now = segment["old"] or {}, segment["new"] or {}
        for key in ("waste_share", "findings"):
            if segment["change"][key] or (key == "findings" and segment["change"]["by_rule"]):
                rows.append((f"segment-{key.replace('_', '-')}", None, None, None, _rounded(was.get(key)),
                             _rounded(now.get(key)), name))
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def _rounded(value: float | int | None) -> float | int | None:
    return round(value, 4) if isinstance(value, float) else value


def _text(answer: int | str | None) -> str | None:
    return None if answer is None else str(answer)
