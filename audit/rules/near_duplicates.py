"""Near-duplicate content: indexable pages whose visible text is nearly the same.

Each HTML page carries a MinHash signature of its text's word shingles (crawler.minhash);
the share of agreeing positions of two signatures estimates their Jaccard similarity.
Candidate pairs come from locality-sensitive hashing (signatures cut into bands, the band
count and width datasketch's MinHashLSH chooses for the threshold; pages sharing a band are
candidates), done on the whole signature matrix at once with numpy: near linear in pages.
Exact copies (same content_hash) are duplicate-content's findings: they are compared as one
page, and never with each other. The signatures (512 bytes a page) are read from the store for the
indexable HTML pages only, while the rule runs: the pages frame a run loads does not hold them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa

from audit.graph import store_snapshot
from audit.load import stored_rows, typed_reader
from audit.rules.base import found, indexable_html_mask, rule, rules_in
from audit.rules.duplicates import GOOGLE_DUPLICATES
from crawler import store as crawl_store
from crawler.facts import FactType
from crawler.minhash import DTYPE, NUM_PERM, signatures

CATEGORY = "duplicates"
#: a page in a band bucket is compared with at most this many of the bucket's next members:
#: a bucket of thousands of templated pages would otherwise give millions of pairs
BUCKET_WINDOW = 32
#: the chance that a pair exactly at the threshold becomes a candidate
MIN_RECALL = 0.99
#: candidate pairs whose similarity is computed at once (memory: pairs x NUM_PERM bytes)
PAIRS_PER_BLOCK = 200_000
_EVIDENCE = re.compile(r"^(?P<similarity>\d+)% similar to (?P<match>\S+)")


def band_params(threshold: float) -> tuple[int, int]:
    """(bands, rows per band) for ``threshold``: the widest bands (fewest chance candidates)
    that still make a pair exactly at the threshold a candidate with MIN_RECALL probability;
    candidates are checked on their whole signatures, so a false candidate costs little and a
    missed pair is a finding lost."""
    if not 0 < threshold <= 1:
        raise ValueError(f"near-duplicate min_similarity must be in (0, 1], not {threshold}")
    for rows in range(NUM_PERM // 2, 0, -1):
        bands = NUM_PERM // rows
        if 1 - (1 - threshold ** rows) ** bands >= MIN_RECALL:
            return bands, rows
    return NUM_PERM, 1


def candidate_pairs(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(i, j) pairs, i < j, of rows of ``sig`` that share at least one band, as an (n, 2) array."""
    n = len(sig)
    found_pairs = []
    for band in range(bands):
        part = np.ascontiguousarray(sig[:, band * rows:(band + 1) * rows])
        keys = part.view(np.dtype((np.void, part.dtype.itemsize * rows))).ravel()
        codes = pd.factorize(keys)[0]
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        for step in range(1, min(BUCKET_WINDOW, n)):
            same = sorted_codes[step:] == sorted_codes[:-step]
            if not same.any():
                break  # no bucket has more than ``step`` members
            found_pairs.append(np.column_stack((order[:-step][same], order[step:][same])))
    if not found_pairs:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(found_pairs), axis=1).astype(np.int64)
    flat = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.column_stack((flat // n, flat % n))


def similarities(sig: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """The estimated Jaccard similarity of each pair of rows of ``sig``."""
    out = np.empty(len(pairs), dtype=np.float64)
    for start in range(0, len(pairs), PAIRS_PER_BLOCK):
        block = pairs[start:start + PAIRS_PER_BLOCK]
        out[start:start + len(block)] = (sig[block[:, 0]] == sig[block[:, 1]]).mean(axis=1)
    return out


def closest_matches(sig: np.ndarray, threshold: float) -> pd.DataFrame:
    """For each row of ``sig`` with a match at ``threshold`` or above: its closest match
    (columns row, match, similarity, matches: how many rows are at or above it)."""
    pairs = candidate_pairs(sig, *band_params(threshold))
    sim = similarities(sig, pairs)
    keep = sim >= threshold
    pairs, sim = pairs[keep], sim[keep]
    both = pd.DataFrame({"row": np.concatenate([pairs[:, 0], pairs[:, 1]]),
                         "match": np.concatenate([pairs[:, 1], pairs[:, 0]]),
                         "similarity": np.concatenate([sim, sim])})
    counts = both.groupby("row").size()
    best = both.sort_values(["similarity", "match"], ascending=[False, True], kind="stable") \
               .drop_duplicates("row").set_index("row").sort_index()
    best["matches"] = counts
    return best.reset_index()


def judged_signatures(crawl, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(present, matrix): whether each page at positions ``rows`` (ascending) of ``crawl.pages``
    has a MinHash signature, and those it has as an (present.sum(), NUM_PERM) matrix. From the
    frame's column if it holds them (a notebook's load, a crawl built from frames), else from the
    store (whose rows are the frame's, in order) as Arrow fixed-size binaries straight into the
    matrix: no signature becomes a Python object."""
    pages = crawl.pages
    if "minhash" in pages:
        blobs = pages["minhash"].iloc[rows]
        present = blobs.notna().to_numpy()
        return present, signatures(blobs[present].tolist())
    matrix = np.zeros((len(rows), NUM_PERM), dtype=DTYPE)  # filled from the top: the rows left are never touched
    present = np.zeros(len(rows), dtype=bool)
    filled = 0
    conn = crawl_store.connect(crawl.store, readonly=True)
    try:
        with store_snapshot(conn) as read:
            if stored_rows(read, "pages", crawl.crawl_id) != len(pages):
                raise LookupError(f"crawl {crawl.crawl_id} of {crawl.store} has other pages than were loaded")
            start = 0
            for batch in typed_reader(read, "pages", (("minhash", FactType.BLOB),), crawl.crawl_id):
                lo, hi = np.searchsorted(rows, [start, start + batch.num_rows])
                taken = batch.column(0).take(rows[lo:hi] - start)
                present[lo:hi] = taken.is_valid().to_numpy(zero_copy_only=False)
                signed = taken.drop_null().cast(pa.binary(NUM_PERM * DTYPE.itemsize))
                matrix[filled:filled + len(signed)] = np.frombuffer(signed.buffers()[1], dtype=DTYPE,
                                                                    count=len(signed) * NUM_PERM).reshape(-1, NUM_PERM)
                filled += len(signed)
                start += batch.num_rows
    finally:
        conn.close()
    pa.default_memory_pool().release_unused()  # the batches' buffers, which the pool would keep
    return present, matrix[:filled]


def _near_duplicates(crawl, threshold: float) -> pd.DataFrame:
    """url, match (its closest near-duplicate's URL), similarity, matches for every indexable
    HTML page with a near-duplicate at ``threshold`` or above."""
    judged = indexable_html_mask(crawl).to_numpy()
    pages = crawl.pages.loc[judged, ["url", "content_hash"]]
    # one row per distinct text: exact copies are compared as one page (the same text has a
    # signature on every copy or on none: both are made of its words)
    first = (~pages["content_hash"].duplicated() | pages["content_hash"].isna()).to_numpy()
    present, sig = judged_signatures(crawl, np.flatnonzero(judged)[first])
    texts = pages[first][present]
    best = closest_matches(sig, threshold)
    text_urls = texts["url"].to_numpy()
    per_text = pd.DataFrame({"content_hash": texts["content_hash"].to_numpy()[best["row"]],
                             "url_of_text": text_urls[best["row"]],
                             "match": text_urls[best["match"]],
                             "similarity": best["similarity"].to_numpy(),
                             "matches": best["matches"].to_numpy()})
    by_url = per_text.set_index("url_of_text")
    # every copy of a text gets its text's closest match
    copies = pages.loc[pages["content_hash"].isin(per_text["content_hash"]) & ~first,
                       ["url", "content_hash"]]
    copy_rows = copies.merge(per_text.drop(columns="url_of_text"), on="content_hash")
    rows = pd.concat([by_url.reset_index().rename(columns={"url_of_text": "url"}), copy_rows])
    return rows[["url", "match", "similarity", "matches"]].reset_index(drop=True)


@rule(id="near-duplicate-content", severity="warning",
      severity_why="search engines may index one of the near-copies only and crawl the others for nothing",
      title="Near-duplicate content",
      why="Pages whose text is nearly the same compete with each other; search engines may fold them "
          "into one and crawl the others for little.",
      fix="Merge the near-copies into one page, make each one distinct, or canonicalise them to the "
          "one you want indexed.",
      learn_more=GOOGLE_DUPLICATES, waste="duplicates", thresholds={"min_similarity": 0.9},
      reads=("indexable", "is_html", "content_hash"))  # and the stored minhash: judged_signatures
def near_duplicate_content(crawl, t):
    hits = _near_duplicates(crawl, float(t["min_similarity"]))
    more = hits["matches"] - 1
    evidence = ((hits["similarity"] * 100).round().astype(int).astype(str) + "% similar to " + hits["match"]
                + np.where(more > 0, " (and " + more.astype(str) + " more near-duplicates)", ""))
    return found(hits["url"], evidence)


def clusters(findings: pd.DataFrame) -> list[list[str]]:
    """near-duplicate-content's findings (url, evidence) as clusters: the pages linked by their
    closest matches, largest cluster first, each cluster's URLs sorted."""
    parsed = findings["evidence"].str.extract(_EVIDENCE)
    edges = pd.DataFrame({"url": findings["url"], "match": parsed["match"]}).dropna()
    if edges.empty:
        return []
    codes, urls = pd.factorize(pd.concat([edges["url"], edges["match"]]))
    a, b = codes[:len(edges)], codes[len(edges):]
    label = np.arange(len(urls))
    while True:  # label propagation to the smallest code of each component
        low = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        label = label[label]
        if np.array_equal(label, before):
            break
    groups = pd.Series(urls).groupby(label).agg(sorted)
    return sorted(groups.tolist(), key=lambda members: (-len(members), members[0]))


RULES = rules_in(globals())
