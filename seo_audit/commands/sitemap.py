"""`seo-audit sitemap`: XML sitemaps of a stored crawl's indexable pages (reports.sitemaps)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlsplit

from seo_audit.exit_codes import ExitCode


def add_parser(verbs) -> None:
    p = verbs.add_parser("sitemap", help="write XML sitemaps of a stored crawl's indexable pages",
                         description="Sitemaps of the indexable 200 HTML pages (no redirect, noindex, "
                                     "canonicalised or robots-blocked URL), 50,000 URLs / 50 MB a file, "
                                     "with a sitemap index when there is more than one file.")
    p.add_argument("--store", type=Path, required=True, help="crawl store")
    p.add_argument("--crawl", type=int, help="crawl id (default: the latest)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--gzip", action="store_true", help="write .xml.gz files")
    p.add_argument("--images", action="store_true", help="list each page's images (image sitemap namespace)")
    p.add_argument("--base-url", metavar="URL",
                   help="where the files will be served, for the index's <loc>s (default: the start URL's origin)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ExitCode:
    from audit.load import load_crawl
    from reports.sitemaps import entries, write_sitemaps

    try:
        crawl = load_crawl(args.store, args.crawl, findings=False)
    except LookupError as exc:
        parser.error(str(exc))
    base_url = args.base_url
    if base_url is None:
        start = urlsplit(crawl.start_url or "")
        base_url = f"{start.scheme}://{start.netloc}/"
    elif urlsplit(base_url).scheme not in ("http", "https"):
        parser.error(f"--base-url must be an http(s) URL, not {base_url!r}")
    try:
        written = write_sitemaps(entries(crawl, images=args.images), args.out, base_url,
                                 compress=args.gzip)
    except OSError as exc:
        print(f"seo-audit: cannot write sitemaps to {args.out}: {exc}", file=sys.stderr)
        return ExitCode.STORE_ERROR
    if not written.files:
        print("no indexable HTML page in the crawl: no sitemap written")
    else:
        print(f"{written.urls} URLs in {len(written.files) - (written.index is not None)} sitemap file(s)"
              + (f", index {written.index}" if written.index else f": {written.files[0]}"))
    for why, count in written.skipped.items():
        print(f"left out: {count} {why}")
    return ExitCode.OK
