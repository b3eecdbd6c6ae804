"""The report's "JavaScript rendering" section: how many pages were rendered and why, what
rendering changed, the worst pages with raw and rendered side by side, and lab timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: the worst pages shown side by side
WORST_PAGES = 10
#: what differences are called in the report, in crawler.render.differences' order
DIFFERENCE_LABELS = {"links": "links", "title": "title", "meta_robots": "meta robots", "canonical": "canonical",
                     "h1": "h1", "word_count": "amount of text"}
#: lab timings shown (column, label, unit)
LAB_COLUMNS = (("rendered_ttfb_ms", "Time to first byte", "ms"), ("rendered_dcl_ms", "DOMContentLoaded", "ms"),
               ("rendered_load_ms", "Load event", "ms"), ("rendered_lcp_ms", "Largest Contentful Paint", "ms"),
               ("rendered_cls", "Cumulative Layout Shift", ""), ("rendered_bytes", "Bytes transferred", "B"),
               ("rendered_requests", "Requests", ""))
#: (label, raw column, rendered column) of the side-by-side view
SIDE_BY_SIDE = (("Title", "title", "rendered_title"), ("Meta robots", "meta_robots", "rendered_meta_robots"),
                ("Canonical", "canonical", "rendered_canonical"), ("h1", "h1_count", "rendered_h1_count"),
                ("Words", "word_count", "rendered_word_count"), ("Links", "outlinks", "rendered_outlinks"))
#: the pages columns rendering_summary reads
PAGES_READ = ("url", "is_html", "render_reason", "render_outcome", "render_error", "rendered_differences",
              "rendered_xhr", "rendered_js_errors", "rendered_blocked_resources", "rendered_final_url",
              *(column for _, *columns in SIDE_BY_SIDE for column in columns),
              *(column for column, _, _ in LAB_COLUMNS))


@dataclass
class RenderedPage:
    url: str
    outcome: str
    differences: list[str]
    rows: list[tuple[str, Any, Any]]  # (label, raw, rendered)
    final_url: str | None
    notes: list[str] = field(default_factory=list)  # 202 XHRs, errors, blocked resources


@dataclass
class Rendering:
    rendered: int
    html_pages: int
    by_reason: dict[str, int]
    not_rendered: dict[str, int]  # why auto left pages raw (crawler.render.NOT_RENDERED_REASONS)
    by_outcome: dict[str, int]
    differences: dict[str, int]  # label -> pages
    worst: list[RenderedPage]
    lab: list[tuple[str, str, float | None, float | None]]  # (label, unit, median, p90)

    def to_dict(self) -> dict[str, Any]:
        return {"rendered": self.rendered, "by_reason": self.by_reason,
                "not_rendered_by_reason": self.not_rendered, "by_outcome": self.by_outcome,
                "differences": self.differences}


def _value(value: Any) -> Any:
    return None if value is None or (not isinstance(value, (list, str)) and pd.isna(value)) else value


def _notes(row: pd.Series) -> list[str]:
    notes = [f"fetch/XHR {url} answered {status}" for url, status in row["rendered_xhr"] if status == 202]
    notes += [f"uncaught: {error}" for error in row["rendered_js_errors"][:2]]
    if row["render_outcome"] != "ok" and _value(row["render_error"]):
        notes.append(f"render {row['render_outcome']}: {row['render_error']}")
    notes += [f"blocked by robots.txt: {url}" for url, _, _ in row["rendered_blocked_resources"][:2]]
    return notes


def _score(row: pd.Series) -> int:
    """How bad a page's render is, for ordering: noindex and 202 placeholders first."""
    diffs = row["rendered_differences"]
    return (len(diffs) + 4 * ("meta_robots" in diffs) + 2 * ("links" in diffs)
            + 4 * any(status == 202 for _, status in row["rendered_xhr"])
            + 3 * (row["render_outcome"] != "ok") + bool(row["rendered_js_errors"]))


def rendering_summary(pages: pd.DataFrame, not_rendered: dict[str, int] | None = None,
                      worst: int = WORST_PAGES) -> Rendering | None:
    """The section's facts (``not_rendered``: pages auto left raw, by why); None when the crawl
    rendered nothing."""
    if "render_reason" not in pages:
        return None
    done = pages[pages["render_reason"].notna() & pages["render_outcome"].notna()]
    if done.empty:
        return None
    diffs = done["rendered_differences"]
    counts = {label: int(sum(name in d for d in diffs)) for name, label in DIFFERENCE_LABELS.items()}
    scores = done.apply(_score, axis=1)
    chosen = done.loc[scores[scores > 0].sort_values(ascending=False, kind="stable").index[:worst]]
    shown = [RenderedPage(url=row["url"], outcome=row["render_outcome"],
                          differences=[DIFFERENCE_LABELS[d] for d in row["rendered_differences"]],
                          rows=[(label, _value(row[raw]), _value(row[after])) for label, raw, after in SIDE_BY_SIDE],
                          final_url=_value(row["rendered_final_url"]), notes=_notes(row))
             for _, row in chosen.iterrows()]
    ok = done[done["render_outcome"].eq("ok")]
    lab = []
    for column, label, unit in LAB_COLUMNS:
        values = pd.to_numeric(ok[column], errors="coerce").dropna()
        lab.append((label, unit, float(values.median()) if len(values) else None,
                    float(values.quantile(0.9)) if len(values) else None))
    return Rendering(rendered=len(done), html_pages=int(pages["is_html"].sum()),
                     by_reason={k: int(v) for k, v in done["render_reason"].value_counts().items()},
                     not_rendered=dict(not_rendered or {}),
                     by_outcome={k: int(v) for k, v in done["render_outcome"].value_counts().items()},
                     differences={k: v for k, v in counts.items() if v}, worst=shown, lab=lab)
