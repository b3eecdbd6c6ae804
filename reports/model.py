"""What every output shows, computed once: the fired rules in fix-first order, the counts,
the 202 table, what changed since the last crawl, and the machine-readable summary.

The HTML report, the workbook and summary.json all read this model, so a count can never
differ between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

import numpy as np
import pandas as pd

from crawler.render import NOT_RENDERED_REASONS, render_counts

from .rendering import PAGES_READ as RENDERING_READS, Rendering, rendering_summary
from reports.listmode import PAGES_READ as LIST_READS, list_facts
from audit.rules import SEVERITIES
from audit.segments import segment_of_urls

STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "error", "skipped")
#: how many rules the "fix these first" list names
FIX_FIRST = 5
#: a rule flagging at least this share of the pages it judges, and at least SITE_LEVEL_MIN_URLS
#: of them, is one site-level finding in the report (its CSV keeps every row)
SITE_LEVEL_SHARE = 0.9
SITE_LEVEL_MIN_URLS = 20
#: rows a site-level finding shows as examples
SITE_LEVEL_EXAMPLES = 5
#: impact = weight x share of the crawl a rule touches (README "Severities"); notices come after
IMPACT_WEIGHTS = {"critical": 10.0, "warning": 1.0}
#: URLs named per rule in "Since last crawl"; status changes and appeared/disappeared URLs shown
CHANGED_RULE_URLS = 3
CHANGED_ROWS = 20
#: the comparison's CSV, written beside the report when there is a previous crawl
COMPARE_CSV = "compare.csv"
#: findings.csv columns, in order: the first four are a public contract
REPORT_FINDING_COLUMNS = ("rule", "severity", "url", "evidence", "category", "title", "crawl_id", "segment")
#: segments the report breaks its tables and charts down by (the most URLs first); summary.json has all
SEGMENTS_SHOWN = 12
#: the pages columns build_model reads
PAGES_READ = ("url", "status", "status_class", "crawlable", "indexable", "segment", *RENDERING_READS, *LIST_READS)


def rule_file_stem(rule_id: str) -> str:
    """``rule_id`` as a safe file-name part (rule ids come from configuration)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(rule_id)).strip(".-") or "rule"


def rule_csv_name(rule_id: str) -> str:
    """The name of the CSV holding every finding of a rule."""
    return f"findings-{rule_file_stem(rule_id)}.csv"


@dataclass
class RuleSection:
    """One fired rule: its words, how often it fired, and the first rows to show."""

    id: str
    severity: str
    category: str
    title: str
    why: str
    fix: str
    learn_more: str | None
    findings: int  # finding rows (a broken link found on 3 pages is 3 rows)
    urls: int  # distinct URLs affected
    csv_name: str
    rows: list[tuple[str, str, int | None]]  # the first rows: url, evidence, page status
    severity_why: str = ""
    # how far it reaches (audit.crawl_budget's by_rule): the larger of its shares of the fetched
    # and of the indexable pages, and whether the start URL is one of them
    share: float = 0.0
    touches_start_url: bool = False
    applies_to: int | None = None  # pages the rule judges, if it says
    site_level: bool = False  # it flags (nearly) every page it judges: shown as one finding

    @property
    def anchor(self) -> str:
        return "rule-" + rule_file_stem(self.id)

    @property
    def shown_rows(self) -> list[tuple[str, str, int | None]]:
        """The rows the report shows: a few examples of a site-level finding, else the first rows."""
        return self.rows[:SITE_LEVEL_EXAMPLES] if self.site_level else self.rows

    @property
    def impact(self) -> float:
        """Severity weight x share: what "fix these first" ranks critical and warning rules by."""
        return IMPACT_WEIGHTS.get(self.severity, 0.0) * self.share


@dataclass(frozen=True)
class SegmentView:
    """One segment as the report shows it: audit.segments.segment_budget's entry, its findings
    by severity, and per fired rule (in fix-first order) how many findings it has here."""

    name: str
    urls: int
    fetched: int
    indexable: int
    wasted: int
    waste_share: float
    by_severity: dict[str, int]
    by_rule: dict[str, int]


@dataclass(frozen=True)
class Accepted:
    """A crawlable URL that answered 202 and what it settled to (None: it never did)."""

    url: str
    settled_status: int | None
    rechecks: int
    waited: float  # seconds waited across the re-checks
    retry_after: str | None


@dataclass(frozen=True)
class RuleChange:
    """One rule's findings against the previous crawl; ``urls`` are the first new ones (the
    first fixed ones when nothing is new), ``urls_kind`` says which."""

    id: str
    title: str
    severity: str
    anchor: str | None  # its section in this report, if it still fires
    new: int
    fixed: int
    persisting: int
    urls: list[str]
    urls_kind: str


@dataclass(frozen=True)
class StatusChange:
    """A URL whose answer changed: a status code, a network error, or None (not fetched)."""

    url: str
    old: int | str | None
    new: int | str | None

    @property
    def now_202(self) -> bool:
        return self.new == 202


@dataclass
class SinceLastCrawl:
    """The comparison with the previous crawl (seo_audit.compare's dict), ready to show."""

    old_crawl_id: int | None
    old_started: str | None
    findings: dict[str, int]  # new, fixed, persisting: totals over all rules
    rules: list[RuleChange]  # rules with new findings first, then fixed, then persisting only
    status_changes: list[StatusChange]  # the first CHANGED_ROWS, changes to 202 first
    status_changes_total: int
    appeared: list[str]
    appeared_total: int
    disappeared: list[str]
    disappeared_total: int
    budget_old: dict[str, Any]
    budget_new: dict[str, Any]
    budget_change: dict[str, Any]
    #: seo_audit.compare's segments whose waste share or findings changed (the first CHANGED_ROWS)
    segments: dict[str, Any] = field(default_factory=dict)

    @property
    def indexable_change(self) -> int:
        return int(self.budget_new.get("indexable", 0)) - int(self.budget_old.get("indexable", 0))

    @property
    def cause_changes(self) -> list[tuple[str, int, int, int]]:
        """(cause, old, new, change) for each cause of waste whose count changed."""
        old, new = self.budget_old.get("by_cause", {}), self.budget_new.get("by_cause", {})
        return [(cause, int(old.get(cause, 0)), int(new.get(cause, 0)), int(change))
                for cause, change in self.budget_change.get("by_cause", {}).items() if change]


@dataclass
class ReportModel:
    crawl_id: int
    meta: dict[str, Any]
    status_counts: dict[str, int]
    pages_total: int
    indexable: int
    budget: dict[str, Any]
    sections: list[RuleSection]  # fix-first order: impact (rank_sections)
    severity_counts: dict[str, dict[str, int]]  # severity -> {"rules": n, "findings": n, "site_level": n}
    accepted_202: list[Accepted]
    findings_table: FindingsTable = field(repr=False)
    since_last_crawl: SinceLastCrawl | None = None
    #: where the start URL's redirects led, if elsewhere: {"url", "scope", "redirect_hops"}
    site_found: dict[str, Any] | None = None
    #: the certificate check of each HTTPS host:port in scope (crawler.store.CERTIFICATE_COLUMNS)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    rendering: Rendering | None = None  # the crawl's rendered pages (crawl --render), if any
    #: a list-mode crawl's list (reports.listmode.list_facts); None for a site crawl
    list_mode: dict[str, Any] | None = None
    #: the segments with the most URLs (SEGMENTS_SHOWN at most), and how many there are in all
    segments: list[SegmentView] = field(default_factory=list)
    segments_total: int = 0

    @property
    def certificate_problems(self) -> int:
        return sum(1 for c in self.certificates if c.get("problem"))

    @property
    def fetched(self) -> int:
        return int(self.budget.get("fetched", self.pages_total - self.status_counts["skipped"]))

    @property
    def unique_indexable(self) -> int:
        """Indexable pages worth their crawl (the budget's count: duplicates and traps left out)."""
        return int(self.budget.get("indexable", self.indexable))

    @property
    def fix_first(self) -> list[RuleSection]:
        return self.sections[:FIX_FIRST]

    @property
    def site_level(self) -> list[RuleSection]:
        """The rules shown as one site-level finding each, in fix-first order."""
        return [s for s in self.sections if s.site_level]

    def rule_findings(self, limit: int | None = None) -> Iterator[tuple[RuleSection, pd.DataFrame]]:
        """Each fired rule with its rows of findings_table (all, or its first ``limit``), in
        fix-first order, one at a time."""
        stops = np.cumsum([section.findings for section in self.sections])
        for section, stop in zip(self.sections, stops.tolist()):
            start = stop - section.findings
            yield section, self.findings_table.rows(start, stop if limit is None else min(stop, start + limit))

    @property
    def site(self) -> str:
        return str(self.meta.get("start_url") or "")


def _utc(timestamp: object) -> str | None:
    if timestamp is None or pd.isna(timestamp):
        return None
    return datetime.fromtimestamp(float(timestamp), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def crawl_dates(meta: dict[str, Any]) -> dict[str, str | None]:
    """Start and finish as readable UTC strings, and the duration."""
    started, finished = meta.get("started_at"), meta.get("finished_at")
    duration = None
    if started is not None and finished is not None:
        minutes, seconds = divmod(int(float(finished) - float(started)), 60)
        duration = f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m {seconds:02d}s"
    return {"started": _utc(started), "finished": _utc(finished), "duration": duration}


def _rule_words(rule: Any, rule_id: str) -> dict[str, Any]:
    """A rule's descriptive attributes; a finding whose rule is unknown still gets a section."""
    return {
        "title": getattr(rule, "title", None) or rule_id,
        "why": getattr(rule, "why", "") or "",
        "fix": getattr(rule, "fix", "") or "",
        "learn_more": getattr(rule, "learn_more", None),
        "category": getattr(rule, "category", None),
        "severity": getattr(rule, "severity", None),
    }


def _worst(severities: pd.Series, default: str) -> str:
    present = set(severities.dropna())
    return next((s for s in SEVERITIES if s in present), default)


def _first_present(values: pd.Series, default: str) -> str:
    present = values.dropna()
    return str(present.iloc[0]) if len(present) else default


def _sections(findings: pd.DataFrame, rules: list[Any], pages: pd.DataFrame,
              max_rows: int) -> list[RuleSection]:
    by_id = {r.id: r for r in rules}
    grouped = list(findings.groupby("rule", sort=False))
    status = _status_of(pages, pd.concat([rows["url"].iloc[:max_rows] for _, rows in grouped]) if grouped else [])
    sections = []
    for rule_id, rows in grouped:
        words = _rule_words(by_id.get(rule_id), str(rule_id))
        shown = rows.iloc[:max_rows]
        sections.append(RuleSection(
            id=str(rule_id),
            # findings carry the severity configuration gave them; the rule's is the default
            severity=_worst(rows["severity"], default=words["severity"] or "notice"),
            category=_first_present(rows["category"], default=words["category"] or "other"),
            title=words["title"], why=words["why"], fix=words["fix"], learn_more=words["learn_more"],
            findings=len(rows), urls=rows["url"].nunique(),
            csv_name=rule_csv_name(rule_id),
            rows=[(url, "" if pd.isna(evidence) else str(evidence), _optional_int(code))
                  for url, evidence, code in zip(shown["url"], shown["evidence"], shown["url"].map(status.get))],
        ))
    return sections


def with_reach(sections: list[RuleSection], rules: list[Any], budget: dict[str, Any]) -> list[RuleSection]:
    """``sections`` with how far each reaches (budget's by_rule; a budget stored without it: its
    URLs' share of the fetched ones) and whether it is site-level, in fix-first order."""
    by_id = {r.id: r for r in rules}
    reach = budget.get("by_rule") or {}
    fetched = int(budget.get("fetched") or 0)
    for section in sections:
        rule_reach = reach.get(section.id) or {}
        section.severity_why = getattr(by_id.get(section.id), "severity_why", "") or ""
        section.share = float(rule_reach.get("share", section.urls / fetched if fetched else 0.0))
        section.touches_start_url = bool(rule_reach.get("start_url", False))
        section.applies_to = rule_reach.get("applies_to")
        section.site_level = bool(section.applies_to and section.urls >= SITE_LEVEL_MIN_URLS
                                  and section.urls >= SITE_LEVEL_SHARE * section.applies_to)
    return rank_sections(sections)


def rank_sections(sections: list[RuleSection]) -> list[RuleSection]:
    """Fix-first order (README "Severities"): critical rules touching the start URL, then
    critical and warning rules by impact (severity weight x share), then notices by share;
    ties by severity, URLs, findings and id."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}

    def key(s: RuleSection) -> tuple:
        if s.severity == "critical" and s.touches_start_url:
            tier = 0
        else:
            tier = 1 if s.severity in IMPACT_WEIGHTS else 2
        return (tier, -(s.impact if tier < 2 else s.share), rank.get(s.severity, len(rank)), -s.urls,
                -s.findings, s.id)

    return sorted(sections, key=key)


def _status_of(pages: pd.DataFrame, urls: Any) -> dict[str, Any]:
    """The status of each of ``urls`` that is a page (the first row of a URL listed twice)."""
    listed = pages.loc[pages["url"].isin(urls), ["url", "status"]]
    return dict(zip(listed["url"].iloc[::-1], listed["status"].iloc[::-1]))


def _optional_int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _accepted_202(pages: pd.DataFrame, rechecks: pd.DataFrame | None) -> list[Accepted]:
    """Crawlable URLs that answered 202, with what each settled to on re-check."""
    answered = pages[(pages["status"] == 202) & pages["crawlable"].fillna(False).astype(bool)]
    per_url = {}
    if rechecks is not None and len(rechecks):
        grouped = rechecks[rechecks["url"].isin(answered["url"])].groupby("url")["waited"]
        counts, waited = grouped.size(), grouped.sum()
        per_url = {url: (int(n), float(w)) for url, n, w in zip(counts.index, counts, waited)}
    settled = answered["settled_status"] if "settled_status" in answered else pd.Series(pd.NA, index=answered.index)
    accepted = []
    for url, status, retry_after in zip(answered["url"], settled, answered["retry_after"]):
        checks, waited = per_url.get(url, (0, 0.0))
        accepted.append(Accepted(url=url, settled_status=_optional_int(status), rechecks=checks, waited=waited,
                                 retry_after=None if pd.isna(retry_after) else str(retry_after)))
    return accepted


def segment_views(budget: dict[str, Any], sections: list[RuleSection]) -> list[SegmentView]:
    """The budget's segments (most URLs first) as the report shows them."""
    severity = {s.id: s.severity for s in sections}
    views = []
    for name, entry in (budget.get("segments") or {}).items():
        rules = entry.get("findings") or {}
        views.append(SegmentView(
            name=name, urls=int(entry["urls"]), fetched=int(entry["fetched"]), indexable=int(entry["indexable"]),
            wasted=int(entry["wasted"]), waste_share=float(entry["waste_share"]),
            by_severity={sev: sum(n for rule, n in rules.items() if severity.get(rule) == sev) for sev in SEVERITIES},
            by_rule={s.id: int(rules.get(s.id, 0)) for s in sections}))
    return sorted(views, key=lambda v: (-v.urls, v.name))


@dataclass(frozen=True)
class FindingsTable:
    """The findings with each rule's title and each URL's segment, in REPORT_FINDING_COLUMNS
    order and fix-first rule order (each rule's rows in the findings' order), made a few rows at
    a time: a million findings are not copied whole."""

    findings: pd.DataFrame
    titles: dict[str, str]
    order: np.ndarray  # positions in findings, fix-first
    segments: pd.Series | None  # of each finding's URL, on findings' index; None: the pages have none

    def rows(self, start: int, stop: int) -> pd.DataFrame:
        """Rows ``start`` to ``stop`` of the table (a RangeIndex of them)."""
        at = self.order[start:stop]
        table = self.findings.iloc[at]
        table = table.assign(title=table["rule"].map(self.titles))
        if self.segments is not None:
            table["segment"] = pd.Series(self.segments.array.take(at), index=table.index)
        return table.reindex(columns=list(REPORT_FINDING_COLUMNS)).set_axis(pd.RangeIndex(start, stop))

    @property
    def header(self) -> pd.DataFrame:
        return self.rows(0, 0)


def findings_table(findings: pd.DataFrame, sections: list[RuleSection],
                   pages: pd.DataFrame | None = None) -> FindingsTable:
    """findings with each rule's title and each URL's segment (from ``pages``), in
    REPORT_FINDING_COLUMNS order and fix-first rule order."""
    order = {s.id: i for i, s in enumerate(sections)}
    segments = segment_of_urls(findings["url"], pages) if pages is not None and "segment" in pages else None
    return FindingsTable(findings, {s.id: s.title for s in sections},
                         findings["rule"].map(order).argsort(kind="stable").to_numpy(), segments)


def _rule_changes(by_rule: dict[str, Any], rules: list[Any], sections: list[RuleSection]) -> list[RuleChange]:
    """Per rule: new, fixed and persisting findings, rules with new findings first."""
    by_id = {r.id: r for r in rules}
    anchors = {s.id: s.anchor for s in sections}
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    changes = []
    for rule_id, change in by_rule.items():
        new, fixed = change["new"], change["fixed"]
        changes.append(RuleChange(
            id=rule_id, title=_rule_words(by_id.get(rule_id), rule_id)["title"],
            severity=change["severity"], anchor=anchors.get(rule_id),
            new=len(new), fixed=len(fixed), persisting=int(change["persisting"]),
            urls=(new or fixed)[:CHANGED_RULE_URLS], urls_kind="new" if new else "fixed"))
    changes.sort(key=lambda c: (0 if c.new else 1 if c.fixed else 2, rank.get(c.severity, len(rank)),
                                -c.new, -c.fixed, -c.persisting, c.id))
    return changes


def since_last_crawl(previous: dict[str, Any], rules: list[Any], sections: list[RuleSection]) -> SinceLastCrawl:
    """``previous`` (the shape seo_audit.compare documents) as the report shows it."""
    changes = [StatusChange(c["url"], c["old"], c["new"]) for c in previous["status_changes"]]
    changes.sort(key=lambda c: not c.now_202)  # stable: URL order within each group
    findings, budget = previous["findings"], previous["budget"]
    return SinceLastCrawl(
        old_crawl_id=previous["old"].get("crawl_id"),
        old_started=_utc(previous["old"].get("started_at")),
        findings={kind: int(findings[kind]) for kind in ("new", "fixed", "persisting")},
        rules=_rule_changes(findings["by_rule"], rules, sections),
        status_changes=changes[:CHANGED_ROWS],
        status_changes_total=len(changes),
        appeared=previous["appeared"][:CHANGED_ROWS],
        appeared_total=len(previous["appeared"]),
        disappeared=previous["disappeared"][:CHANGED_ROWS],
        disappeared_total=len(previous["disappeared"]),
        budget_old=budget["old"], budget_new=budget["new"], budget_change=budget["change"],
        segments=dict(list({name: c for name, c in previous.get("segments", {}).items()
                            if c.get("changed")}.items())[:CHANGED_ROWS]),
    )


def build_model(crawl: Any, findings: pd.DataFrame, rules: list[Any], budget: dict[str, Any],
                max_rows_per_rule: int, previous: dict[str, Any] | None = None) -> ReportModel:
    pages = crawl.pages
    sections = with_reach(_sections(findings, rules, pages, max_rows_per_rule), rules, budget or {})
    classes = pages["status_class"].value_counts()
    severity_counts = {
        sev: {"rules": sum(s.severity == sev for s in sections),
              "findings": sum(s.findings for s in sections if s.severity == sev),
              "site_level": sum(s.site_level for s in sections if s.severity == sev)}
        for sev in SEVERITIES
    }
    return ReportModel(
        crawl_id=int(crawl.crawl_id),
        meta=dict(crawl.meta or {}),
        status_counts={c: int(classes.get(c, 0)) for c in STATUS_CLASSES},
        pages_total=len(pages),
        indexable=int(pages["indexable"].fillna(False).astype(bool).sum()),
        budget=dict(budget or {}),
        sections=sections,
        severity_counts=severity_counts,
        accepted_202=_accepted_202(pages, getattr(crawl, "rechecks", None)),
        findings_table=findings_table(findings, sections, pages),
        since_last_crawl=None if previous is None else since_last_crawl(previous, rules, sections),
        rendering=rendering_summary(pages, render_counts((crawl.meta or {}).get("stats") or {},
                                                         NOT_RENDERED_REASONS)),
        site_found=getattr(crawl, "site", None),
        certificates=list(getattr(crawl, "certificates", None) or []),
        list_mode=list_facts(crawl, rules) if getattr(crawl, "mode", "site") == "list" else None,
        segments=segment_views(budget or {}, sections)[:SEGMENTS_SHOWN],
        segments_total=len((budget or {}).get("segments") or {}),
    )


def summary_dict(model: ReportModel, files: list[str], previous: dict | None) -> dict[str, Any]:
    """The machine-readable summary (summary.json): stable keys for scripts and dashboards."""
    meta = model.meta
    summary = {
        "crawl": {
            "id": model.crawl_id,
            "job": meta.get("job"),
            "start_url": meta.get("start_url"),
            "started_at": meta.get("started_at"),
            "finished_at": meta.get("finished_at"),
            "state": meta.get("state"),
            "mode": meta.get("mode") or "site",
            "settings": meta.get("settings") or {},
            # the start URL's redirects: where the crawl found the site and its scope (null: no redirect)
            "site": model.site_found,
        },
        "certificates": [{key: c.get(key) for key in ("host", "port", "problem", "detail", "not_after")}
                         for c in model.certificates],
        "pages": {
            "total": model.pages_total,
            "indexable": model.indexable,
            "by_status_class": model.status_counts,
        },
        "budget": {key: value for key, value in model.budget.items() if key != "segments"},
        # per segment: urls, fetched, indexable, wasted, waste_share, by_cause, findings (per rule)
        "segments": model.budget.get("segments") or {},
        "findings": {
            "total": int(sum(s.findings for s in model.sections)),
            "by_severity": {sev: c["findings"] for sev, c in model.severity_counts.items()},
            "by_rule": {s.id: {"severity": s.severity, "category": s.category, "title": s.title,
                               "findings": s.findings, "urls": s.urls, "csv": s.csv_name,
                               "share": round(s.share, 4), "site_level": s.site_level}
                        for s in model.sections},
        },
        "fix_first": [s.id for s in model.fix_first],
        "site_level": [s.id for s in model.site_level],
        "accepted_202": {
            "urls": len(model.accepted_202),
            "settled": sum(a.settled_status is not None for a in model.accepted_202),
        },
        "files": files,
    }
    if model.rendering is not None:
        summary["rendering"] = model.rendering.to_dict()
    if model.list_mode is not None:
        summary["list"] = model.list_mode
    if previous is not None:
        summary["previous"] = previous
    return summary
