"""A package's public names imported on first use (PEP 562): a process that needs one part of a
package (a child of crawler.parallel) does not import the rest."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping


def names_on_first_use(namespace: dict[str, Any], homes: Mapping[str, str]) -> tuple[Callable, Callable]:
    """The ``__getattr__`` and ``__dir__`` of the package whose globals are ``namespace``: each
    name of ``homes`` (public name -> the module defining it) is imported when first asked for,
    then kept in the package's globals."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = namespace[name] = getattr(importlib.import_module(homes[name]), name)
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *homes])

    return __getattr__, __dir__
