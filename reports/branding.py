"""Agency branding of the HTML report: title, client, embedded logo, accent colour.

Branding comes from configuration, which may be copied from anywhere; the accent colour
lands inside a stylesheet, so only well-formed CSS colours are accepted.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

DEFAULT_TITLE = "SEO crawl audit"
DEFAULT_ACCENT = "#1f5f99"

LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
#: a logo is embedded in every report; anything bigger is a mistake (a photo, a print file)
MAX_LOGO_BYTES = 2_000_000

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:%|deg|turn|rad)?"
_COLOUR_PATTERNS = (
    re.compile(r"#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})"),
    re.compile(rf"(?:rgba?|hsla?)\(\s*{_NUMBER}(?:\s*[,\s/]\s*{_NUMBER}){{2,3}}\s*\)"),
)
CSS_NAMED_COLOURS = frozenset("""
aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet
brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson cyan darkblue
darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki darkmagenta darkolivegreen darkorange
darkorchid darkred darksalmon darkseagreen darkslateblue darkslategray darkslategrey darkturquoise
darkviolet deeppink deepskyblue dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia
gainsboro ghostwhite gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo
ivory khaki lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen lightskyblue
lightslategray lightslategrey lightsteelblue lightyellow lime limegreen linen magenta maroon
mediumaquamarine mediumblue mediumorchid mediumpurple mediumseagreen mediumslateblue
mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream mistyrose moccasin
navajowhite navy oldlace olive olivedrab orange orangered orchid palegoldenrod palegreen
paleturquoise palevioletred papayawhip peachpuff peru pink plum powderblue purple rebeccapurple red
rosybrown royalblue saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue slateblue
slategray slategrey snow springgreen steelblue tan teal thistle tomato turquoise violet wheat white
whitesmoke yellow yellowgreen
""".split())


class BrandingError(ValueError):
    """The branding configuration cannot be used (bad colour, unreadable logo)."""


def css_colour(value: str) -> str:
    """``value`` normalised if it is a CSS colour (hex, rgb(), hsl() or a name), else BrandingError."""
    colour = value.strip().lower() if isinstance(value, str) else ""
    if colour in CSS_NAMED_COLOURS or any(p.fullmatch(colour) for p in _COLOUR_PATTERNS):
        return colour
    raise BrandingError(f"accent colour {value!r} is not a CSS colour (try #1f5f99 or rgb(31, 95, 153))")


def logo_data_uri(path: str | Path) -> str:
    """The image at ``path`` as a data: URI, so the report fetches nothing."""
    path = Path(path)
    media_type = LOGO_TYPES.get(path.suffix.lower())
    if media_type is None:
        raise BrandingError(f"logo {path}: use one of {', '.join(sorted(LOGO_TYPES))}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BrandingError(f"cannot read logo {path}: {exc}") from exc
    if len(data) > MAX_LOGO_BYTES:
        raise BrandingError(f"logo {path} is {len(data):,} bytes; keep it under {MAX_LOGO_BYTES:,}")
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass(frozen=True)
class Branding:
    title: str = DEFAULT_TITLE
    client: str | None = None
    logo: str | None = None  # data: URI
    accent: str = DEFAULT_ACCENT

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> "Branding":
        """Branding from a dict with optional keys title, client, logo (a path), accent."""
        config = dict(config or {})
        unknown = set(config) - {"title", "client", "logo", "accent"}
        if unknown:
            raise BrandingError(f"unknown branding keys: {', '.join(sorted(unknown))}")
        return cls(
            title=str(config.get("title") or DEFAULT_TITLE),
            client=str(config["client"]) if config.get("client") else None,
            logo=logo_data_uri(config["logo"]) if config.get("logo") else None,
            accent=css_colour(config["accent"]) if config.get("accent") else DEFAULT_ACCENT,
        )
