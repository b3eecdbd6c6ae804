"""The server logs' outputs: bot-hits.csv, log-summary.json and the report's "What Googlebot
fetched" section (templates/logs.html.j2).

Log URLs and user agents are whatever a client sent: CSVs go through safe.write_csv (formula
neutralisation), the section through Jinja's autoescaping; no visitor's IP reaches any of them
(the log facts hold bots only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from . import charts
from .exports import write_summary_json
from .safe import copy_frame_csv, csv_columns

BOT_HITS_CSV = "bot-hits.csv"
LOG_SUMMARY_JSON = "log-summary.json"
#: URLs the section lists per table
SHOWN = 20
_CLASS_CSS = {"2xx": "fill-2xx", "3xx": "fill-3xx", "4xx": "fill-4xx", "5xx": "fill-5xx"}


def write_bot_hits_csv(out: Path, logs: Any, *, bom: bool = False) -> Path:
    """bot-hits.csv by DuckDB's COPY, as safe.write_csv writes the frame redacted with its times
    in ISO 8601: the times formatted and the texts masked in SQL (pandas' strftime and the
    frame's redaction took seconds on a million rows)."""
    path = out / BOT_HITS_CSV
    kinds = {name: "number" if name == "hits" else "text" for name in logs.bot_hits.columns}
    times = ", ".join(f"strftime({name}, '%Y-%m-%dT%H:%M:%SZ') AS {name}" for name in ("first_hit", "last_hit"))
    texts = [name for name, kind in kinds.items() if kind == "text"]
    select = f"SELECT {csv_columns(kinds, masked=texts)} FROM (SELECT * REPLACE ({times}) FROM frame)"
    copy_frame_csv(logs.bot_hits, select, path, bom=bom)
    return path


def write_log_summary_json(out: Path, logs: Any, *, bom: bool = False) -> Path:
    return write_summary_json(out / LOG_SUMMARY_JSON, logs.summary())


#: the logs' outputs, each written on its own: {file name: writer(out dir, logs, bom=)}
LOG_OUTPUTS = {BOT_HITS_CSV: write_bot_hits_csv, LOG_SUMMARY_JSON: write_log_summary_json}


def _daily_chart(daily: pd.DataFrame) -> Markup | None:
    """Googlebot's verified (or trusted) hits per day, stacked by status class."""
    if not len(daily):
        return None
    per_day = daily.groupby(["day", "status_class"])["hits"].sum()
    bars = []
    for day in sorted(per_day.index.get_level_values(0).unique()):
        counts = per_day[day]
        bars.append(charts.Bar(str(day), tuple(charts.Segment(int(counts[c]), _CLASS_CSS.get(c, "fill-other"))
                                              for c in sorted(counts.index))))
    return charts.hbar_chart(bars, "Googlebot hits per day by status class", label_width=100)


def log_section(logs: Any, simulated: dict[str, Any]) -> dict[str, Any] | None:
    """What the template's "What Googlebot fetched" section shows; None without logs."""
    if logs is None:
        return None
    from audit.logs import GOOGLEBOT

    summary = logs.summary()
    budget = logs.budget
    trusted = "yes" if logs.googlebot_trust == "verified" else None
    daily = logs.daily[logs.daily["bot"].isin(GOOGLEBOT)]
    daily = daily[daily["verified"].eq("yes")] if trusted else daily[daily["verified"].ne("no")]
    timing = daily.dropna(subset=["response_time"])
    weighted = timing.assign(weighted=timing["response_time"] * timing["hits"]).groupby("day")[["weighted", "hits"]].sum()
    response = weighted["weighted"] / weighted["hits"]
    causes = [(cause, int(simulated.get("by_cause", {}).get(cause, 0)), int(n))
              for cause, n in budget["by_cause"].items()]
    top = logs.urls.sort_values(["hits", "url"], ascending=[False, True]).head(SHOWN)
    monitors = _monitor_hits(logs)
    return {
        "summary": summary,
        "budget": budget,
        "simulated_share": simulated.get("waste_share", 0.0),
        "causes": causes,
        "chart": _daily_chart(daily),
        "response_times": [(str(day), round(float(s) * 1000)) for day, s in response.items()],
        "top_urls": top.to_dict("records"),
        "spoofed": logs.spoofed.head(SHOWN).to_dict("records"),
        "rejected": logs.rejected.to_dict("records"),
        "ranges": logs.ranges,
        "trust": logs.googlebot_trust,
        "monitors": monitors,
    }


def _monitor_hits(logs: Any) -> list[dict[str, Any]]:
    """Per day and bot: hits that got a 202, and hits on the status monitors the 202s named."""
    return [{**row, "day": str(row["day"])} for row in logs.monitors.to_dict("records")]
