"""near-duplicate-content: MinHash signatures recorded by a real crawl, pairs just above and
just below the threshold, exact copies kept apart, LSH candidates and clusters."""

from __future__ import annotations

import random

import numpy as np
import pytest

from audit.rules import RULES_BY_ID
from audit.rules.near_duplicates import candidate_pairs, closest_matches, clusters
from crawler.extract import extract
from crawler.minhash import NUM_PERM, signature, signatures
from seo_audit.sitekit import page

from .toolkit_site import by_path, crawled_site

RULE = RULES_BY_ID["near-duplicate-content"]
_RNG = random.Random(16)
VOCAB = [f"word{i}" for i in range(20_000)]
BASE = [_RNG.choice(VOCAB) for _ in range(600)]


def variant(changed: int, seed: int) -> list[str]:
    """BASE with ``changed`` words replaced (each changes three 3-word shingles)."""
    rng, words = random.Random(seed), list(BASE)
    for i in rng.sample(range(len(words)), changed):
        words[i] = rng.choice(VOCAB)
    return words


TEXTS = {
    "/base": BASE,
    "/copy": BASE,  # exact copy: duplicate-content's, never a near-duplicate of /base
    "/above": variant(6, 3),  # 1% of the words: estimated 94% similar to /base
    "/below": variant(12, 1),  # 2%: estimated 88%, just under the default 90%
    "/other": [_RNG.choice(VOCAB) for _ in range(600)],
}


def estimate(a: list[str], b: list[str]) -> float:
    sig = signatures([signature(a), signature(b)])
    return float((sig[0] == sig[1]).mean())


def test_the_planted_pairs_sit_either_side_of_the_threshold():
    assert 0.92 <= estimate(BASE, TEXTS["/above"]) < 1
    assert 0.87 <= estimate(BASE, TEXTS["/below"]) < 0.9
    assert estimate(TEXTS["/above"], TEXTS["/below"]) < 0.9
    assert estimate(BASE, TEXTS["/other"]) < 0.1


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    nav = "".join(f"<a href='{path}'>x</a>" for path in TEXTS)
    routes = {"/": page("Home", nav + " ".join(_RNG.choice(VOCAB) for _ in range(50)))}
    routes.update({path: page(path, "<p>" + " ".join(words) + "</p>") for path, words in TEXTS.items()})
    with crawled_site(routes, tmp_path_factory, "near") as loaded:
        yield loaded


def test_the_crawl_records_a_signature_per_html_page(crawl):
    p = crawl.pages.set_index("url")
    base = crawl.start_url.rstrip("/")
    assert p.loc[base + "/base", "minhash"] == signature(BASE)
    assert len(p.loc[base + "/other", "minhash"]) == NUM_PERM * 4
    assert p.loc[base + "/base", "minhash"] == p.loc[base + "/copy", "minhash"]


def test_just_above_flagged_just_below_not_copies_apart(crawl):
    found = by_path(crawl, RULE.run(crawl))
    assert set(found) == {"/base", "/copy", "/above"}
    assert found["/above"].startswith(("94% similar to /base", "94% similar to /copy"))
    # the copies name their nearest other text, never each other
    assert found["/base"] == found["/copy"] == "94% similar to /above"
    duplicates = set(RULES_BY_ID["duplicate-content"].run(crawl)["url"])
    assert {crawl.start_url.rstrip("/") + path for path in ("/base", "/copy")} == duplicates


def test_the_threshold_is_configurable(crawl):
    found = by_path(crawl, RULE.run(crawl, {"min_similarity": 0.85}))
    assert set(found) == {"/base", "/copy", "/above", "/below"}
    assert found["/below"] in ("88% similar to /base", "88% similar to /copy")
    assert "more near-duplicates" in found["/base"]
    assert by_path(crawl, RULE.run(crawl, {"min_similarity": 0.99})) == {}


def test_clusters_of_the_findings(crawl):
    hits = RULE.run(crawl, {"min_similarity": 0.85})
    origin = crawl.start_url.rstrip("/")
    assert clusters(hits) == [[origin + path for path in ("/above", "/base", "/below", "/copy")]]
    assert clusters(hits.iloc[0:0]) == []


def test_extract_signs_the_visible_text_only():
    html = "<html><head><title>T</title><script>var x = 1;</script></head><body><p>a b c d</p>" \
           "<style>p{}</style></body></html>"
    assert extract(html, "https://x.test/").minhash == signature(["a", "b", "c", "d"])
    assert extract("<html><body></body></html>", "https://x.test/").minhash is None


def test_lsh_finds_planted_pairs_among_random_pages():
    rng = np.random.default_rng(7)
    sig = rng.integers(0, 2**32, size=(5000, NUM_PERM), dtype=np.uint32)
    for a, b, agree in ((10, 4000, 0.97), (20, 30, 0.92), (100, 200, 0.8)):
        keep = rng.random(NUM_PERM) < agree
        sig[b] = np.where(keep, sig[a], sig[b])
    best = closest_matches(sig, 0.9).set_index("row")
    assert set(best.index) == {10, 4000, 20, 30}
    assert best.loc[4000, "match"] == 10 and best.loc[30, "match"] == 20


def test_a_huge_bucket_stays_near_linear():
    sig = np.zeros((3000, NUM_PERM), dtype=np.uint32)  # 3,000 identical signatures
    pairs = candidate_pairs(sig, 5, 25)
    assert len(pairs) < 3000 * 32
    assert len(np.unique(pairs)) == 3000  # every page has a candidate


def test_report_lists_the_clusters_and_config_sets_the_threshold(crawl, tmp_path):
    from audit import RULES, crawl_budget, run_audit
    from reports import write_outputs

    findings = run_audit(crawl, {"rules": {"near-duplicate-content": {"min_similarity": 0.85}}})
    near = findings[findings["rule"].eq("near-duplicate-content")]
    assert len(near) == 4
    files = write_outputs(tmp_path, crawl, findings, RULES, crawl_budget(crawl, findings))
    html = files["report.html"].read_text()
    section = html[html.index('id="near-duplicates"'):html.index('id="pages"')]
    assert "1 cluster of indexable pages" in section
    assert crawl.start_url.rstrip("/") + "/below" in section
    assert "minhash" not in files["pages.csv"].read_text().splitlines()[0]


def test_the_job_file_sets_the_threshold(crawl, tmp_path):
    from audit import run_audit
    from seo_audit.config import build_job, read_job_file

    job_file = tmp_path / "site.toml"
    job_file.write_text(f'start_url = "{crawl.start_url}"\n\n'
                        '[rules.near-duplicate-content]\nmin_similarity = 0.85\n', encoding="utf-8")
    job = build_job(read_job_file(job_file))
    found = by_path(crawl, run_audit(crawl, job.audit).query("rule == 'near-duplicate-content'"))
    assert "/below" in found and "/below" not in by_path(crawl, RULE.run(crawl, RULE.thresholds))  # 88%
