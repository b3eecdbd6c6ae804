"""The system Chromium a rendered crawl drives: where it is found, how it is started, and the
render modes. Apart from crawler.render so that options can check them without importing the
renderer (which imports what the crawl records)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: where Chromium is looked for, after $SEO_AUDIT_CHROMIUM: Debian's headless shell first (package
#: chromium-headless-shell: the same Chromium without the desktop browser around it, which costs
#: about half as much CPU again per page), else Debian's chromium
CHROMIUM_CANDIDATES = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium", "chromium", "chromium-browser")
#: Debian's Chromium without what a crawler must not do: phone home, update, sync, use a GPU
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RENDER_MODES = ("off", "auto", "all")


class RenderUnavailable(ValueError):
    """Rendering was asked for and cannot run here (no Chromium)."""


def chromium_executable() -> str | None:
    """The system Chromium to drive: $SEO_AUDIT_CHROMIUM if set (and only it), else Debian's
    (CHROMIUM_CANDIDATES); None if there is none."""
    chosen = os.environ.get("SEO_AUDIT_CHROMIUM")
    for candidate in (chosen,) if chosen else CHROMIUM_CANDIDATES:
        path = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if path and os.access(path, os.X_OK) and Path(path).is_file():
            return path
    return None


def require_chromium() -> str:
    path = chromium_executable()
    if path is None:
        raise RenderUnavailable(
            "--render needs Chromium and none was found: install Debian's package `chromium` "
            "(apt-get install chromium; chromium-headless-shell renders faster), or point "
            "SEO_AUDIT_CHROMIUM at a Chromium executable")
    return path
