"""Structured data of an HTML page: JSON-LD, Microdata and RDFa items, facts only.

Every typed node becomes one item ``[syntax, type, [property names]]``, nested ones too (a
Product's Offer is an item of its own), so the audit can check each type's properties
without the values. JSON-LD is read from the page's own parse (``<script
type="application/ld+json">``, strict JSON as Google reads it: a parse error is kept with
the parser's message); Microdata and RDFa are read by extruct, which parses the page again,
so only when the raw HTML carries their markers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

#: attributes only Microdata or RDFa markup carries (a plain substring test: a case-blind
#: regular expression over a whole page costs milliseconds)
_MARKERS = ("itemscope", "vocab=", "typeof=")
#: the last segment of a type or property IRI: 'https://schema.org/Product' -> 'Product'
_IRI_TAIL = re.compile(r"^.*[/#:]")
#: items kept per page at most: a listing page can carry thousands of nested nodes
MAX_ITEMS = 200


@dataclass
class StructuredData:
    items: list[list] = field(default_factory=list)  # [syntax, type, sorted property names]
    errors: list[str] = field(default_factory=list)  # "json-ld: <parser message>"

    @property
    def types(self) -> list[str]:
        return sorted({item[1] for item in self.items})


def _short(name: str) -> str:
    return _IRI_TAIL.sub("", name) if ("/" in name or ":" in name) else name


def _types_of(node: dict) -> list[str]:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return [_short(kind) for kind in kinds if isinstance(kind, str) and kind.strip()]


def _walk(value, syntax: str, items: list[list]) -> None:
    """Every typed dict in ``value`` (JSON-LD or extruct's uniform Microdata) as items."""
    if isinstance(value, list):
        for element in value:
            _walk(element, syntax, items)
    elif isinstance(value, dict):
        properties = sorted({_short(key) for key in value if not key.startswith("@")})
        items.extend([syntax, kind, properties] for kind in _types_of(value))
        for key, element in value.items():
            if key != "@context":
                _walk(element, syntax, items)


def json_ld(scripts: list[str], data: StructuredData) -> None:
    for number, source in enumerate(scripts, 1):
        if not source.strip():
            continue
        try:
            parsed = json.loads(source)
        except ValueError as exc:  # JSONDecodeError and bad escapes alike
            where = f" (line {exc.lineno}, column {exc.colno})" if hasattr(exc, "lineno") else ""
            data.errors.append(f"JSON-LD block {number}: {getattr(exc, 'msg', str(exc))}{where}")
            continue
        _walk(parsed, "json-ld", data.items)


def microdata_and_rdfa(text: str, url: str, data: StructuredData) -> None:
    import extruct  # only pages with the markers pay for it

    try:
        found = extruct.extract(text, base_url=url, syntaxes=["microdata", "rdfa"], uniform=True,
                                errors="strict")
    except Exception as exc:  # noqa: BLE001 - extruct's parsers raise anything on hostile HTML
        data.errors.append(f"Microdata/RDFa: {type(exc).__name__}: {exc}"[:300])
        return
    _walk(found.get("microdata") or [], "microdata", data.items)
    for node in found.get("rdfa") or []:  # a flat graph: nested nodes are nodes of their own
        properties = sorted({_short(key) for key in node if not key.startswith("@")})
        data.items.extend(["rdfa", kind, properties] for kind in _types_of(node))


def structured_data(ld_scripts: list[str], text: str, url: str) -> StructuredData | None:
    """The structured data of the page ``text`` at ``url`` given its JSON-LD script texts;
    None when it has none at all."""
    data = StructuredData()
    json_ld(ld_scripts, data)
    lowered = text.lower()
    if any(marker in lowered for marker in _MARKERS):
        microdata_and_rdfa(text, url, data)
    if not data.items and not data.errors:
        return None
    del data.items[MAX_ITEMS:]
    return data


def is_json_ld(script) -> bool:
    """Whether an lxml <script> element is a JSON-LD block."""
    return (script.get("type") or "").split(";")[0].strip().lower() == "application/ld+json"


__all__ = ["StructuredData", "is_json_ld", "structured_data"]
