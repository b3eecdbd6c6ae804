"""`seo-audit demo`: crawl the bundled demo site (seo_audit.demo_site) and write its report."""

from __future__ import annotations

import argparse

from seo_audit.exit_codes import ExitCode
from seo_audit.flags import add_output_args, job_settings
from seo_audit.output import log
from seo_audit.run import run_job


def add_parser(verbs) -> None:
    demo = verbs.add_parser("demo", help="crawl the bundled demo site (served on 127.0.0.1) and write its report")
    add_output_args(demo, default_out="demo-output")
    from crawler.render import RENDER_MODES

    demo.add_argument("--render", choices=RENDER_MODES, default=argparse.SUPPRESS,
                      help="render the demo's pages in the system Chromium (auto shows its JavaScript pages)")


def run(args: argparse.Namespace) -> ExitCode:
    from seo_audit.config import build_job
    from seo_audit.demo_site import demo_routes
    from seo_audit.sitekit import SiteServer

    with SiteServer(demo_routes()) as site:
        log.info("demo site served at %s/ (127.0.0.1 only)", site.url)
        # no job name: crawls are then matched by start URL, and the demo's port is new each
        # time, so a demo report never compares itself with an earlier demo on another port
        defaults = {"start_url": f"{site.url}/",
                    # a short trap run: the demo shows its calendar trap without fetching 50 months
                    "crawl": {"concurrency": 16, "timeout": 5, "recheck_max_wait": 2, "trap_run": 12}}
        return run_job(build_job(job_settings(args, defaults)), args)
