"""Server logs benchmark (issue 15): `seo-audit logs` on 10 million combined-format lines in 10 gzip
files joined with a 100k-URL crawl, side by side with advertools' ``logs_to_df``.

    flock /tmp/bench.lock python bench/logs_bench.py [--lines 10000000] [--files 10] [--urls 100000]
        [--advertools-lines 1000000] [--advertools-python /tmp/advenv/bin/python] [--workdir DIR]
        [--only floor,run,read,stages,advertools]   # e.g. --only read,advertools while working on the reader
    python bench/logs_bench.py --prepare --workdir DIR   # write the logs and the store first, unlocked

The bench writes its own logs (a realistic mix: 80% visitors, 15% Googlebot from the documentation
range 192.0.2.0/24 its googlebot.json names, 1% spoofed Googlebot, 4% other bots; URLs of the crawl,
parameter variants and old URLs; 200/301/404/202/503), a synthetic store (scale_bench's), and runs:

- the floor: ``seo-audit report`` of the same crawl without logs (load, audit, write: what the
  logs run does besides its logs), run first, so that the store holds no logs yet;
- ours: ``python -m seo_audit logs DIR/access-*.log.gz --store S --out O --bot-ranges googlebot.json``,
  the whole run: read, verify, join, audit, write the report and its files;
- the read stage alone (``audit.logs.read.read_logs``: read, split, keep the bots' hits, count
  the rest), what compares with advertools' parse;
- the stages, in one process: the crawl loaded, ``join_logs`` whole and its read, verify and join
  (its own debug records), then the writers of bot-hits.csv and log-summary.json, each with the
  process's peak RSS while it ran;
- advertools: ``logs_to_df(file, output_file, errors_file, log_format="combined")`` in its own
  interpreter (install it apart: ``python -m venv /tmp/advenv && /tmp/advenv/bin/pip install
  advertools``), on ``--advertools-lines`` of the same lines (it reads plain text only; the file is
  decompressed first, not timed). Its lines/s is compared with ours.

Wall time, CPU seconds and peak RSS from outside (crawl_bench.measure: wait4 and a sampler of the
process tree). Results: a table on stdout, JSON in bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path[:0] = [BENCH, REPO]

from crawl_bench import clean_env, log, measure, tail  # noqa: E402
from report_bench import SITE  # noqa: E402
from scale_bench import write_synthetic_store  # noqa: E402

BROWSERS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"]
GOOGLEBOTS = ["Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
              "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
              "Googlebot-Image/1.0"]
OTHER_BOTS = ["Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
              "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
              "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"]
#: who sends a line: share, user agents, IP prefix
SENDERS = [(0.80, BROWSERS, "10.{}.{}.{}"), (0.15, GOOGLEBOTS, "192.0.2.{3}"), (0.01, GOOGLEBOTS[:2], "198.51.100.{3}"),
           (0.04, OTHER_BOTS, "203.0.113.{3}")]
STATUSES = np.array([200] * 90 + [301] * 4 + [404] * 3 + [202] * 2 + [503])
START = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc).timestamp()
WINDOW_S = 7 * 86400


def write_script(work: str, name: str, text: str) -> str:
    """The path of ``text`` written as ``name`` in ``work``: a stage run in its own interpreter."""
    script = os.path.join(work, name)
    with open(script, "w") as f:
        f.write(text)
    return script


def write_logs(folder: str, lines: int, files: int, urls: int, seed: int = 7) -> list[str]:
    """``files`` gzip files of ``lines`` combined-format lines in all, in time order."""
    rng = np.random.default_rng(seed)
    per_file = lines // files
    paths = []
    for f in range(files):
        path = os.path.join(folder, f"access-{f:02d}.log.gz")
        paths.append(path)
        with gzip.open(path, "wt", compresslevel=1, encoding="utf-8") as out:
            done = 0
            while done < per_file:
                n = min(500_000, per_file - done)
                out.write(_chunk(rng, n, f * per_file + done, lines, urls))
                done += n
    return paths


def _chunk(rng: np.random.Generator, n: int, first: int, lines: int, urls: int) -> str:
    shares = np.array([s for s, _, _ in SENDERS])
    who = rng.choice(len(SENDERS), n, p=shares / shares.sum())
    agent = rng.integers(0, 4, n)
    octets = rng.integers(1, 255, (n, 3))
    page = rng.integers(0, urls, n)
    kind = rng.random(n)
    status = STATUSES[rng.integers(0, len(STATUSES), n)]
    seconds = START + (first + np.arange(n)) * (WINDOW_S / lines)
    stamps = [time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(s)) for s in seconds[::1000]]
    # plain Python values, zipped: indexing numpy arrays line by line costs ten times more
    ips = [SENDERS[w][2].format(a, b, c, a) for w, (a, b, c) in zip(who.tolist(), octets.tolist())]
    agents = [SENDERS[w][1][a % len(SENDERS[w][1])] for w, a in zip(who.tolist(), agent.tolist())]
    paths = [f"/c{p % 40}/p{p}" if k < 0.85 else f"/c{p % 40}/p{p}?sort=price&page={p % 9}" if k < 0.95
             else f"/old/{p}.html" for p, k in zip(page.tolist(), kind.tolist())]
    rows = [f'{ip} - - [{stamps[i // 1000]}] "GET {path} HTTP/1.1" {st} {5000 + len(path)} "-" "{ua}"\n'
            for i, (ip, path, st, ua) in enumerate(zip(ips, paths, status.tolist(), agents))]
    return "".join(rows)


#: what a run measures (--only)
PARTS = ("floor", "run", "read", "stages", "advertools")


def parts(text: str) -> set[str]:
    """--only's parts; an unknown one is an error, not a run that measures nothing."""
    chosen = set(text.split(","))
    if chosen - set(PARTS):
        raise argparse.ArgumentTypeError(f"unknown parts {', '.join(sorted(chosen - set(PARTS)))}: "
                                         f"choose from {','.join(PARTS)}")
    return chosen

READ_STAGE = """
import sys, time
from audit.logs.read import connect, read_logs
t = time.perf_counter()
with connect() as con:
    read = read_logs(con, sys.argv[1:])
print(sum(read.lines.values()), time.perf_counter() - t)
"""

STAGES = """
import json, logging, os, sys, threading, time
from pathlib import Path
from audit.load import load_crawl
from audit.logs import join_logs
from reports.logs import write_bot_hits_csv, write_log_summary_json

stages, current, peaks = [], [None], {}

def sample():  # the process's RSS every 50 ms, its peak per stage
    while True:
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        peaks[current[0]] = max(peaks.get(current[0], 0), rss)
        time.sleep(0.05)

NEXT = {"read": "verify", "verify": "join", "join": "the facts assembled"}

class Stages(logging.Handler):  # join_logs's own timings of read, verify, join
    def emit(self, record):
        if hasattr(record, "stage"):
            stages.append(["  " + record.stage, record.seconds])
            current[0] = NEXT[record.stage]

def timed(name, call):
    current[0] = "read" if name.startswith("join_logs") else name
    at, started = len(stages), time.perf_counter()
    answer = call()
    stages.insert(at, [name, time.perf_counter() - started])  # before the stages it holds
    peaks[name] = max(peaks.get(key, 0) for key in [name, *NEXT, *NEXT.values()])
    return answer

store, out, ranges, *paths = sys.argv[1:]
threading.Thread(target=sample, daemon=True).start()
logger = logging.getLogger("audit.logs")
logger.setLevel(logging.DEBUG)
logger.addHandler(Stages())
crawl = timed("load the crawl (not a log stage)", lambda: load_crawl(store, findings=False))
facts = timed("join_logs: read, verify, join", lambda: join_logs(paths, crawl, ranges=[ranges]))
timed("write bot-hits.csv", lambda: write_bot_hits_csv(Path(out), facts))
timed("write log-summary.json", lambda: write_log_summary_json(Path(out), facts))
print(json.dumps({"stages": stages, "peaks": peaks}))
"""

ADVERTOOLS = """
import sys, time
from advertools import logs_to_df
t = time.perf_counter()
logs_to_df(sys.argv[1], sys.argv[2], sys.argv[3], log_format="combined")
print(time.perf_counter() - t)
"""


def run(args: argparse.Namespace) -> dict:
    work = args.workdir or tempfile.mkdtemp(prefix="logs-bench-")
    os.makedirs(work, exist_ok=True)
    logs_dir = os.path.join(work, "logs")
    if not os.path.isdir(logs_dir):
        os.makedirs(logs_dir)
        started = time.perf_counter()
        write_logs(logs_dir, args.lines, args.files, args.urls)
        log(f"{args.lines:,} lines in {args.files} gzip files written in {time.perf_counter() - started:.0f} s")
    paths = sorted(os.path.join(logs_dir, name) for name in os.listdir(logs_dir) if name.endswith(".gz"))
    store = os.path.join(work, f"synthetic-{args.urls}.sqlite")
    if not os.path.exists(store):
        facts = write_synthetic_store(store, args.urls)
        log(f"synthetic store: {facts['urls']:,} URLs, {facts['links']:,} links")
    if args.prepare:
        return {}
    ranges = os.path.join(work, "googlebot.json")
    with open(ranges, "w") as f:
        json.dump({"creationTime": dt.datetime.now(dt.timezone.utc).isoformat(),
                   "prefixes": [{"ipv4Prefix": "192.0.2.0/24"}, {"ipv6Prefix": "2001:db8::/32"}]}, f)
    assert SITE.startswith("https://")
    env = clean_env()
    env["PYTHONPATH"] = REPO
    results = {"lines": args.lines, "files": args.files, "urls": args.urls, "cpus": os.cpu_count()}

    def fresh_store(name: str) -> str:
        """A copy of the synthetic store for one run: a logs run keeps its facts in the store,
        which a later report of it would read back."""
        copy = os.path.join(work, f"{name}.sqlite")
        shutil.copyfile(store, copy)
        return copy

    if "floor" in args.only:
        floor_out = os.path.join(work, "floor")
        shutil.rmtree(floor_out, ignore_errors=True)
        os.makedirs(floor_out)
        log("floor: seo-audit report (no logs) ...")
        floor = measure([sys.executable, "-m", "seo_audit", "report", "--store", fresh_store("floor"), "--out", floor_out,
                         "--quiet"],
                        work, env, args.timeout, os.path.join(floor_out, "run"))
        results["floor"] = {k: floor[k] for k in ("wall_s", "cpu_s", "peak_rss_mb", "tree_peak_rss_mb", "exit")}
        log(f"floor: {floor['wall_s']:.1f} s, peak RSS {floor['peak_rss_mb']:.0f} MiB")

    if "run" in args.only:
        out = os.path.join(work, "out")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        cmd = [sys.executable, "-m", "seo_audit", "logs", *paths, "--store", fresh_store("ours"), "--out", out,
               "--bot-ranges", ranges, "--quiet"]
        log("ours: seo-audit logs ...")
        ours = measure(cmd, work, env, args.timeout, os.path.join(out, "run"))
        ok = ours["exit"] in (0, 1) and not ours["timed_out"]
        summary = json.load(open(os.path.join(out, "log-summary.json"))) if ok else {}
        if not ok:
            log(tail(os.path.join(out, "run.stderr"), 3000))
        results["ours"] = {**{k: ours[k] for k in ("wall_s", "cpu_s", "peak_rss_mb", "tree_peak_rss_mb", "exit")},
                           "lines_read": summary.get("lines_read"), "googlebot": summary.get("googlebot", {}).get("hits"),
                           "lines_per_s": args.lines / ours["wall_s"]}
        log(f"ours: {ours['wall_s']:.1f} s, CPU {ours['cpu_s']:.0f} s, peak RSS {ours['peak_rss_mb']:.0f} MiB "
            f"(tree {ours['tree_peak_rss_mb']:.0f}), {results['ours']['lines_per_s']:,.0f} lines/s")

    if "read" in args.only:
        script = write_script(work, "read_stage.py", READ_STAGE)
        log("read stage: read_logs ...")
        stage = measure([sys.executable, script, *paths], work, env, args.timeout, os.path.join(work, "read-stage"))
        results["read_stage"] = {**{k: stage[k] for k in ("wall_s", "cpu_s", "peak_rss_mb", "exit")},
                                 "lines_per_s": args.lines / stage["wall_s"]}
        with open(os.path.join(work, "read-stage.stdout")) as f:  # its own timing of read_logs: the last word
            words = f.read().split()
        if stage["exit"] == 0 and words:
            results["read_stage"]["read_s"] = float(words[-1])
        log(f"read stage: {stage['wall_s']:.1f} s, peak RSS {stage['peak_rss_mb']:.0f} MiB, "
            f"{results['read_stage']['lines_per_s']:,.0f} lines/s")

    if "stages" in args.only:
        script = write_script(work, "stages.py", STAGES)
        stages_out = os.path.join(work, "stages")
        shutil.rmtree(stages_out, ignore_errors=True)
        os.makedirs(stages_out)
        log("stages: load, join_logs (read, verify, join), writers, timed in one process ...")
        timed = measure([sys.executable, script, fresh_store("stages"), stages_out, ranges, *paths], work, env,
                        args.timeout, os.path.join(stages_out, "run"))
        if timed["exit"] == 0:
            with open(os.path.join(stages_out, "run.stdout")) as f:
                results["stages"] = json.loads(f.read().strip().splitlines()[-1])
        else:
            log(tail(os.path.join(stages_out, "run.stderr"), 3000))

    if "advertools" in args.only and args.advertools_python and os.path.exists(args.advertools_python):
        plain = os.path.join(work, "advertools-input.log")
        with gzip.open(paths[0], "rb") as src, open(plain, "wb") as dst:
            for _ in range(args.advertools_lines):
                line = src.readline()
                if not line:
                    break
                dst.write(line)
        with open(plain, "rb") as f:
            adv_lines = sum(1 for _ in f)
        script = write_script(work, "adv.py", ADVERTOOLS)
        cmd = [args.advertools_python, script, plain, os.path.join(work, "adv.parquet"), os.path.join(work, "adv-errors.txt")]
        log(f"advertools: logs_to_df on {adv_lines:,} lines ...")
        adv = measure(cmd, work, clean_env(), args.timeout, os.path.join(work, "adv"))
        results["advertools"] = {**{k: adv[k] for k in ("wall_s", "cpu_s", "peak_rss_mb", "exit")},
                                 "lines": adv_lines, "lines_per_s": adv_lines / adv["wall_s"]}
        with open(os.path.join(work, "adv.stdout")) as f:  # its own timing of logs_to_df: the last word
            words = f.read().split()
        if adv["exit"] == 0 and words:
            results["advertools"]["parse_s"] = float(words[-1])
        log(f"advertools: {adv['wall_s']:.1f} s, peak RSS {adv['peak_rss_mb']:.0f} MiB, "
            f"{results['advertools']['lines_per_s']:,.0f} lines/s")
    if not args.workdir and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return results


def table(results: dict) -> str:
    ours, adv, floor, stage = (results.get(k) for k in ("ours", "advertools", "floor", "read_stage"))
    rows = [f"| contender | lines | wall (s) | CPU (s) | peak RSS (MiB) | lines/s |", "|---|---:|---:|---:|---:|---:|"]
    if ours:
        rows.append(f"| seo-audit logs (read, verify, join {results['urls']:,}-URL crawl, audit, write) | "
                    f"{results['lines']:,} | {ours['wall_s']:.1f} | {ours['cpu_s']:.0f} | {ours['peak_rss_mb']:.0f} | "
                    f"{ours['lines_per_s']:,.0f} |")
    if floor:
        rows.append(f"| seo-audit report of the same crawl, no logs (the floor) | 0 | {floor['wall_s']:.1f} | "
                    f"{floor['cpu_s']:.0f} | {floor['peak_rss_mb']:.0f} | |")
    if stage:
        rows.append(f"| read stage (audit.logs.read.read_logs: read, split, keep bots) | {results['lines']:,} | "
                    f"{stage['wall_s']:.1f} | {stage['cpu_s']:.0f} | {stage['peak_rss_mb']:.0f} | "
                    f"{stage['lines_per_s']:,.0f} |")
        if "read_s" in stage:
            rows.append(f"| read_logs alone (its own timing: its imports left out) | {results['lines']:,} | "
                        f"{stage['read_s']:.1f} | | | {results['lines'] / stage['read_s']:,.0f} |")
    if adv:
        rows.append(f"| advertools logs_to_df (parse to parquet) | {adv['lines']:,} | {adv['wall_s']:.1f} | "
                    f"{adv['cpu_s']:.0f} | {adv['peak_rss_mb']:.0f} | {adv['lines_per_s']:,.0f} |")
        if "parse_s" in adv:
            rows.append(f"| advertools logs_to_df alone (its own timing: its imports left out) | {adv['lines']:,} | "
                        f"{adv['parse_s']:.1f} | | | {adv['lines'] / adv['parse_s']:,.0f} |")
        rows.append("")
        rows += [f"lines/s vs advertools: {name} {part['lines_per_s'] / adv['lines_per_s']:.1f}x"
                 for name, part in (("whole run", ours), ("read stage", stage)) if part]
        if "parse_s" in adv and stage:
            rows.append(f"lines/s vs logs_to_df alone: read stage {stage['lines_per_s'] * adv['parse_s'] / adv['lines']:.1f}x")
            if "read_s" in stage:
                rows.append(f"lines/s, read_logs alone vs logs_to_df alone (both without their imports): "
                            f"{results['lines'] / stage['read_s'] * adv['parse_s'] / adv['lines']:.1f}x")
    if ours and floor:
        rows.append(f"the logs' own cost (whole run - floor): {ours['wall_s'] - floor['wall_s']:.1f} s")
    if "stages" in results:
        peaks = results["stages"]["peaks"]
        rows += ["", "| stage (one process) | wall (s) | peak RSS (MiB) |", "|---|---:|---:|"]
        rows += [f"| {name} | {seconds:.1f} | {peaks.get(name.strip(), 0):,.0f} |"
                 for name, seconds in results["stages"]["stages"]]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--advertools-lines", type=int, default=1_000_000)
    parser.add_argument("--advertools-python", default="/tmp/advenv/bin/python")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--workdir", help="kept between runs: logs and store are generated once")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--prepare", action="store_true",
                        help="only write the logs and the store into --workdir (outside the bench lock)")
    parser.add_argument("--only", type=parts, default=set(PARTS),
                        help=f"a comma-separated subset of {','.join(PARTS)} (all by default), e.g. read,advertools "
                             "while working on the reader")
    parser.add_argument("--results-dir", default=os.path.join(BENCH, "results"))
    args = parser.parse_args(argv)
    results = run(args)
    if args.prepare:
        return 0
    print(table(results))
    os.makedirs(args.results_dir, exist_ok=True)
    with open(os.path.join(args.results_dir, f"logs-{time.strftime('%Y%m%d-%H%M%S')}.json"), "w") as f:
        json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
