"""A crawl shared through Redis: the same store as one process, each URL fetched once, nothing
lost to a SIGKILL, one round trip per page, JSON only. A real redis-server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from crawler.options import CrawlOptions
from seo_audit.sitekit import Reply, SiteServer, page
from tests.conftest import crawl_site, pages_by_url
from tests.fixture_site import add_sitemap, routes as fixture_routes

redis = pytest.importorskip("redis", reason="the redis extra is not installed: pip install -e '.[redis]'")
from crawler.distributed import WAITING_WORKER_NAME, CrawlKeys, IdleStretch, SharedFrontier  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from workers_bench import LoopbackRedis  # noqa: E402

GENERATED_PAGES = 150
#: a short lease, so a SIGKILLed worker's URLs come back within the test
LEASE_TTL = 2.0


@pytest.fixture(scope="module")
def redis_port():
    """A throwaway redis-server on a free loopback port: no persistence, stopped after the module."""
    try:
        server = LoopbackRedis()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    with server:
        yield server.port


@pytest.fixture
def redis_url(redis_port):
    url = f"redis://127.0.0.1:{redis_port}/0"
    redis.Redis.from_url(url).flushdb()
    return url


def planted_site(delay: float) -> dict:
    """The crawl-engine fixture site, and behind /about a tree of GENERATED_PAGES pages, each
    answering after ``delay`` s (slow enough that every worker gets a share)."""
    routes = fixture_routes()
    # > timeout by far: a loaded machine must not see it answer before the timer fires
    routes["/slow"] = Reply(200, "<html><title>Slow</title></html>", delay=8)
    routes["/about"] = page("About", "<a href='/'>home</a><a href='/p/0'>catalogue</a>")
    routes["/p/*"] = lambda hit: _tree_page(int(hit.path.rsplit("/", 1)[1]), delay)
    return routes


def tree_site(delay: float) -> dict:
    """The tree alone, with a robots.txt rule and a broken link: every answer is the same however
    often it is asked (the planted site's 202 and flaky pages change after their first answer)."""
    return {"/": page("Home", "<a href='/p/0'>catalogue</a><a href='/private/x'>p</a><a href='/gone'>g</a>"),
            "/robots.txt": Reply(200, "User-agent: *\nDisallow: /private/\n", "text/plain"),
            "/p/*": lambda hit: _tree_page(int(hit.path.rsplit("/", 1)[1]), delay)}


def _tree_page(n: int, delay: float) -> Reply:
    children = "".join(f"<a href='/p/{c}'>{c}</a>" for c in (2 * n + 1, 2 * n + 2) if c < GENERATED_PAGES)
    reply = page(f"Page {n}", f"{children}<a href='/'>home</a><a href='/about'>about</a>")
    reply.delay = delay
    return reply


def serve(make_routes, delay: float = 0.0) -> SiteServer:
    site = SiteServer(make_routes(delay)).start()
    add_sitemap(site.routes, site.url)
    return site


def by_path(store: Path, crawl_id: int) -> dict[str, tuple]:
    """(status, skip reason, error) by path: the same site served on two ports compares equal."""
    return {url.split("/", 3)[-1]: (row["status"], row["skip_reason"], row["error"])
            for url, row in pages_by_url(store, crawl_id).items() if "seo-audit-probe" not in url}


def fetches(site: SiteServer, timed_out: tuple[str, ...] = ()) -> dict[str, int]:
    """Requests the site answered, by path, but for the ``timed_out`` paths: a request the client
    gave up on may not have been read by the server yet on a loaded machine (the server shares the
    GIL with the crawl), so those are counted by the store's attempts instead."""
    return {path: n for path, n in site.hits.items() if "seo-audit-probe" not in path and path not in timed_out}


def stored_stats(store: Path, crawl_id: int) -> dict:
    import sqlite3

    with sqlite3.connect(store) as conn:
        return json.loads(conn.execute("SELECT stats FROM crawls WHERE id = ?", (crawl_id,)).fetchone()[0])


#: the default lease: on a loaded machine a 2 s one can lapse under a live worker, whose pages are
#: then fetched again (recorded once): right, but not what the fetch-once test is about
CRAWL = dict(timeout=1, concurrency=8)


def link_rows(store: Path, crawl_id: int) -> int:
    import sqlite3

    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT count(*) FROM links WHERE crawl_id = ?", (crawl_id,)).fetchone()[0]


def single_process(make_routes, store: Path) -> tuple[dict, dict, int]:
    """The reference: the same site crawled by one process, without Redis (pages by path,
    fetches by path, link rows)."""
    with serve(make_routes) as site:
        result = crawl_site(f"{site.url}/", store, timeout=1, concurrency=8)
        return by_path(store, result.crawl_id), fetches(site), link_rows(store, result.crawl_id)


@pytest.fixture(scope="module")
def planted_reference(tmp_path_factory):
    return single_process(planted_site, tmp_path_factory.mktemp("single") / "s.sqlite")


@pytest.fixture(scope="module")
def tree_reference(tmp_path_factory):
    return single_process(tree_site, tmp_path_factory.mktemp("single") / "s.sqlite")


def start_workers(url: str, count: int) -> list[subprocess.Popen]:
    """``count`` workers, returned once each waits on Redis for a crawl (so none misses it)."""
    client = redis.Redis.from_url(url)
    workers = [subprocess.Popen([sys.executable, "-m", "seo_audit", "worker", "--redis", url, "--wait", "60"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(count)]
    deadline = time.monotonic() + 60
    # by name: other tests' clients may come and go meanwhile
    while sum(c["name"] == WAITING_WORKER_NAME for c in client.client_list()) < count:
        assert time.monotonic() < deadline, "the workers did not connect to Redis"
        time.sleep(0.05)
    return workers


def wait_all(workers: list[subprocess.Popen]) -> list[int]:
    codes = []
    for worker in workers:
        try:
            codes.append(worker.wait(30))
        except subprocess.TimeoutExpired:
            worker.kill()
            codes.append(worker.wait())
    return codes


def test_two_workers_make_the_single_process_store_fetching_each_url_once(redis_url, tmp_path,
                                                                          planted_reference):
    reference, reference_fetches, _ = planted_reference
    store = tmp_path / "d.sqlite"
    with serve(planted_site, delay=0.1) as site:
        workers = start_workers(redis_url, 2)
        result = crawl_site(f"{site.url}/", store, redis_url=redis_url, **CRAWL)
        assert wait_all(workers) == [0, 0]
        assert result.state == "complete"
        assert by_path(store, result.crawl_id) == reference
        # every URL as often as one process fetches it (retries and 202 re-checks included); /slow,
        # which always times out, by its attempts: one and its two retries
        assert fetches(site, timed_out=("/slow",)) == {p: n for p, n in reference_fetches.items() if p != "/slow"}
        assert pages_by_url(store, result.crawl_id)[f"{site.url}/slow"]["attempt_statuses"] == ["timeout"] * 3
        assert site.hits["/slow"] <= 3
        # seeds go through the shared dupe filter: robots.txt, the start URL, sitemaps, once
        assert [site.hits[p] for p in ("/robots.txt", "/", "/sitemap.xml.gz", "/sitemap-pages.xml")] == [1] * 4
    stats = stored_stats(store, result.crawl_id)
    assert stats["distributed/workers"] == 2
    assert 0 < stats["distributed/fetched-by-workers"] < stats["fetched"]
    assert stats["sitemap/only_in_sitemap"] == 1
    assert redis.Redis.from_url(redis_url).keys("*") == [], "the coordinator leaves Redis clean"


def _leases_of(client, pid: int) -> int:
    return sum(client.hlen(key) for key in client.scan_iter(match=f"seo-audit:*:leases:*:{pid}:*"))


def test_a_sigkilled_worker_loses_nothing(redis_url, tmp_path, tree_reference):
    reference, reference_fetches, _ = tree_reference
    store = tmp_path / "k.sqlite"
    client = redis.Redis.from_url(redis_url)
    with serve(tree_site, delay=0.2) as site:
        workers = start_workers(redis_url, 2)
        outcome = {}
        coordinator = threading.Thread(target=lambda: outcome.update(
            result=crawl_site(f"{site.url}/", store, redis_url=redis_url, redis_lease_ttl=LEASE_TTL, **CRAWL)))
        coordinator.start()
        victim = workers[0]
        deadline = time.monotonic() + 30
        while _leases_of(client, victim.pid) == 0:  # kill it while it holds leased URLs
            assert time.monotonic() < deadline and coordinator.is_alive(), "the worker never leased a URL"
            time.sleep(0.01)
        os.kill(victim.pid, signal.SIGKILL)
        coordinator.join(120)
        assert not coordinator.is_alive()
        assert wait_all(workers) == [-signal.SIGKILL, 0]
        result = outcome["result"]
        assert result.state == "complete"
        assert by_path(store, result.crawl_id) == reference
        # nothing missing; only what was in flight at the kill may have been fetched again
        assert set(fetches(site)) == set(reference_fetches)
    assert stored_stats(store, result.crawl_id)["distributed/requeued"] >= 1


# --- the protocol, step by step, on a real Redis ---------------------------------------------------
class CountingRedis(redis.Redis):
    """Counts commands sent: a script or a pipeline is one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent = 0

    def execute_command(self, *args, **options):
        self.sent += 1
        return super().execute_command(*args, **options)


def frontier(redis_url: str, name: str, **options) -> SharedFrontier:
    client = CountingRedis.from_url(redis_url)
    opts = CrawlOptions(start_url="http://x/", redis_url=redis_url, redis_lease_ttl=LEASE_TTL, **options)
    shared = SharedFrontier(client, CrawlKeys("test"), name, opts)
    shared.heartbeat()
    return shared


def found(url: str, skip: str = "", pattern: str = "") -> tuple[str, str, str, str]:
    return (url, json.dumps([url, "page", "link", 1, "http://x/", 0])[1:], skip, pattern)


def page_records(url: str) -> dict[str, list]:
    from crawler import store

    return {"pages": [store.page_row({"url": url, "status": 200})]}


def test_a_page_is_one_round_trip_and_everything_in_redis_is_json(redis_url):
    worker = frontier(redis_url, "w1")
    links = [found(f"http://x/{i}") for i in range(200)] + [found("http://x/0")]
    before = worker.client.sent
    assert worker.settle(page_records("http://x/"), links)
    assert worker.client.sent - before == 1, "200 links, their records: one round trip"
    client = worker.client
    queued = [json.loads(raw) for raw in client.lrange(worker.keys.queue, 0, -1)]
    assert sorted(e[1] for e in queued) == sorted(f"http://x/{i}" for i in range(200))
    assert {e[0] for e in queued} == set(range(200)), "each admitted URL gets its discovery seq"
    (message,) = client.lrange(worker.keys.records, 0, -1)
    message = json.loads(message)
    assert message["records"]["pages"][0][0] == "http://x/" and len(message["found"]) == 200
    for key in client.scan_iter(match="seo-audit:*"):
        kind = client.type(key).decode()
        values = {"list": lambda: client.lrange(key, 0, -1), "hash": lambda: client.hvals(key),
                  "set": lambda: client.smembers(key), "string": lambda: [client.get(key)]}[kind]()
        assert not any(v.startswith(b"\x80") for v in values), f"{key!r} holds a pickle"


def test_shared_verdicts_trap_cap_and_max_pages(redis_url):
    worker = frontier(redis_url, "w1", trap_cap=2, max_pages=3)
    links = [found(f"http://x/c?p={i}", pattern="/c?p=") for i in range(3)] + [
        found("http://x/a"), found("http://x/b"), found("http://x/blocked", skip="robots")]
    worker.settle({}, links)
    message = json.loads(worker.client.lpop(worker.keys.records))
    verdicts = {item[1]: item[0] for item in message["found"]}
    assert verdicts == {"http://x/c?p=0": 0, "http://x/c?p=1": 1, "http://x/c?p=2": "trap",
                        "http://x/a": 2, "http://x/b": "max-pages", "http://x/blocked": "robots"}


def test_a_dead_workers_leases_go_back_first_and_its_late_records_are_refused(redis_url):
    w1, w2 = frontier(redis_url, "w1"), frontier(redis_url, "w2")
    w1.settle({}, [found(f"http://x/{i}") for i in range(5)])
    taken = [w1.pop().url, w1.pop().url]
    w1.client.delete(w1.keys.alive("w1"))  # its heartbeat lapses: SIGKILL, power cut, partition
    assert w2.heartbeat() == 2
    assert {w2.pop().url, w2.pop().url} == set(taken), "re-queued at the head of the queue"
    assert not w1.settle(page_records(taken[0]), [found("http://x/late")])
    assert w1.client.sismember(w1.keys.seen, "http://x/late") == 0, "a refused page changes nothing"


def test_the_first_worker_to_leave_deletes_nothing(redis_url):
    w1, w2 = frontier(redis_url, "w1"), frontier(redis_url, "w2")
    w1.settle({}, [found(f"http://x/{i}") for i in range(3)])
    entry = w1.pop()
    assert w2.leave() == 0
    assert len(w1) == 2 and not w1.quiet(), "queue and w1's lease survive w2 leaving"
    w1.pop(), w1.pop()
    w1.settle({"pages": [page_records(u)["pages"][0] for u in (entry.url, "http://x/1", "http://x/2")]}, [])
    assert w1.quiet(), "empty queue, no lease: the crawl is over"


def test_idle_stretch_counts_from_its_own_start():
    now = [1000.0]  # a worker busy for 1000 s since import
    stretch = IdleStretch(clock=lambda: now[0])
    assert stretch.idle_for() == 0
    now[0] += 5
    assert stretch.idle_for() == 5
    stretch.busy()
    now[0] += 100
    assert stretch.idle_for() == 0, "work resets the stretch"


def test_redis_options_are_checked_and_the_password_never_stored():
    with pytest.raises(ValueError, match="redis_url"):
        CrawlOptions(start_url="http://x/", redis_url="http://127.0.0.1:6379").validate()
    with pytest.raises(ValueError, match="redis_coordinator_timeout"):
        CrawlOptions(start_url="http://x/", redis_url="redis://h/0", redis_coordinator_timeout=0).validate()
    CrawlOptions(start_url="http://x/", redis_url="redis://h/0", resume=True).validate()  # re-attaches
    recorded = CrawlOptions(start_url="http://x/", redis_url="rediss://app:s3cret@h:6380/2").recorded()
    assert recorded["redis_url"] == "rediss://app:<redacted>@h:6380/2"


def test_cli_crawl_with_a_worker_writes_the_usual_report(redis_url, tmp_path, tree_reference):
    reference, _, _ = tree_reference
    with serve(tree_site, delay=0.05) as site:
        (worker,) = start_workers(redis_url, 1)
        crawl = subprocess.run([sys.executable, "-m", "seo_audit", "crawl", f"{site.url}/", "--redis", redis_url,
                                "--out", str(tmp_path), "--concurrency", "4", "--quiet"],
                               capture_output=True, text=True, timeout=120)
        assert crawl.returncode == 0, crawl.stderr
        assert wait_all([worker]) == [0]
    assert (tmp_path / "report.html").exists()
    pages = (tmp_path / "pages.csv").read_text()
    assert all(f"{site.url}/{path}" in pages for path in reference)


def test_one_crawl_per_redis_database_and_a_worker_with_no_crawl_says_so(redis_url, tmp_path):
    from crawler.distributed import claim_crawl

    client = redis.Redis.from_url(redis_url)
    # a long lease: its coordinator stays alive while the CLI below starts, however loaded the machine
    claim_crawl(client, CrawlOptions(start_url="http://x/", redis_url=redis_url, redis_lease_ttl=300))
    with pytest.raises(RuntimeError, match="already running"):
        claim_crawl(client, CrawlOptions(start_url="http://y/", redis_url=redis_url))
    second = subprocess.run([sys.executable, "-m", "seo_audit", "crawl", "http://127.0.0.1:9/", "--redis", redis_url,
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert second.returncode == 3 and "already running" in second.stderr and "Traceback" not in second.stderr
    other_db = redis_url.rsplit("/", 1)[0] + "/1"
    idle = subprocess.run([sys.executable, "-m", "seo_audit", "worker", "--redis", other_db, "--wait", "0.2"],
                          capture_output=True, text=True, timeout=60)
    assert idle.returncode == 2 and "no crawl started" in idle.stderr


# --- a crawl that outlives its coordinator ----------------------------------------------------------
def _committed_pages(store: Path) -> int:
    import sqlite3

    if not store.exists():
        return 0
    with sqlite3.connect(store, timeout=10) as conn:
        try:
            return conn.execute("SELECT count(*) FROM pages WHERE status = 200").fetchone()[0]
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0


def _queued(client) -> int:
    crawl = client.get("seo-audit:current")
    return client.llen(CrawlKeys(crawl.decode()).queue) if crawl else 0


def test_a_sigkilled_coordinator_is_resumed_and_nothing_is_lost_or_recorded_twice(redis_url, tmp_path,
                                                                                 tree_reference):
    reference, _, reference_links = tree_reference
    store, client = tmp_path / "c.sqlite", redis.Redis.from_url(redis_url)
    with serve(tree_site, delay=0.25) as site:
        job = tmp_path / "shared.toml"  # the same job file both times, as a scheduler would run it
        job.write_text(f'start_url = "{site.url}/"\nstore = "{store}"\n[crawl]\nredis_url = "{redis_url}"\n'
                       f'redis_lease_ttl = {LEASE_TTL}\nconcurrency = 4\ntimeout = 3\nretries = 2\n'
                       'recheck_max_wait = 1.0\ntrap_cap = 10\ntrap_run = 8\n')
        command = [sys.executable, "-m", "seo_audit", "crawl", "--config", str(job), "--no-report", "--quiet"]
        workers = start_workers(redis_url, 2)
        coordinator = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while _committed_pages(store) < 20 or not _queued(client):  # mid-crawl: work done and work left
            assert time.monotonic() < deadline and coordinator.poll() is None, "the crawl never got going"
            time.sleep(0.02)
        os.kill(coordinator.pid, signal.SIGKILL)
        coordinator.wait()
        committed_at_kill = _committed_pages(store)
        keys = CrawlKeys(client.get("seo-audit:current").decode())
        deadline = time.monotonic() + 30
        while client.llen(keys.records) < 5:  # the workers go on: their records wait in Redis
            assert time.monotonic() < deadline, "the workers stopped with their coordinator"
            time.sleep(0.05)
        assert [w.poll() for w in workers] == [None, None]
        resumed = subprocess.run([*command, "--resume", "--json"], capture_output=True, text=True, timeout=180)
        assert resumed.returncode == 0, resumed.stderr
        summary = json.loads(resumed.stdout)
        assert wait_all(workers) == [0, 0]
    import sqlite3

    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT id, state FROM crawls").fetchall() == [(summary["crawl_id"], "complete")]
    assert _committed_pages(store) > committed_at_kill
    assert by_path(store, summary["crawl_id"]) == reference, "no URL lost, each with its status"
    assert link_rows(store, summary["crawl_id"]) == reference_links, "no page recorded twice"
    assert client.keys("*") == [], "the resumed coordinator leaves Redis clean"


def coordinator_session(redis_url: str, store: Path, **options):
    from crawler.distributed import CoordinatorSession

    opts = CrawlOptions(start_url="http://x/", store=store, redis_url=redis_url, redis_lease_ttl=LEASE_TTL,
                        **options)
    return CoordinatorSession(opts, redis.Redis.from_url(redis_url))


def page_with_link(url: str) -> dict[str, list]:
    return {**page_records(url), "links": [(url, "http://x/elsewhere", "a", "", 0)]}


def test_records_leave_redis_only_once_committed_and_a_new_coordinator_commits_none_twice(redis_url, tmp_path):
    import sqlite3

    store = tmp_path / "s.sqlite"
    first = coordinator_session(redis_url, store)
    worker = SharedFrontier(redis.Redis.from_url(redis_url), first.keys, "w1", first.options)
    worker.settle(page_with_link("http://x/a"), [])
    first.collect()
    first.writer.flush()  # committed to the store, not yet acknowledged in Redis: then SIGKILL
    assert worker.client.llen(first.keys.records) == 1
    worker.settle(page_with_link("http://x/b"), [])  # sent while no coordinator is there
    first.client.delete(first.keys.alive(first.frontier.worker))  # its heartbeat lapses
    first.writer.close()
    second = coordinator_session(redis_url, store, resume=True)
    assert (second.crawl_id, second.keys.crawl) == (first.crawl_id, first.keys.crawl), "the same crawl"
    assert worker.client.llen(second.keys.records) == 0, "both acknowledged once the store has them"
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT url FROM pages ORDER BY url").fetchall() == [("http://x/a",), ("http://x/b",)]
        assert conn.execute("SELECT count(*) FROM links").fetchone() == (2,), "a's links committed once"
    worker.leave()
    second.close("complete", {})
    assert worker.client.keys("*") == []


def test_a_resume_after_redis_lost_the_crawl_shares_it_anew_from_the_store(redis_url, tmp_path):
    store = tmp_path / "s.sqlite"
    first = coordinator_session(redis_url, store)
    worker = SharedFrontier(redis.Redis.from_url(redis_url), first.keys, "w1", first.options)
    worker.settle(page_records("http://x/"), [found(f"http://x/{i}") for i in range(3)])
    worker.settle({}, [found("http://x/3")])
    worker.pop()
    first.flush()
    worker.settle(page_records("http://x/0"), [])
    first.flush()
    first.writer.close()
    worker.client.flushdb()  # Redis restarted without persistence
    second = coordinator_session(redis_url, store, resume=True)
    assert second.crawl_id == first.crawl_id and second.keys.crawl != first.keys.crawl
    client = second.client
    assert [json.loads(e)[1] for e in reversed(client.lrange(second.keys.queue, 0, -1))] == \
        ["http://x/1", "http://x/2", "http://x/3"], "what is left, in discovery order"
    assert client.sismember(second.keys.seen, "http://x/0") and client.get(second.keys.seq) == b"4"
    second.close("incomplete", {})


def test_an_orphaned_crawl_waits_for_resume_and_its_workers_stop_after_the_timeout(redis_url, tmp_path):
    from crawler.distributed import check_redis, claim_crawl

    client = redis.Redis.from_url(redis_url)
    worker = subprocess.Popen([sys.executable, "-m", "seo_audit", "worker", "--redis", redis_url, "--wait", "60"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(c["name"] == WAITING_WORKER_NAME for c in client.client_list()):
        assert time.monotonic() < deadline, "the worker did not connect to Redis"
        time.sleep(0.05)
    options = CrawlOptions(start_url="http://127.0.0.1:9/", redis_url=redis_url, redis_lease_ttl=LEASE_TTL,
                           redis_coordinator_timeout=4)
    keys = claim_crawl(client, options, "dead-coordinator")  # whose heartbeat never comes
    started = time.monotonic()
    client.delete(keys.alive("dead-coordinator"))
    with pytest.raises(RuntimeError, match="lost its coordinator.*--resume"):
        check_redis(CrawlOptions(start_url="http://y/", store=tmp_path / "s.sqlite", redis_url=redis_url))
    _, stderr = worker.communicate(timeout=120)
    assert worker.returncode == 0 and "stopped (coordinator-gone)" in stderr, stderr
    assert 4 <= time.monotonic() - started < 90, "bounded: it waited redis_coordinator_timeout, then stopped"
    assert not client.exists(keys.coordinator)
    check_redis(options)  # abandoned now: a new crawl may replace it
    claim_crawl(client, options)
