"""Toolkit benchmark (issue 16): what near-duplicate detection costs, one table.

    python bench/toolkit_bench.py                  # 100,000 pages
    python bench/toolkit_bench.py --pages 20000

Rows: extract() per page of the bench site (bench/sitegen.py, about 27 KB of HTML, no structured
data) as before, with the MinHash signature, and with the structured data check too, alternating; the near-duplicate-content rule on a crawl of N
indexable pages whose signatures are synthetic (random for distinct pages; a tenth of the
pages in clusters of 2 to 50 near-copies agreeing on 90 to 100% of the positions; 2% exact
copies), timed from the loaded crawl to its findings. Target: 100k pages in under 60 s on
2 cores. Run it under the shared lock: ``flock /tmp/bench.lock python bench/toolkit_bench.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import crawler.extract as extract_module  # noqa: E402
from audit.load import build_crawl  # noqa: E402
from audit.rules import RULES_BY_ID  # noqa: E402
from bench.sitegen import build_page  # noqa: E402
from crawler.minhash import DTYPE, NUM_PERM  # noqa: E402

ORIGIN = "https://bench.test"


#: extract() variants timed: (label, signature on, structured data on)
VARIANTS = (("neither (as before issue 16)", False, False), ("with signature", True, False),
            ("with signature and structured data", True, True))


def extract_cost(pages: list[str], rounds: int = 3) -> dict[str, float]:
    """Median microseconds per page of extract() in each of VARIANTS, alternating."""
    real = (extract_module.signature, extract_module.structured_data)
    times: dict[str, list[float]] = {label: [] for label, *_ in VARIANTS}
    try:
        for _ in range(rounds):
            for label, sign, structured in VARIANTS:
                extract_module.signature = real[0] if sign else (lambda words: None)
                extract_module.structured_data = real[1] if structured else (lambda *args: None)
                start = time.perf_counter()
                for i, html in enumerate(pages):
                    extract_module.extract(html, f"{ORIGIN}/p{i}")
                times[label].append((time.perf_counter() - start) / len(pages) * 1e6)
    finally:
        extract_module.signature, extract_module.structured_data = real
    return {label: statistics.median(values) for label, values in times.items()}


def synthetic_signatures(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(signatures, content hashes) of n pages: clusters of near-copies and exact copies planted."""
    rng = np.random.default_rng(seed)
    sig = rng.integers(0, 2**32, size=(n, NUM_PERM), dtype=np.uint32)
    hashes = np.array([f"h{i}" for i in range(n)], dtype=object)
    row = 0
    while row < n // 10:
        size = int(rng.integers(2, 51))
        base = sig[row]
        for member in range(row + 1, min(row + size, n)):
            keep = rng.random(NUM_PERM) < rng.uniform(0.9, 1.0)
            sig[member] = np.where(keep, base, sig[member])
        row += size
    copies = rng.choice(np.arange(n // 10, n), size=n // 50, replace=False)
    sig[copies[1:]] = sig[copies[:-1]]
    hashes[copies[1:]] = hashes[copies[:-1]]
    return sig, hashes


def near_duplicate_crawl(n: int):
    sig, hashes = synthetic_signatures(n)
    urls = [f"{ORIGIN}/p/{i}" for i in range(n)]
    pages = pd.DataFrame({
        "url": [f"{ORIGIN}/"] + urls, "fetch_kind": "page", "found_via": "link", "depth": 1,
        "status": 200, "content_type": "text/html", "attempt_statuses": [[200]] * (n + 1),
        "content_hash": ["home"] + hashes.tolist(),
        "minhash": [None] + [row.astype(DTYPE).tobytes() for row in sig],
    })
    links = pd.DataFrame({"source": f"{ORIGIN}/", "target": urls, "kind": "a", "anchor": "", "nofollow": 0})
    return build_crawl({"id": 1, "start_url": f"{ORIGIN}/"}, pages, links)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=100_000, help="pages for the near-duplicate rule")
    parser.add_argument("--extract-pages", type=int, default=200, help="bench-site pages to extract")
    args = parser.parse_args(argv)

    html = [build_page(i, 10_000, ORIGIN) for i in range(args.extract_pages)]
    cost = extract_cost(html)
    crawl = near_duplicate_crawl(args.pages)
    indexable = int(crawl.pages["indexable"].sum())
    start = time.perf_counter()
    hits = RULES_BY_ID["near-duplicate-content"].run(crawl)
    seconds = time.perf_counter() - start

    before = cost[VARIANTS[0][0]]
    rows = [(f"extract() per page, {label}", f"{cost[label]:.0f} us", f"x{cost[label] / before:.2f}")
            for label, *_ in VARIANTS]
    rows.append((f"near-duplicate-content, {indexable:,} indexable pages", f"{seconds:.1f} s",
                 f"{len(hits):,} findings; target < 60 s"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
