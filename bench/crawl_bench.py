"""Crawl benchmark: our crawl vs a bare Scrapy spider vs advertools, on a generated site served by
Debian's nginx on loopback. One command, prints a table (see bench/README.md).

    python bench/crawl_bench.py [--pages 20000] [--concurrency 16] [--rounds 1]
                                [--only ours,bare,advertools] [--profile [CONTENDER]]

Each contender runs in its own subprocess, one at a time, alternating over the rounds; measured
from outside: wall time, CPU (user+sys) and peak RSS from os.wait4's rusage of the child (which
includes the child's waited-for descendants: advertools runs Scrapy in a grandchild).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

import sitegen  # noqa: E402
from nginx_server import NginxServer, free_port, find_nginx  # noqa: E402

VENV = "/tmp/bench-venv"
CONTENDERS = ("ours", "bare", "advertools", "ours-cli")
DEFAULT_CONTENDERS = ("ours", "bare", "advertools")
csv.field_size_limit(1 << 30)

_current: dict = {}  # the running child, for the signal handler


# ------------------------------------------------------------------------------ helpers

def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def tail(path: str, n: int = 3000) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - n))
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


def kill_group(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(1.0 if sig == signal.SIGTERM else 0)


def clean_env(extra_path: str | None = None) -> dict:
    env = dict(os.environ)
    for k in ("SCRAPY_SETTINGS_MODULE", "SCRAPY_PROJECT", "SCRAPY_PYTHON_SHELL"):
        env.pop(k, None)
    if extra_path:
        env["PATH"] = extra_path + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _pss(pid: str) -> int:
    """Proportional set size of process ``pid`` in bytes (0 if gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class RssSampler(threading.Thread):
    """Polls /proc every `every` seconds for the processes of one session (the contender and its
    children): peak of the summed RSS of the tree, and each process's own peak. wait4's ru_maxrss
    is the largest single process, which under-counts a parent and a child alive together; the
    RSS sum over-counts a forked child, whose pages shared with its parent count in both, so
    the peak of the summed PSS (shared pages split between their users) is kept too."""

    def __init__(self, sid: int, every: float = 0.25):
        super().__init__(daemon=True)
        self.sid, self.every = sid, every
        self.stop_ev = threading.Event()
        self.peak_sum = 0
        self.peak_pss_sum = 0
        self.peak_at = 0.0
        self.per_pid: dict[int, tuple[int, str]] = {}
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.t0 = time.perf_counter()
        self.t0_epoch = time.time()  # the timeline's zero, as the store's epoch times count
        self.timeline: list[tuple[float, float]] = []  # (seconds, tree RSS MB), every ~2 s

    def sample(self) -> None:
        total = pss_total = 0
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat", "rb") as fh:
                    stat = fh.read()
                fields = stat[stat.rfind(b")") + 2:].split()
                if int(fields[3]) != self.sid:  # field 6 of stat: session id
                    continue
                with open(f"/proc/{d}/statm", "rb") as fh:
                    rss = int(fh.read().split()[1]) * self.page
            except (OSError, ValueError, IndexError):
                continue
            total += rss
            pss_total += _pss(d)
            pid = int(d)
            if rss > self.per_pid.get(pid, (0, ""))[0]:
                try:
                    with open(f"/proc/{d}/cmdline", "rb") as fh:
                        cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")[:160]
                except OSError:
                    cmdline = "?"
                self.per_pid[pid] = (rss, cmdline)
        t = time.perf_counter() - self.t0
        if total > self.peak_sum:
            self.peak_sum, self.peak_at = total, t
        self.peak_pss_sum = max(self.peak_pss_sum, pss_total)
        if not self.timeline or t - self.timeline[-1][0] >= 2.0:
            self.timeline.append((round(t, 1), round(total / 2**20, 1)))

    def run(self) -> None:
        while not self.stop_ev.wait(self.every):
            self.sample()

    def stop(self) -> None:
        self.stop_ev.set()
        self.join(timeout=5)


def measure(cmd: list[str], cwd: str, env: dict, timeout: float, logprefix: str) -> dict:
    """Run cmd in its own session; return wall, cpu, peak RSS (MB), exit code, timed_out."""
    out = open(logprefix + ".stdout", "wb")
    err = open(logprefix + ".stderr", "wb")
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    _current["pid"] = p.pid
    timed_out = threading.Event()

    def on_timeout():
        timed_out.set()
        kill_group(p.pid)

    timer = threading.Timer(timeout, on_timeout)
    timer.daemon = True
    timer.start()
    sampler = RssSampler(p.pid)
    sampler.start()
    try:
        _, status, ru = os.wait4(p.pid, 0)
    except BaseException:  # Ctrl-C or SIGTERM of the bench: do not leave the contender running
        kill_group(p.pid)
        try:
            os.waitpid(p.pid, 0)
        except ChildProcessError:
            pass
        raise
    finally:
        timer.cancel()
        sampler.stop()
        _current.pop("pid", None)
        out.close()
        err.close()
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    try:  # leftovers of the group (should be none)
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return {
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "cpu_user_s": ru.ru_utime,
        "cpu_sys_s": ru.ru_stime,
        "peak_rss_mb": ru.ru_maxrss / 1024.0,  # Linux: KiB
        "tree_peak_rss_mb": sampler.peak_sum / 2**20,
        "tree_peak_pss_mb": sampler.peak_pss_sum / 2**20,
        "tree_peak_at_s": sampler.peak_at,
        "rss_timeline": sampler.timeline,
        "started_epoch": sampler.t0_epoch,
        "rss_by_process": sorted(({"pid": pid, "peak_rss_mb": r / 2**20, "cmd": c}
                                  for pid, (r, c) in sampler.per_pid.items()),
                                 key=lambda d: -d["peak_rss_mb"])[:6],
        "exit": p.returncode,
        "timed_out": timed_out.is_set(),
    }


def scrapy_elapsed(stderr_path: str) -> float | None:
    m = re.findall(r"'elapsed_time_seconds': ([\d.]+)", tail(stderr_path, 20000))
    return float(m[-1]) if m else None


# ------------------------------------------------------------------------------ counting

class Counter:
    """Counts what a contender fetched: rows, distinct URLs, and distinct site HTML pages (2xx)."""

    def __init__(self, origin: str, n: int):
        self.netloc = urlsplit(origin).netloc
        self.page_paths = {sitegen.page_path(i) for i in range(n)}

    def count(self, rows) -> dict:
        nrows, urls, pages = 0, set(), set()
        for url, status in rows:
            nrows += 1
            urls.add(url)
            try:
                st = int(float(status)) if status not in (None, "") else 0
            except (TypeError, ValueError):
                st = 0
            u = urlsplit(url)
            if u.netloc == self.netloc and u.path in self.page_paths and 200 <= st < 300:
                pages.add(u.path)
        return {"rows": nrows, "urls": len(urls), "pages": len(pages)}


def jsonl_rows(path: str):
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                continue  # a feed cut by a timeout
            if "url" in d:
                yield d["url"], d.get("status")


def csv_rows(path: str):
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        for r in csv.DictReader(fh):
            url = r.get("url") or r.get("final_url") or ""
            yield url, r.get("status") or r.get("status_code")


def sqlite_rows(path: str):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        table = "pages" if "pages" in tables else next((t for t in tables if "page" in t), None)
        if not table:
            return
        cols = [r[1] for r in con.execute(f"pragma table_info({table})")]
        ucol = "url" if "url" in cols else cols[0]
        scol = "status" if "status" in cols else ("status_code" if "status_code" in cols else None)
        q = f"select {ucol}, {scol or 'NULL'} from {table}"
        if "crawl_id" in cols:  # the last crawl only
            q += f" where crawl_id = (select max(crawl_id) from {table})"
        yield from con.execute(q)
    finally:
        con.close()


# ------------------------------------------------------------------------------ contenders

class Contender:
    name = "?"
    note = ""

    def available(self) -> str | None:
        """None when runnable, else the reason it is not."""
        return None

    def command(self, url: str, rundir: str, conc: int, n: int) -> tuple[list[str], dict]:
        raise NotImplementedError

    def cwd(self, rundir: str) -> str:
        """Where the command runs: outside the repo, whose scrapy.cfg would load our settings."""
        return rundir

    def rows(self, rundir: str, logprefix: str):
        raise NotImplementedError


class Bare(Contender):
    name = "bare"

    def command(self, url, rundir, conc, n):
        cmd = [sys.executable, "-m", "scrapy", "runspider", os.path.join(BENCH, "bare_spider.py"),
               "-a", f"url={url}",
               "-s", f"CONCURRENT_REQUESTS={conc}", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={conc}",
               "-O", os.path.join(rundir, "bare.jsonl")]
        return cmd, clean_env()

    def rows(self, rundir, logprefix):
        return jsonl_rows(os.path.join(rundir, "bare.jsonl"))


class Advertools(Contender):
    name = "advertools"
    note = "advertools defaults kept (ROBOTSTXT_OBEY, its full per-page extraction); allowed_domains=host"

    def available(self):
        py = os.path.join(VENV, "bin", "python")
        ok = os.path.exists(py) and subprocess.run(
            [py, "-c", "import advertools"], capture_output=True).returncode == 0
        if ok:
            return None
        log(f"creating {VENV} and installing advertools (bench environment only)")
        try:
            if not os.path.exists(py):
                subprocess.run([sys.executable, "-m", "venv", VENV], check=True, timeout=300)
            subprocess.run([py, "-m", "pip", "install", "-q", "advertools"], check=True, timeout=900,
                           stdout=subprocess.DEVNULL)
        except (subprocess.SubprocessError, OSError) as e:
            return f"could not install advertools in {VENV}: {e}"
        return None

    def command(self, url, rundir, conc, n):
        cmd = [os.path.join(VENV, "bin", "python"), os.path.join(BENCH, "adv_runner.py"),
               url, os.path.join(rundir, "advertools.jl"), str(conc)]
        return cmd, clean_env(os.path.join(VENV, "bin"))

    def rows(self, rundir, logprefix):
        return jsonl_rows(os.path.join(rundir, "advertools.jl"))


class OursCrawl(Contender):
    """Our crawl as a Scrapy user runs it (`scrapy crawl site` in the repo), recording everything
    into its store: the like-for-like contender of the other crawlers, which do not audit."""

    name = "ours"
    note = "scrapy crawl site (the crawl, every record written to SQLite; no audit: see ours-cli)"

    def command(self, url, rundir, conc, n):
        cmd = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", f"url={url}",
               "-a", f"store={os.path.join(rundir, 'ours.sqlite')}", "-a", f"max_pages={n + 1000}",
               "-s", f"CONCURRENT_REQUESTS={conc}", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={conc}",
               "-s", "LOG_LEVEL=INFO"]
        return cmd, clean_env()

    def cwd(self, rundir: str) -> str:
        return REPO  # where scrapy.cfg names the project

    def rows(self, rundir, logprefix):
        return sqlite_rows(os.path.join(rundir, "ours.sqlite"))


class Ours(Contender):
    """The whole product: `seo-audit crawl --no-report` (crawl, then the audit), or with
    ``report`` the report too (crawl, audit, report in one command)."""

    name = "ours-cli"

    def __init__(self, extra: list[str] | None = None, report: bool = False):
        self.extra = list(extra or [])
        self.report = report
        self.base: list[str] | None = None
        self.flags: set[str] = set()
        self.notes: list[str] = []

    def _base(self) -> list[str] | None:
        exe = shutil.which("seo-audit")
        if exe:
            return [exe]
        if os.path.exists(os.path.join(REPO, "seo_audit", "cli.py")):
            self.notes.append("seo-audit not on PATH: ran seo_audit.cli:main from the repo")
            return [sys.executable, "-c", "import sys; from seo_audit.cli import main; sys.exit(main())"]
        return None

    def available(self):
        self.base = self._base()
        if not self.base:
            return "not available (no seo-audit CLI yet)"
        env = clean_env()
        env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
        try:
            r = subprocess.run(self.base + ["crawl", "--help"], capture_output=True, text=True,
                               timeout=120, env=env, cwd=tempfile.gettempdir())
        except subprocess.TimeoutExpired:
            return "not available (seo-audit crawl --help timed out)"
        if r.returncode != 0:
            return f"not available (seo-audit crawl --help exited {r.returncode}: {r.stderr.strip()[-300:]})"
        text = r.stdout + r.stderr
        self.flags = set(re.findall(r"(--[a-z][a-z0-9-]*)", text))
        for f in ("--out", "--concurrency", "--max-pages", "--no-report"):
            if f not in self.flags:
                self.notes.append(f"{f} not accepted by seo-audit crawl: left out")
        return None

    @property
    def note(self):
        return "; ".join(self.notes)

    def command(self, url, rundir, conc, n):
        out = os.path.join(rundir, "ours-out")
        cmd = list(self.base) + ["crawl", url, "--out", out]
        if "--concurrency" in self.flags:
            cmd += ["--concurrency", str(conc)]
        if "--max-pages" in self.flags:
            cmd += ["--max-pages", str(n + 1000)]
        if "--no-report" in self.flags and not self.report:
            cmd += ["--no-report"]
        if self.extra:
            cmd += self.extra
            msg = "extra flags: " + " ".join(self.extra)
            if msg not in self.notes:
                self.notes.append(msg)
        env = clean_env()
        env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
        return cmd, env

    def crawl_times(self, rundir: str) -> tuple[float, float] | None:
        """started_at and finished_at (epoch seconds) of the last crawl in the store: the crawl
        without the audit and report."""
        store = os.path.join(rundir, "ours-out", "seo-audit.sqlite")
        if not os.path.exists(store):
            return None
        try:
            con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
            try:
                r = con.execute("select started_at, finished_at from crawls order by id desc limit 1").fetchone()
            finally:
                con.close()
            return (r[0], r[1]) if r and r[0] and r[1] else None
        except sqlite3.Error:
            return None

    def rows(self, rundir, logprefix):
        out = os.path.join(rundir, "ours-out")
        pages_csv = os.path.join(out, "pages.csv")
        if os.path.exists(pages_csv):
            return csv_rows(pages_csv)
        # else: the SQLite store it printed, or one in the output dir
        cands = re.findall(r"(/\S+\.(?:sqlite3?|db))\b", tail(logprefix + ".stdout", 20000)
                           + tail(logprefix + ".stderr", 20000))
        for root, _, files in os.walk(out):
            cands += [os.path.join(root, f) for f in files if f.endswith((".sqlite", ".sqlite3", ".db"))]
        for c in cands:
            if os.path.exists(c):
                msg = f"pages counted in {os.path.basename(c)} (no pages.csv)"
                if msg not in self.notes:
                    self.notes.append(msg)
                return sqlite_rows(c)
        return iter(())


def crawl_phase_rss(timeline: list[tuple[float, float]], started_epoch: float, crawl_finished: float) -> float | None:
    """The tree's peak RSS (MB) in ``timeline`` (seconds since ``started_epoch``, MB) up to the
    crawl's end: what the crawl itself holds, before the audit and the report in the same process."""
    during = [rss for at, rss in timeline if started_epoch + at <= crawl_finished]
    return max(during) if during else None


# ------------------------------------------------------------------------------ profiling

def find_pyspy() -> str | None:
    for c in (shutil.which("py-spy"), os.path.join(VENV, "bin", "py-spy")):
        if c and os.path.exists(c):
            return c
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True, timeout=300)
    log(f"installing py-spy in {VENV}")
    subprocess.run([py, "-m", "pip", "install", "-q", "py-spy"], timeout=600, stdout=subprocess.DEVNULL)
    c = os.path.join(VENV, "bin", "py-spy")
    return c if os.path.exists(c) else None


def _frame_label(name: str, file: str, line=None) -> str:
    """Function label, aggregated per function (py-spy's line is the line being executed)."""
    if name.startswith("process ") and not file:
        return "<no Python frame: native code / GIL wait>"
    f = file or ""
    for marker in ("site-packages/", "/lib/python3.11/", REPO + "/"):
        if marker in f:
            f = f.split(marker, 1)[1]
            break
    return f"{name} ({f})"


def _package(file: str) -> str:
    f = file or ""
    if not f:
        return "<native>"
    if "site-packages/" in f:
        return f.split("site-packages/", 1)[1].split("/", 1)[0]
    m = re.search(r"/lib/python3\.\d+/([^/]+)", f)
    if m:
        return "stdlib:" + m.group(1).removesuffix(".py")
    if REPO in f:
        return "repo:" + os.path.relpath(f, REPO).split("/", 1)[0]
    return f


def _stacks(path: str, fmt: str):
    """Yield (labels root->leaf, packages root->leaf, weight) from a py-spy profile."""
    if fmt == "speedscope":
        with open(path) as fh:
            d = json.load(fh)
        frames = d["shared"]["frames"]
        labels = [_frame_label(f.get("name", "?"), f.get("file", ""), f.get("line")) for f in frames]
        pkgs = [_package(f.get("file", "")) for f in frames]
        for prof in d["profiles"]:
            samples = prof.get("samples", [])
            weights = prof.get("weights") or [1] * len(samples)
            for stack, w in zip(samples, weights):
                if stack:  # speedscope stacks go root -> leaf
                    yield [labels[i] for i in stack], [pkgs[i] for i in stack], w
    else:  # raw: collapsed stacks "f1;f2;leaf count"
        rx = re.compile(r"^(.*) \((.*?)(?::(\d+))?\)$")
        with open(path) as fh:
            for line in fh:
                line = line.rstrip("\n")
                if not line or " " not in line:
                    continue
                stack, _, cnt = line.rpartition(" ")
                labs, pks = [], []
                for fr in stack.split(";"):
                    m = rx.match(fr)
                    labs.append(_frame_label(m.group(1), m.group(2), m.group(3)) if m
                                else _frame_label(fr.split(":")[0], ""))
                    pks.append(_package(m.group(2)) if m else "<native>")
                yield labs, pks, int(cnt)


def parse_profile(path: str, fmt: str) -> tuple[list, list, float, dict]:
    """(top 15 functions by own time with inclusive time, own time by package, total,
    for the top 5 functions: the nearest callers outside the function's own package)."""
    own: dict[str, float] = {}
    incl: dict[str, float] = {}
    pkg: dict[str, float] = {}
    total = 0.0
    stacks = list(_stacks(path, fmt))
    for labs, pks, w in stacks:
        total += w
        own[labs[-1]] = own.get(labs[-1], 0) + w
        pkg[pks[-1]] = pkg.get(pks[-1], 0) + w
        for lab in set(labs):
            incl[lab] = incl.get(lab, 0) + w
    top = sorted(own.items(), key=lambda kv: -kv[1])[:15]
    callers: dict[str, dict[str, float]] = {}
    for lab, _ in top[:5]:
        cs: dict[str, float] = {}
        for labs, pks, w in stacks:
            if labs[-1] != lab:
                continue
            leafpkg, caller = pks[-1], "<root>"
            for l2, p2 in zip(reversed(labs[:-1]), reversed(pks[:-1])):
                if p2 != leafpkg:
                    caller = l2
                    break
            cs[caller] = cs.get(caller, 0) + w
        callers[lab] = dict(sorted(cs.items(), key=lambda kv: -kv[1])[:3])
    top = [(lab, w, incl.get(lab, w)) for lab, w in top]
    pk = sorted(pkg.items(), key=lambda kv: -kv[1])[:12]
    return top, pk, total, callers


def run_profile(c: Contender, origin: str, rundir: str, conc: int, n: int, fmt: str,
                timeout: float) -> dict:
    pyspy = find_pyspy()
    if not pyspy:
        return {"error": "py-spy not available"}
    pdir = os.path.join(rundir, f"profile-{c.name}")
    os.makedirs(pdir, exist_ok=True)
    cmd, env = c.command(origin + "/", pdir, conc, n)
    ext = "speedscope.json" if fmt == "speedscope" else "txt"
    prof = os.path.join(pdir, f"{c.name}.{ext}")
    full = [pyspy, "record", "--format", fmt, "-o", prof, "--rate", "100", "--subprocesses",
                   "--full-filenames", "--"] + cmd
    log(f"profiling {c.name} under py-spy ({fmt}) -> {prof}")
    m = measure(full, c.cwd(pdir), env, timeout, os.path.join(pdir, c.name))
    res = {"contender": c.name, "file": prof, **m}
    if not os.path.exists(prof):
        res["error"] = "py-spy wrote no profile: " + tail(os.path.join(pdir, c.name) + ".stderr", 800)
        return res
    top, pk, total, callers = parse_profile(prof, fmt)
    res.update(total_weight=total, weight_unit="s" if fmt == "speedscope" else "samples",
               top=[{"function": lab, "own_pct": 100 * w / total if total else 0,
                     "incl_pct": 100 * inc / total if total else 0} for lab, w, inc in top],
               packages=[{"package": p, "own_pct": 100 * w / total if total else 0} for p, w in pk],
               callers={f: {c: 100 * w / total if total else 0 for c, w in cs.items()}
                        for f, cs in callers.items()})
    return res


def print_profile(res: dict) -> None:
    print()
    if "top" not in res:
        print(f"profile of {res.get('contender')}: {res.get('error')}")
        return
    print(f"Profile of {res['contender']} (py-spy, {res['total_weight']:.0f} {res['weight_unit']} sampled, "
          f"wall {res['wall_s']:.1f}s under the profiler) -> {res['file']}")
    print(f"{'own %':>6} {'incl %':>7}  function (file)")
    for t in res["top"]:
        print(f"{t['own_pct']:6.1f} {t['incl_pct']:7.1f}  {t['function']}")
    for f, cs in res.get("callers", {}).items():
        print(f"  {f.split(' (')[0]} <- " + ", ".join(f"{c} {pct:.1f}%" for c, pct in cs.items()))
    print("own time by package: " + ", ".join(f"{p['package']} {p['own_pct']:.0f}%" for p in res["packages"]))


# ------------------------------------------------------------------------------ table

def summarise(runs: list[dict]) -> dict:
    """Median per contender over its successful rounds."""
    out = {}
    for name in CONTENDERS:
        rs = [r for r in runs if r["contender"] == name and r.get("status") == "ok"]
        if not rs:
            continue
        med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
        out[name] = {"rounds": len(rs), "pages": med("pages"), "wall_s": med("wall_s"),
                     "pages_per_s": med("pages_per_s"), "cpu_s": med("cpu_s"),
                     "cpu_ms_per_page": med("cpu_ms_per_page"), "peak_rss_mb": med("peak_rss_mb"),
                     "tree_peak_rss_mb": med("tree_peak_rss_mb")}
    return out


def ratios(summary: dict) -> dict:
    out = {}
    o = summary.get("ours")
    for other in ("bare", "advertools"):
        b = summary.get(other)
        if not (o and b):
            continue
        out[f"ours/{other}"] = {
            "pages_per_s": o["pages_per_s"] / b["pages_per_s"] if b["pages_per_s"] else None,
            "cpu_s_per_page": o["cpu_ms_per_page"] / b["cpu_ms_per_page"] if b["cpu_ms_per_page"] else None,
            "peak_rss": o["peak_rss_mb"] / b["peak_rss_mb"] if b["peak_rss_mb"] else None,
            "tree_peak_rss": o["tree_peak_rss_mb"] / b["tree_peak_rss_mb"] if b["tree_peak_rss_mb"] else None,
        }
    return out


def fmt_table(runs: list[dict], summary: dict, rat: dict, n: int, rounds: int) -> str:
    lines = []
    hdr = f"{'contender':<11} {'round':>5} {'pages':>7} {'rows':>7} {'seconds':>8} {'pages/s':>8} " \
          f"{'CPU s':>7} {'CPU ms/pg':>9} {'peak RSS MB':>11} {'tree RSS MB':>11}  status"
    lines += [hdr, "-" * len(hdr)]
    for r in runs:
        if r.get("status") in ("ok", "timeout", "failed", "interrupted"):
            flag = "" if r.get("pages") == n else " (partial)"
            lines.append(f"{r['contender']:<11} {r['round']:>5} {r['pages']:>7} {r['rows']:>7} "
                         f"{r['wall_s']:>8.1f} {r['pages_per_s']:>8.1f} {r['cpu_s']:>7.1f} "
                         f"{r['cpu_ms_per_page']:>9.2f} {r['peak_rss_mb']:>11.0f} "
                         f"{r.get('tree_peak_rss_mb', 0):>11.0f}  {r['status']}{flag}")
        else:
            lines.append(f"{r['contender']:<11} {r['round']:>5} {'-':>7} {'-':>7} {'-':>8} {'-':>8} "
                         f"{'-':>7} {'-':>9} {'-':>11} {'-':>11}  {r.get('status')}")
    phases = [r for r in runs if r.get("crawl_phase_rss_mb") is not None]
    if phases:
        lines += ["", "peak tree RSS MB of the crawl itself, then of the whole run (its audit and report after it):"]
        lines += [f"{r['contender']:<11} {r['round']:>5} crawl {r['crawl_phase_rss_mb']:>6.0f}, whole run "
                  f"{r.get('tree_peak_rss_mb', 0):>6.0f} (+{r.get('tree_peak_rss_mb', 0) - r['crawl_phase_rss_mb']:.0f})"
                  for r in phases]
    if rounds > 1 and summary:
        lines += ["", "median over rounds:"]
        for name, s in summary.items():
            lines.append(f"{name:<11} {s['rounds']:>5} {s['pages']:>7.0f} {'':>7} {s['wall_s']:>8.1f} "
                         f"{s['pages_per_s']:>8.1f} {s['cpu_s']:>7.1f} {s['cpu_ms_per_page']:>9.2f} "
                         f"{s['peak_rss_mb']:>11.0f} {s['tree_peak_rss_mb']:>11.0f}")
    if rat:
        lines.append("")
        for k, v in rat.items():
            parts = [f"pages/s {v['pages_per_s']:.2f}x", f"CPU per page {v['cpu_s_per_page']:.2f}x",
                     f"peak RSS {v['peak_rss']:.2f}x", f"tree RSS {v['tree_peak_rss']:.2f}x"]
            lines.append(f"{k:<16} " + ", ".join(parts))
    return "\n".join(lines)


# ------------------------------------------------------------------------------ main

def git_head() -> str | None:
    try:
        r = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True, timeout=30)
        return r.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def env_info() -> dict:
    info = {"python": platform.python_version(), "nproc": os.cpu_count(), "machine": platform.machine()}
    try:
        import scrapy
        info["scrapy"] = scrapy.__version__
    except ImportError:
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            m = re.search(r"model name\s*:\s*(.*)", fh.read())
            info["cpu"] = m.group(1) if m else None
    except OSError:
        pass
    try:  # the code measured as "ours": the repo's commit, and whether crawler/ or seo_audit/ differ from it
        info["git_head"] = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                          capture_output=True, text=True, timeout=30).stdout.strip()
        info["git_dirty"] = subprocess.run(
            ["git", "-C", REPO, "status", "--porcelain", "--", "crawler", "seo_audit", "audit"],
            capture_output=True, text=True, timeout=30).stdout.split("\n")[:20]
        info["git_dirty"] = [x for x in info["git_dirty"] if x]
    except (OSError, subprocess.SubprocessError):
        pass
    nginx = find_nginx()
    if nginx:
        r = subprocess.run([nginx, "-v"], capture_output=True, text=True)
        info["nginx"] = (r.stderr or r.stdout).strip()
    return info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=20000, help="pages in the generated site")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=1, help="round-robin rounds (0: profile only)")
    ap.add_argument("--only", default=",".join(DEFAULT_CONTENDERS),
                    help="comma list of ours (the crawl), bare, advertools, ours-cli (crawl + audit)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1200, help="seconds before a contender is killed")
    ap.add_argument("--profile", nargs="?", const="ours", default=None, metavar="CONTENDER",
                    help="after the timed rounds, run CONTENDER (default ours) under py-spy and "
                         "print the top 15 functions by own time")
    ap.add_argument("--profile-format", choices=("speedscope", "raw"), default="speedscope")
    ap.add_argument("--ours-args", default="", metavar="'FLAGS'",
                    help="extra flags for seo-audit crawl, e.g. '--trap-cap 100000' (shown under the table)")
    ap.add_argument("--ours-report", action="store_true",
                    help="ours-cli writes its report too (crawl, audit and report in one command)")
    ap.add_argument("--workdir", help="where the site, nginx config and outputs go (default: a new /tmp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the workdir (site, outputs, logs)")
    ap.add_argument("--results-dir", default=os.path.join(BENCH, "results"))
    a = ap.parse_args(argv)

    only = [c.strip() for c in a.only.split(",") if c.strip()]
    bad = [c for c in only if c not in CONTENDERS]
    if bad:
        ap.error(f"unknown contender(s): {bad}")
    if a.profile and a.profile not in CONTENDERS:
        ap.error(f"unknown contender for --profile: {a.profile}")
    if not find_nginx():
        print("nginx not found: apt-get install -y nginx-light", file=sys.stderr)
        return 2

    # SIGTERM/SIGHUP -> clean exit through the finally blocks (nginx and the child stopped)
    stop = threading.Event()

    def on_signal(signum, frame):
        """First SIGTERM/SIGHUP/Ctrl-C: stop the running contender, skip the rest, still print the
        table of what was measured. A second one: exit at once (nginx is still stopped)."""
        pid = _current.get("pid")
        if stop.is_set() or not pid:
            stop.set()
            if pid:
                threading.Thread(target=kill_group, args=(pid,), daemon=True).start()
            raise SystemExit(128 + signum)
        stop.set()
        log(f"signal {signum}: stopping the running contender; the table follows")
        threading.Thread(target=kill_group, args=(pid,), daemon=True).start()

    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)

    classes = {"ours": OursCrawl, "bare": Bare, "advertools": Advertools}
    def make(name):
        return Ours(shlex.split(a.ours_args), report=a.ours_report) if name == "ours-cli" else classes[name]()

    contenders = {name: make(name) for name in only}
    if a.profile and a.profile not in contenders:
        contenders[a.profile] = make(a.profile)
    unavailable = {}
    for name, c in contenders.items():
        why = c.available()
        if why:
            unavailable[name] = why
            log(f"{name}: {why}")

    work = a.workdir or tempfile.mkdtemp(prefix=f"seo-bench-{a.pages}-")
    os.makedirs(work, exist_ok=True)
    site = os.path.join(work, "site")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    runs: list[dict] = []
    profile_res = None
    server = None
    started = dt.datetime.now().isoformat(timespec="seconds")
    a.env_at_start = env_info()
    try:
        t = time.perf_counter()
        if os.path.exists(site):
            shutil.rmtree(site)
        st = sitegen.generate_site(site, a.pages, origin, a.seed)
        log(f"generated {a.pages} pages ({st['html_bytes'] / 1e6:.0f} MB HTML) in "
            f"{time.perf_counter() - t:.1f}s under {site}")
        server = NginxServer(site, os.path.join(work, "nginx"), port=port).start()
        log(f"nginx serving {origin}")
        counter = Counter(origin, a.pages)

        for rnd in range(1, a.rounds + 1):
            order = only[(rnd - 1) % len(only):] + only[:(rnd - 1) % len(only)]  # alternate who goes first
            for name in order:
                if stop.is_set():
                    break
                c = contenders[name]
                rec = {"contender": name, "round": rnd}
                if name in unavailable:
                    rec["status"] = unavailable[name]
                    runs.append(rec)
                    continue
                rundir = os.path.join(work, f"{name}-r{rnd}")
                os.makedirs(rundir, exist_ok=True)
                cmd, env = c.command(origin + "/", rundir, a.concurrency, a.pages)
                log(f"round {rnd}: {name}: {' '.join(cmd[:2])} ...")
                lp = os.path.join(rundir, name)
                if name.startswith("ours"):
                    rec["git_head"] = git_head()
                load_before = os.getloadavg()[0]
                m = measure(cmd, c.cwd(rundir), env, a.timeout, lp)
                m["load1_before"], m["load1_after"] = load_before, os.getloadavg()[0]
                cnt = counter.count(c.rows(rundir, lp))
                times = c.crawl_times(rundir) if isinstance(c, Ours) else None
                elapsed = None if times is None else times[1] - times[0]
                rec.update(m, **cnt, cmd=cmd, crawl_elapsed_s=elapsed or scrapy_elapsed(lp + ".stderr"))
                if times is not None:
                    rec["crawl_phase_rss_mb"] = crawl_phase_rss(m["rss_timeline"], m["started_epoch"], times[1])
                rec["pages_per_s"] = cnt["pages"] / m["wall_s"] if m["wall_s"] else 0.0
                rec["cpu_ms_per_page"] = 1000 * m["cpu_s"] / cnt["pages"] if cnt["pages"] else 0.0
                if stop.is_set():
                    rec["status"] = "interrupted"
                elif m["timed_out"]:
                    rec["status"] = "timeout"
                elif m["exit"] != 0 or cnt["pages"] == 0:
                    rec["status"] = "failed"
                    rec["stderr_tail"] = tail(lp + ".stderr", 1500)
                    log(f"{name} failed (exit {m['exit']}): {rec['stderr_tail'][-600:]}")
                else:
                    rec["status"] = "ok"
                if c.note:
                    rec["note"] = c.note
                log(f"{name}: {cnt['pages']} pages in {m['wall_s']:.1f}s, "
                    f"{rec['pages_per_s']:.1f} pages/s, CPU {m['cpu_s']:.1f}s, "
                    f"peak RSS {m['peak_rss_mb']:.0f} MB [{rec['status']}]")
                runs.append(rec)

        if a.profile and not stop.is_set():
            c = contenders[a.profile]
            if a.profile in unavailable:
                profile_res = {"contender": a.profile, "error": unavailable[a.profile]}
            else:
                profile_res = run_profile(c, origin, work, a.concurrency, a.pages,
                                          a.profile_format, a.timeout)
    except BaseException:
        if not a.keep and not a.workdir:
            shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        if server:
            server.stop()
    try:
        return report(a, runs, profile_res, started, work)
    finally:  # after the table: deleting 100k files can take minutes on a busy disk
        if not a.keep and not a.workdir:
            log(f"removing {work}")
            shutil.rmtree(work, ignore_errors=True)


def report(a, runs: list[dict], profile_res: dict | None, started: str, work: str) -> int:
    summary = summarise(runs)
    rat = ratios(summary)
    print()
    print(f"Crawl bench: {a.pages} pages, concurrency {a.concurrency}, {a.rounds} round(s), "
          f"nginx on loopback, {os.cpu_count()} CPUs")
    print(fmt_table(runs, summary, rat, a.pages, a.rounds))
    busy = [r for r in runs if r.get("load1_after", 0) > 1.5]
    if busy:
        print(f"warning: the machine was busy during {len(busy)} run(s) (1-min load average up to "
              f"{max(r['load1_after'] for r in busy):.1f} with {os.cpu_count()} CPUs; each contender "
              "uses about one): wall-clock figures are noisy, CPU ms/page is the steadier one")
    for r in runs:
        if r.get("rss_by_process") and len(r["rss_by_process"]) > 1:
            print(f"{r['contender']} round {r['round']}: peak RSS per process: " + "; ".join(
                f"{d['peak_rss_mb']:.0f} MB {d['cmd'][:70]}" for d in r["rss_by_process"][:3]))
        if r["contender"] == "ours-cli" and r.get("crawl_elapsed_s"):
            print(f"ours-cli round {r['round']} (repo at {r.get('git_head')}): crawl phase {r['crawl_elapsed_s']:.1f}s of {r['wall_s']:.1f}s wall "
                  "(the rest: start-up, audit, store finalisation); tree RSS peaked at "
                  f"{r.get('tree_peak_at_s', 0):.0f}s")
    notes = {r["contender"]: r["note"] for r in runs if r.get("note")}
    for name, note in notes.items():
        print(f"note ({name}): {note}")
    if profile_res:
        print_profile(profile_res)

    os.makedirs(a.results_dir, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(a.results_dir, f"crawl-{a.pages}-c{a.concurrency}-{stamp}.json")
    with open(path, "w") as fh:
        params = {k: v for k, v in vars(a).items() if k != "env_at_start"}
        json.dump({"started": started, "params": params, "env": a.env_at_start, "env_at_end": env_info(),
                   "runs": runs,
                   "summary": summary, "ratios": rat, "profile": profile_res,
                   "workdir": work if (a.keep or a.workdir) else None}, fh, indent=2, default=str)
    print(f"\nresults: {path}" + (f"\nworkdir kept: {work}" if (a.keep or a.workdir) else ""))
    return 0 if any(r.get("status") == "ok" for r in runs) or (profile_res and "top" in profile_res) else 1


if __name__ == "__main__":
    sys.exit(main())
