"""Charts as inline SVG, drawn on the server: no script, no library, they print as they show.

Two shapes serve every chart: horizontal bars (one row per label, optionally stacked
segments) and columns (a distribution over ordered bins). Colours come from CSS classes
the report's stylesheet defines, so a chart follows the theme and the print style.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup, escape

from audit.rules import SEVERITIES

#: click depths above this are drawn as one "N+" column
DEPTH_BINS = 10
#: response-time bin edges, seconds
RESPONSE_TIME_EDGES = (0.1, 0.25, 0.5, 0.8, 1.5, 3.0)
#: the slow-TTFB line peers draw (SEOnaut: 800 ms)
SLOW_RESPONSE = 0.8
#: status codes beyond the most common ones are drawn as one "other" bar
STATUS_BARS = 10


@dataclass(frozen=True)
class Segment:
    value: int
    css_class: str  # colour, from the report stylesheet


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[Segment, ...]

    @property
    def total(self) -> int:
        return sum(s.value for s in self.segments)


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def hbar_chart(bars: list[Bar], title: str, *, width: int = 460, label_width: int = 120) -> Markup:
    """Horizontal bars, one row per label, longest bar = largest total."""
    row, gap, value_width = 22, 6, 64
    height = max(1, len(bars)) * (row + gap)
    scale = (width - label_width - value_width) / max([b.total for b in bars] + [1])
    body = []
    for i, bar in enumerate(bars):
        y = i * (row + gap)
        body.append(f'<text class="chart-label" x="{label_width - 8}" y="{y + row * 0.7:.1f}" '
                    f'text-anchor="end">{escape(bar.label)}</text>')
        x = float(label_width)
        for seg in bar.segments:
            w = seg.value * scale
            if w > 0:
                body.append(f'<rect class="{escape(seg.css_class)}" x="{x:.1f}" y="{y}" '
                            f'width="{max(w, 1.5):.1f}" height="{row}" rx="3">'
                            f"<title>{seg.value:,}</title></rect>")
            x += w
        body.append(f'<text class="chart-value" x="{x + 6:.1f}" y="{y + row * 0.7:.1f}">'
                    f"{bar.total:,}</text>")
    return _svg(width, height, title, body)


def column_chart(bars: list[Bar], title: str, *, width: int = 460, height: int = 180) -> Markup:
    """Vertical columns over ordered bins (a distribution), labels underneath."""
    axis, top = 24, 18
    slot = width / max(1, len(bars))
    scale = (height - axis - top) / max([b.total for b in bars] + [1])
    body = [f'<line class="chart-axis" x1="0" x2="{width}" y1="{height - axis}" y2="{height - axis}"/>']
    for i, bar in enumerate(bars):
        x = i * slot + slot * 0.15
        y = float(height - axis)
        for seg in bar.segments:
            h = seg.value * scale
            if h > 0:
                y -= max(h, 1.5)
                body.append(f'<rect class="{escape(seg.css_class)}" x="{x:.1f}" y="{y:.1f}" '
                            f'width="{slot * 0.7:.1f}" height="{max(h, 1.5):.1f}" rx="2">'
                            f"<title>{seg.value:,}</title></rect>")
        centre = x + slot * 0.35
        body.append(f'<text class="chart-value" x="{centre:.1f}" y="{y - 4:.1f}" '
                    f'text-anchor="middle">{bar.total:,}</text>')
        body.append(f'<text class="chart-label" x="{centre:.1f}" y="{height - 7}" '
                    f'text-anchor="middle">{escape(bar.label)}</text>')
    return _svg(width, height, title, body)


def _single(label: str, value: int, css_class: str) -> Bar:
    return Bar(label, (Segment(int(value), css_class),))


def count_bars(counts: dict[str, int], css_class: str) -> list[Bar]:
    """One bar per key of ``counts``, largest first."""
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return [_single(str(label), n, css_class) for label, n in ranked]


def status_code_bars(pages: pd.DataFrame) -> list[Bar]:
    """One bar per status code (the most common ones), then network errors and skipped URLs."""
    # only the columns needed: a row filter of the whole pages frame copies every column
    fetched = pages.loc[pages["status"].notna(), ["status", "status_class"]]
    counts = fetched.groupby(["status", "status_class"]).size().sort_values(ascending=False)
    shown = counts.iloc[:STATUS_BARS].sort_index()
    bars = [_single(str(int(code)), n, f"fill-{cls}") for (code, cls), n in shown.items()]
    if len(counts) > STATUS_BARS:
        bars.append(_single("other", counts.iloc[STATUS_BARS:].sum(), "fill-other"))
    for cls, label in (("error", "network error"), ("skipped", "not fetched")):
        n = int((pages["status_class"] == cls).sum())
        if n:
            bars.append(_single(label, n, f"fill-{cls}"))
    return bars


def depth_bars(pages: pd.DataFrame) -> list[Bar]:
    """Fetched URLs per click depth, deep ones pooled, unlinked ones (no depth) last."""
    depth = pd.to_numeric(pages.loc[pages["status_class"] != "skipped", "depth"], errors="coerce")
    counts = depth.clip(upper=DEPTH_BINS).value_counts()
    deepest = int(depth.max()) if depth.notna().any() else -1
    bars = [_single(str(d), counts.get(d, 0), "fill-accent") for d in range(min(deepest, DEPTH_BINS - 1) + 1)]
    if deepest >= DEPTH_BINS:
        bars.append(_single(f"{DEPTH_BINS}+", counts.get(DEPTH_BINS, 0), "fill-accent"))
    if depth.isna().any():
        bars.append(_single("none", depth.isna().sum(), "fill-skipped"))
    return bars


def response_time_bars(pages: pd.DataFrame) -> list[Bar]:
    """Fetched URLs per response-time bin (labels in ms); bins past the slow line are warnings."""
    times = pd.to_numeric(pages["response_time"], errors="coerce").dropna()
    edges = (0.0, *RESPONSE_TIME_EDGES, float("inf"))
    counts = pd.cut(times, edges, right=False).value_counts(sort=False)
    ms = [f"{e * 1000:.0f}" for e in RESPONSE_TIME_EDGES]
    labels = [f"<{ms[0]}", *(f"{lo}–{hi}" for lo, hi in zip(ms, ms[1:])), f"≥{ms[-1]}"]
    return [_single(label, n, "fill-warning" if low >= SLOW_RESPONSE else "fill-accent")
            for label, n, low in zip(labels, counts, edges)]


def category_bars(findings: pd.DataFrame) -> list[Bar]:
    """Findings per category, stacked by severity, largest category first (ties by name)."""
    table = (findings.assign(category=findings["category"].fillna("other"))
             .pivot_table(index="category", columns="severity", values="url", aggfunc="size", fill_value=0)
             .reindex(columns=list(SEVERITIES), fill_value=0))
    totals = table.sum(axis=1)
    table = table.loc[sorted(table.index, key=lambda category: (-totals[category], str(category)))]
    return [Bar(str(category), tuple(Segment(int(row[s]), f"fill-{s}") for s in SEVERITIES))
            for category, row in table.iterrows()]
