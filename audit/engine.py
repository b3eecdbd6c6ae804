"""Run the rules over a crawl: configuration, the findings table, and its summary."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from audit.budget import PAGES_READ as BUDGET_READS
from audit.graph import DEFAULT_MEMORY_BUDGET
from audit.load import ARROW_TEXT, Crawl, arrow_text_array
from audit.rules import RULES, RULES_BY_ID, SEVERITIES, Rule
from crawler import store as crawl_store

FINDING_COLUMNS = list(crawl_store.FINDING_COLUMNS)
#: findings handed to the store per Arrow batch (store_audit)
FINDINGS_BATCH_ROWS = 65_536


@dataclass
class AuditConfig:
    """Which rules run, at what severity, with which thresholds (defaults: the rules' own), and
    the memory the whole run may use (bytes; audit.graph: DuckDB's share of it spills past it)."""

    disabled: set[str] = field(default_factory=set)
    severities: dict[str, str] = field(default_factory=dict)
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)
    memory_budget: int = DEFAULT_MEMORY_BUDGET

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "AuditConfig":
        """From a job file's tables: ``{"rules": {"<id>": {"enabled": false, "severity": "notice",
        "<threshold>": value}}}``. Unknown ids, settings and severities raise ValueError."""
        config = cls()
        rules = (data or {}).get("rules", {})
        if not isinstance(rules, Mapping):
            raise ValueError("[rules] must be a table of rule ids")
        for rule_id, settings in rules.items():
            rule = RULES_BY_ID.get(rule_id)
            if rule is None:
                raise ValueError(f"unknown rule id {rule_id!r} in [rules]; known ids: "
                                 f"{', '.join(sorted(RULES_BY_ID))}")
            if not isinstance(settings, Mapping):
                raise ValueError(f"[rules.{rule_id}] must be a table")
            config._apply(rule, dict(settings))
        return config

    def _apply(self, rule: Rule, settings: dict[str, Any]) -> None:
        enabled = settings.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError(f"rules.{rule.id}.enabled must be true or false, not {enabled!r}")
        if not enabled:
            self.disabled.add(rule.id)
        if "severity" in settings:
            severity = settings.pop("severity")
            if severity not in SEVERITIES:
                raise ValueError(f"rules.{rule.id}.severity must be one of {', '.join(SEVERITIES)}, "
                                 f"not {severity!r}")
            self.severities[rule.id] = severity
        for name, value in settings.items():
            if name not in rule.thresholds:
                known = ", ".join(rule.thresholds) or "none"
                raise ValueError(f"unknown setting {name!r} for rule {rule.id!r}; its thresholds: {known}")
            default = rule.thresholds[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    isinstance(default, int) and not isinstance(value, int)):
                raise ValueError(f"rules.{rule.id}.{name} must be a {type(default).__name__}, "
                                 f"not {value!r}")
        if settings:
            self.thresholds[rule.id] = settings

    def active(self, rules: list[Rule] | None = None) -> list[tuple[Rule, str, dict[str, Any]]]:
        """(rule, severity, thresholds) for every enabled rule of ``rules`` (the registry's by
        default), in their order."""
        return [(rule, self.severities.get(rule.id, rule.severity),
                 {**rule.thresholds, **self.thresholds.get(rule.id, {})})
                for rule in (RULES if rules is None else rules) if rule.id not in self.disabled]


def pages_read(config: AuditConfig | None = None, rules: list[Rule] | None = None) -> set[str]:
    """The pages columns an audit by ``config`` (of ``rules``, the registry's by default) and its
    crawl budget read: what load_crawl(..., columns=) needs for them. Each enabled rule's
    ``reads`` (names of other tables are ignored by the loader) and audit.budget.PAGES_READ."""
    active = (config or AuditConfig()).active(rules)
    return {*BUDGET_READS, *(column for rule, _, _ in active for column in rule.reads)}


def run_audit(crawl: Crawl, config: AuditConfig | Mapping[str, Any] | None = None,
              rules: list[Rule] | None = None) -> pd.DataFrame:
    """All findings of the enabled rules (of ``rules``, the registry's by default): crawl_id,
    rule, severity, category, url, evidence; by severity, then rule, each rule's by URL."""
    if not isinstance(config, AuditConfig):
        config = AuditConfig.from_dict(config)
    parts = []
    for rule, severity, thresholds in config.active(rules):
        if rule.off_for(crawl):
            continue
        hits = rule.run(crawl, thresholds)
        if len(hits):
            # each rule's hits sorted by URL on their own: a million URLs sorted as one
            # column cost twice as much
            hits = hits.sort_values("url", kind="stable")
            parts.append(_Hits(SEVERITIES.index(severity), rule.id, severity, rule.category,
                               hits["url"], arrow_texts(hits["evidence"].astype("str"))))
    parts.sort(key=lambda part: (part.rank, part.rule))
    return _findings_frame(crawl.crawl_id, parts)


@dataclass
class _Hits:
    """One rule's findings, before they are columns of the findings frame."""

    rank: int  # of its severity
    rule: str
    severity: str
    category: str
    urls: pd.Series
    evidence: pd.Series


def _findings_frame(crawl_id: int | None, parts: list[_Hits]) -> pd.DataFrame:
    """The findings of ``parts`` (in their order) as one frame of FINDING_COLUMNS, each column
    made at once from the parts' own: the parts as frames, each with its rule, severity,
    category and crawl as columns, concatenated held the findings twice and more (18.6M of them
    at 10M URLs)."""
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    sizes = [len(part.urls) for part in parts]

    def per_rule(name: str) -> pd.Series:
        return pd.Series(np.repeat(np.array([getattr(part, name) for part in parts], dtype=object), sizes), dtype="str")

    evidence = [part.evidence for part in parts]
    if all(texts.dtype == ARROW_TEXT for texts in evidence):  # as one Arrow array (arrow_text_array)
        chunks = [chunk for texts in evidence for chunk in texts.array.__arrow_array__().chunks]
        joined = pd.Series(arrow_text_array(pa.chunked_array(chunks, type=chunks[0].type)), copy=False)
    else:  # an evidence text Arrow cannot hold (a lone surrogate, which crawled text can hold): Python's
        joined = pd.concat([texts.astype("str") for texts in evidence], ignore_index=True)
    return pd.DataFrame({"crawl_id": pd.Series(crawl_id, index=joined.index), "rule": per_rule("rule"),
                         "severity": per_rule("severity"), "category": per_rule("category"),
                         "url": pd.concat([part.urls for part in parts], ignore_index=True),
                         "evidence": joined}, copy=False)


def arrow_texts(texts: pd.Series) -> pd.Series:
    """``texts`` (str) as Arrow's: 8 bytes a text beside its characters, where a Python string
    takes 57 (1.8M findings' evidence: 85 MiB less); as they are if Arrow cannot hold one (a lone
    surrogate, which crawled text can hold)."""
    try:
        return texts.astype(ARROW_TEXT)
    except (pa.ArrowException, UnicodeError):
        return texts


def rules_off(crawl: Crawl, rules: list[Rule] | None = None) -> list[dict[str, str]]:
    """The rules that cannot judge ``crawl`` (a list-mode crawl has no link graph): id, title, why."""
    return [{"rule": rule.id, "title": rule.title, "why": why}
            for rule in (RULES if rules is None else rules) if (why := rule.off_for(crawl))]


def save_findings(conn: sqlite3.Connection, crawl_id: int, findings: pd.DataFrame) -> None:
    """Store the findings of a crawl, replacing those of any earlier audit of it."""
    rows = findings[["rule", "severity", "category", "url", "evidence"]].itertuples(index=False, name=None)
    crawl_store.replace_findings(conn, crawl_id, rows)


def store_audit(store_path: Any, crawl_id: int, findings: pd.DataFrame, budget: Mapping[str, Any]) -> None:
    """Save an audit to the store at ``store_path``: its crawl budget, and its findings, replacing
    those of any earlier audit of the crawl; the findings go as Arrow batches of
    FINDINGS_BATCH_ROWS, bound in C (crawler.store.ingest_findings): 1.8M in about 4 s."""
    conn = crawl_store.connect(store_path)
    try:
        crawl_store.set_budget(conn, crawl_id, dict(budget))
    finally:
        conn.close()
    columns = crawl_store.FINDING_COLUMNS[1:]
    schema = pa.schema([(name, pa.string()) for name in columns])
    parts = (findings.iloc[at:at + FINDINGS_BATCH_ROWS] for at in range(0, len(findings), FINDINGS_BATCH_ROWS))
    batches = (batch for part in parts
               for batch in pa.Table.from_pandas(part[list(columns)], schema=schema, preserve_index=False).to_batches())
    crawl_store.ingest_findings(store_path, crawl_id, pa.RecordBatchReader.from_batches(schema, batches))


def summary_by_severity(findings: pd.DataFrame) -> pd.DataFrame:
    """Per severity (critical first): how many findings, distinct rules and distinct URLs."""
    grouped = findings.groupby("severity")
    summary = pd.DataFrame({"findings": grouped.size(), "rules": grouped["rule"].nunique(),
                            "urls": grouped["url"].nunique()})
    return summary.reindex(list(SEVERITIES), fill_value=0).rename_axis("severity")
