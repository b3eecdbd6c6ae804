"""The "advertools" contender, run with the bench venv's Python (/tmp/bench-venv/bin/python):

    adv_runner.py URL OUTPUT.jl CONCURRENCY

advertools.crawl() starts `scrapy runspider` as a subprocess (found on PATH: the bench puts the
venv's bin first). Its defaults are kept (ROBOTSTXT_OBEY True, HTTPERROR_ALLOW_ALL, its own
parsing of every page) except concurrency, logging and the two listening ports.

allowed_domains is passed as the bare host: advertools' default is the start URL's netloc, which
carries the port here, and Scrapy's offsite check compares host names only, so with the default
every followed link is dropped as offsite and the crawl stops after the first page.
"""

import sys
from urllib.parse import urlsplit

import advertools as adv


def main() -> int:
    url, out, conc = sys.argv[1], sys.argv[2], int(sys.argv[3])
    adv.crawl(
        url,
        out,
        follow_links=True,
        allowed_domains=[urlsplit(url).hostname],
        custom_settings={
            "CONCURRENT_REQUESTS": conc,
            "CONCURRENT_REQUESTS_PER_DOMAIN": conc,
            "LOG_LEVEL": "INFO",
            "TELNETCONSOLE_ENABLED": False,
            "REMOTE_CONTROL_ENABLED": False,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
