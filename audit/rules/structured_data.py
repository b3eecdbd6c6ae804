"""Structured data rules: JSON-LD that does not parse, rich-result types missing properties.

What each type needs is data, not code: structured_data_types.json (package data, read with
importlib.resources), each type with the Google Search Central page it was transcribed from.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

from audit.rules.base import found, indexable_html_mask, rule, rules_in, texts_match

CATEGORY = "structured-data"
GOOGLE_STRUCTURED_DATA = "https://developers.google.com/search/docs/appearance/structured-data/intro-structured-data"
GOOGLE_GALLERY = "https://developers.google.com/search/docs/appearance/structured-data/search-gallery"


@cache
def type_rules() -> dict[str, Any]:
    """structured_data_types.json: {"types": {type: {required, one_of, recommended, source}}, "aliases"}."""
    return json.loads(resources.files("audit.rules").joinpath("structured_data_types.json").read_text("utf-8"))


def missing_properties(kind: str, properties: list[str], recommended: bool = True) -> tuple[list[str], list[str]]:
    """(required, recommended) properties an item of type ``kind`` lacks; ([], []) for a type
    the data file does not know."""
    data = type_rules()
    spec = data["types"].get(data["aliases"].get(kind, kind))
    if spec is None:
        return [], []
    have = set(properties)
    required = [name for name in spec["required"] if name not in have]
    required += [" or ".join(group) for group in spec["one_of"] if not have & set(group)]
    wanted = [name for name in spec["recommended"] if name not in have] if recommended else []
    return required, wanted


def _judged(crawl) -> pd.DataFrame:
    p = crawl.pages
    return p.loc[indexable_html_mask(crawl) & p["structured_count"].gt(0).fillna(False),
                 ["url", "structured_items"]]


@rule(id="invalid-json-ld", severity="warning",
      severity_why="a block that does not parse is ignored whole: its rich results are lost, page by page",
      title="JSON-LD that does not parse",
      why="Search engines ignore a JSON-LD block they cannot parse, with every item in it.",
      fix="Fix the JSON at the place the message gives (a trailing comma, an unescaped quote or line "
          "break, a missing bracket) and test the page with Google's Rich Results Test.",
      learn_more=GOOGLE_STRUCTURED_DATA, reads=("is_html", "status", "structured_errors"))
def invalid_json_ld(crawl, t):
    p = crawl.pages
    p = p.loc[p["is_html"] & p["status"].eq(200).fillna(False), ["url", "structured_errors"]]
    errors = p["structured_errors"].map(lambda found_errors: [e for e in found_errors if e.startswith("JSON-LD")])
    hit = errors.map(bool)
    return found(p.loc[hit, "url"], errors[hit].map("; ".join))


@rule(id="structured-data-missing-properties", severity="warning",
      severity_why="items missing required properties are not shown as rich results, on every page of a template",
      title="Structured data missing required or recommended properties",
      why="Google shows a rich result only for items with their required properties; recommended "
          "ones make it more complete.",
      fix="Add the properties named to the item's markup (usually one template), then test the page "
          "with Google's Rich Results Test.",
      learn_more=GOOGLE_GALLERY, thresholds={"include_recommended": 1},
      reads=("indexable", "is_html", "structured_count", "structured_items"))
def structured_data_missing_properties(crawl, t):
    p = _judged(crawl)
    recommended = bool(t["include_recommended"])

    def describe(items: list) -> str:
        parts = []
        for syntax, kind, properties in items:
            required, wanted = missing_properties(kind, properties, recommended)
            if required or wanted:
                said = [f"required {', '.join(required)}"] if required else []
                said += [f"recommended {', '.join(wanted)}"] if wanted else []
                parts.append(f"{kind} ({syntax}): missing " + "; ".join(said))
        return " | ".join(dict.fromkeys(parts))  # the same gap on many items of a page, once

    evidence = pd.Series([describe(items) for items in p["structured_items"]], index=p.index, dtype="str")
    hit = texts_match(evidence, bool)
    return found(p.loc[hit, "url"], evidence[hit])


RULES = rules_in(globals())
