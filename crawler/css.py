"""What a stylesheet references: ``@import`` targets and ``url()`` values, facts only.

Read with tinycss2's tokenizer (the CSS Syntax Level 3 parser): strings, comments and escapes
are handled as a browser does, so a ``url(`` inside a comment or a string is not a reference.
Used on stylesheets the crawl fetched, on ``<style>`` elements and on ``style`` attributes.
"""

from __future__ import annotations

import tinycss2

#: a stylesheet's first characters read at most: the tokenizer is pure Python (about a second a
#: megabyte), and a stylesheet past a megabyte is generated and repeats itself
MAX_CSS_CHARS = 1_000_000
#: references kept per stylesheet or attribute at most
MAX_REFERENCES = 1_000
#: link kinds: an @import is a stylesheet (read in turn), a url() anything else (images, fonts...)
IMPORT, URL = "css", "css-url"


def _url_of(token) -> str | None:
    """The URL of a ``url(x)`` token, a ``url("x")`` function or (in an @import) a plain string."""
    if token.type == "url":
        return token.value.strip() or None
    if token.type == "function" and token.lower_name in ("url", "src"):
        strings = [arg.value.strip() for arg in token.arguments if arg.type == "string"]
        return strings[0] if strings and strings[0] else None
    return None


def _walk(tokens, found: list[tuple[str, str]]) -> None:
    """Every url() in ``tokens`` and the blocks nested in them, in order."""
    stack = [iter(tokens or ())]
    while stack and len(found) < MAX_REFERENCES:
        token = next(stack[-1], None)
        if token is None:
            stack.pop()
            continue
        url = _url_of(token)
        if url is not None:
            found.append((url, URL))
        elif token.type in ("() block", "[] block", "{} block"):
            stack.append(iter(token.content))
        elif token.type == "function":
            stack.append(iter(token.arguments))
        elif token.type == "declaration":
            stack.append(iter(token.value))
        elif token.type in ("qualified-rule", "at-rule"):
            _rule(token, found)


def _rule(rule, found: list[tuple[str, str]]) -> None:
    if rule.type == "at-rule" and rule.lower_at_keyword == "import":
        target = next((t.value if t.type == "string" else _url_of(t) for t in rule.prelude
                       if t.type == "string" or _url_of(t) is not None), None)
        if target is not None:
            found.append((target, IMPORT))
        return
    _walk(rule.prelude, found)
    if rule.content is not None:
        # a block of declarations or of nested rules (@media, @supports): its tokens either way
        _walk(tinycss2.parse_blocks_contents(rule.content, skip_comments=True)
              if rule.type == "at-rule" else rule.content, found)


def stylesheet_references(css: str) -> list[tuple[str, str]]:
    """(href as written, kind) per reference of a stylesheet (or a ``<style>`` element), in
    order: kind IMPORT for an ``@import``, URL for a ``url()``."""
    found: list[tuple[str, str]] = []
    if "url(" not in css.lower() and "@import" not in css.lower():
        return found  # most inline styles: no tokenizing at all
    for rule in tinycss2.parse_stylesheet(css[:MAX_CSS_CHARS], skip_comments=True, skip_whitespace=True):
        if rule.type in ("qualified-rule", "at-rule"):
            _rule(rule, found)
        if len(found) >= MAX_REFERENCES:
            break
    return found[:MAX_REFERENCES]


def style_attribute_references(style: str) -> list[tuple[str, str]]:
    """(href as written, URL) per ``url()`` of a ``style`` attribute's declarations."""
    found: list[tuple[str, str]] = []
    if "url(" in style.lower():
        _walk(tinycss2.parse_component_value_list(style[:MAX_CSS_CHARS], skip_comments=True), found)
    return found[:MAX_REFERENCES]


__all__ = ["IMPORT", "URL", "style_attribute_references", "stylesheet_references"]
