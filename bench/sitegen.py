"""Deterministic generator of a static site of N linked HTML pages for the crawl benchmark.

Every page is 15-40 KiB of realistic HTML: a head with title, meta description (most pages),
an absolute self canonical, hreflang alternates on a few pages, stylesheet/script/favicon
references; a site-wide nav of 15 links; body text with ~23 in-content links to other pages
(relative, root-relative and absolute forms, a few with fragments), a few images; a footer with
external links and a mailto: link (never fetched by a well-scoped crawler).

Reachability: page i links to its "tree children" 4i+1..4i+4, so a BFS from / reaches every
page within about log4(N) clicks, whatever the random links are. Plus prev/next and random links
(some biased to the first pages, like real "popular" pages).

Pages are generated independently from (seed, i), so generation is deterministic and can be
spread over processes for large N.

    python bench/sitegen.py OUTDIR --pages 20000 --origin http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from multiprocessing import Pool

SECTIONS = 12
BRANCHING = 4
CONTENT_LINKS = 23
N_IMAGES = 40
MIN_BYTES = 15 * 1024
MAX_BYTES = 40 * 1024
SITEMAP_CHUNK = 50_000
EXTERNAL = [
    "https://www.example.com/",
    "https://example.org/partners",
    "https://www.example.net/blog/seo-news",
    "https://social.example.com/share?u=site",
    "https://docs.example.com/guide/",
]
MAILTO = "mailto:info@example.com"

# ---------------------------------------------------------------------------------- text pool

_SYL = ["ka", "lo", "mi", "ne", "ra", "to", "ve", "si", "pu", "da", "gen", "tor", "lin", "mar",
        "sel", "bri", "qua", "fen", "dor", "ix", "um", "an", "el", "or", "is", "ba", "co", "fi"]


def _text_pool(seed: int) -> tuple[list[str], list[str]]:
    """(paragraphs, words): a fixed pool of pseudo-English paragraphs, shared by all pages."""
    rng = random.Random(seed * 7919 + 17)
    words = []
    for _ in range(900):
        words.append("".join(rng.choice(_SYL) for _ in range(rng.randint(1, 4))))
    words += ["the", "and", "of", "to", "a", "in", "for", "with", "on", "is", "shoes", "price",
              "delivery", "size", "colour", "review", "guide", "best", "new", "sale"] * 8
    paras = []
    for _ in range(1200):
        sent = []
        for _ in range(rng.randint(3, 7)):
            w = [rng.choice(words) for _ in range(rng.randint(8, 20))]
            sent.append(" ".join(w).capitalize() + ".")
        paras.append(" ".join(sent))
    return paras, words


_POOL: dict[int, tuple[list[str], list[str]]] = {}


def _pool(seed: int):
    if seed not in _POOL:
        _POOL[seed] = _text_pool(seed)
    return _POOL[seed]


# ------------------------------------------------------------------------------- URL layout

def page_path(i: int) -> str:
    """URL path of page i (0 <= i < N)."""
    if i == 0:
        return "/"
    if i <= SECTIONS:
        return f"/cat-{i}/"
    if i == SECTIONS + 1:
        return "/about.html"
    if i == SECTIONS + 2:
        return "/contact.html"
    return f"/cat-{i % SECTIONS + 1}/item-{i}.html"


def path_to_file(path: str) -> str:
    """File (relative to the site root) that nginx serves for a URL path."""
    p = path.lstrip("/")
    if p == "" or p.endswith("/"):
        p += "index.html"
    return p


def _dir(path: str) -> str:
    return path[: path.rfind("/") + 1]


def _relative(src: str, dst: str) -> str:
    """A relative reference from page path src to page path dst (the way a browser resolves it)."""
    sdir, ddir = _dir(src), _dir(dst)
    name = dst[len(ddir):]
    if sdir == ddir:
        return name or "./"
    if sdir == "/":
        return dst.lstrip("/") or "./"
    # every non-root directory here is one level deep (/cat-k/)
    if ddir == "/":
        return "../" + name if name else "../"
    return "../" + dst.lstrip("/")


def _href(rng: random.Random, src: str, dst: str, origin: str) -> str:
    r = rng.random()
    if r < 0.40:
        h = dst
    elif r < 0.75:
        h = _relative(src, dst)
    else:
        h = origin + dst
    if rng.random() < 0.03:
        h += "#" + rng.choice(["reviews", "details", "top", "specs"])
    return h


# ------------------------------------------------------------------------------- one page

def content_targets(i: int, n: int, rng: random.Random) -> list[int]:
    """Indices of the pages page i links to in its content (children, neighbours, random)."""
    t = [c for c in range(BRANCHING * i + 1, BRANCHING * i + BRANCHING + 1) if c < n]
    if i + 1 < n:
        t.append(i + 1)
    if i > 0:
        t.append(i - 1)
    popular = min(n, 200)
    while len(t) < CONTENT_LINKS:
        t.append(rng.randrange(popular) if rng.random() < 0.3 else rng.randrange(n))
    return t[:CONTENT_LINKS]


def nav_targets(n: int) -> list[int]:
    return [k for k in range(SECTIONS + 3) if k < n]


def _title(i: int, words) -> str:
    if i == 0:
        return "Example Shop - Home"
    if i <= SECTIONS:
        return f"Category {i} - Example Shop"
    if i == SECTIONS + 1:
        return "About us - Example Shop"
    if i == SECTIONS + 2:
        return "Contact - Example Shop"
    return f"{words[i % 900].capitalize()} {words[(i * 7) % 900]} item {i} - Example Shop"


def build_page(i: int, n: int, origin: str, seed: int = 1) -> str:
    paras, words = _pool(seed)
    rng = random.Random(seed * 1_000_003 + i)
    path = page_path(i)
    title = _title(i, words)
    out = ['<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
           '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
           f"<title>{title}</title>\n"]
    if rng.random() < 0.9:
        desc = " ".join(rng.choice(words) for _ in range(rng.randint(12, 24)))
        out.append(f'<meta name="description" content="{desc.capitalize()}.">\n')
    out.append(f'<link rel="canonical" href="{origin}{path}">\n')
    if i % 97 == 0 and n > 1:
        out.append(f'<link rel="alternate" hreflang="en" href="{origin}{path}">\n')
        out.append(f'<link rel="alternate" hreflang="de" href="{origin}{page_path((i + 1) % n)}">\n')
        out.append(f'<link rel="alternate" hreflang="x-default" href="{origin}/">\n')
    out.append('<link rel="stylesheet" href="/static/site.css">\n'
               '<link rel="icon" href="/favicon.ico">\n'
               '<script src="/static/vendor.js" defer></script>\n'
               '<script src="/static/app.js" defer></script>\n</head>\n<body>\n')
    # nav: root-relative, like most site templates
    out.append('<header><a class="logo" href="/">Example Shop</a></header>\n<nav><ul>\n')
    for k in nav_targets(n):
        p = page_path(k)
        label = "Home" if k == 0 else _title(k, words).split(" - ")[0]
        out.append(f'<li><a href="{p}">{label}</a></li>\n')
    out.append("</ul></nav>\n<main>\n")
    out.append(f"<h1>{title.split(' - ')[0]}</h1>\n")
    target_size = rng.randint(MIN_BYTES + 512, MAX_BYTES - 1500)
    # images
    for _ in range(rng.randint(2, 4)):
        img = rng.randrange(N_IMAGES)
        src = f"/img/photo-{img:02d}.jpg" if rng.random() < 0.7 else f"{origin}/img/photo-{img:02d}.jpg"
        out.append(f'<img src="{src}" alt="{rng.choice(words)}" width="400" height="300">\n')
    # content: links spread over paragraphs, then a related list
    targets = content_targets(i, n, rng)
    in_text, related = targets[:15], targets[15:]
    size = sum(len(s) for s in out)
    for t in in_text:
        para = rng.choice(paras)
        cut = rng.randrange(len(para) // 2, len(para))
        cut = para.rfind(" ", 0, cut) + 1 or cut
        a = f'<a href="{_href(rng, path, page_path(t), origin)}">{rng.choice(words)} {rng.choice(words)}</a>'
        s = f"<p>{para[:cut]}{a} {para[cut:]}</p>\n"
        if size + len(s) > target_size - 1200:  # keep room: links matter more than padding
            s = f"<p>{a}</p>\n"
        out.append(s)
        size += len(s)
    out.append('<section class="related"><h2>Related</h2><ul>\n')
    for t in related:
        s = f'<li><a href="{_href(rng, path, page_path(t), origin)}">{_title(t, words).split(" - ")[0]}</a></li>\n'
        out.append(s)
        size += len(s)
    out.append("</ul></section>\n")
    while size < target_size - 900:
        s = f"<p>{rng.choice(paras)}</p>\n"
        if size + len(s) > target_size:
            s = s[: max(0, target_size - size - 12)].rsplit(" ", 1)[0] + "</p>\n"
            if not s.startswith("<p>"):
                break
        out.append(s)
        size += len(s)
    out.append("</main>\n<footer>\n")
    for ext in rng.sample(EXTERNAL, 2):
        out.append(f'<a href="{ext}" rel="nofollow">{ext.split("/")[2]}</a>\n')
    out.append(f'<a href="{MAILTO}">Email us</a>\n</footer>\n</body>\n</html>\n')
    return "".join(out)


# ------------------------------------------------------------------------------- whole site

def _write_range(args) -> int:
    root, lo, hi, n, origin, seed = args
    total = 0
    for i in range(lo, hi):
        html = build_page(i, n, origin, seed).encode()
        f = os.path.join(root, path_to_file(page_path(i)))
        try:
            with open(f, "wb") as fh:
                fh.write(html)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(f), exist_ok=True)
            with open(f, "wb") as fh:
                fh.write(html)
        total += len(html)
    return total


def _write_static(root: str, n: int, origin: str) -> None:
    os.makedirs(os.path.join(root, "static"), exist_ok=True)
    os.makedirs(os.path.join(root, "img"), exist_ok=True)
    for k in range(1, SECTIONS + 1):
        os.makedirs(os.path.join(root, f"cat-{k}"), exist_ok=True)
    with open(os.path.join(root, "static/site.css"), "w") as fh:
        fh.write("body{font-family:sans-serif;max-width:60em;margin:auto}\n" * 40)
    for js in ("app.js", "vendor.js"):
        with open(os.path.join(root, "static", js), "w") as fh:
            fh.write("(function(){var x=1;})();\n" * 60)
    with open(os.path.join(root, "favicon.ico"), "wb") as fh:
        fh.write(b"\x00\x00\x01\x00" + b"\x00" * 314)
    jpg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
    for k in range(N_IMAGES):
        with open(os.path.join(root, f"img/photo-{k:02d}.jpg"), "wb") as fh:
            fh.write(jpg)
    with open(os.path.join(root, "robots.txt"), "w") as fh:
        fh.write(f"User-agent: *\nDisallow: /private/\n\nSitemap: {origin}/sitemap.xml\n")
    # sitemap(s): an index when N exceeds the 50,000-URL limit of one sitemap
    urls = [origin + page_path(i) for i in range(n)]
    chunks = [urls[k:k + SITEMAP_CHUNK] for k in range(0, len(urls), SITEMAP_CHUNK)]

    def urlset(us):
        body = "".join(f"<url><loc>{u}</loc><lastmod>2024-05-01</lastmod></url>\n" for u in us)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + body + "</urlset>\n")

    if len(chunks) == 1:
        with open(os.path.join(root, "sitemap.xml"), "w") as fh:
            fh.write(urlset(chunks[0]))
    else:
        idx = []
        for k, us in enumerate(chunks, 1):
            with open(os.path.join(root, f"sitemap-{k}.xml"), "w") as fh:
                fh.write(urlset(us))
            idx.append(f"<sitemap><loc>{origin}/sitemap-{k}.xml</loc></sitemap>\n")
        with open(os.path.join(root, "sitemap.xml"), "w") as fh:
            fh.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                     + "".join(idx) + "</sitemapindex>\n")


def generate_site(root: str, n: int, origin: str, seed: int = 1, workers: int | None = None) -> dict:
    """Write the site into root. origin is scheme://host:port used in absolute links."""
    if n < 1:
        raise ValueError("n must be >= 1")
    origin = origin.rstrip("/")
    os.makedirs(root, exist_ok=True)
    _write_static(root, n, origin)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if n >= 5000 else 1
    step = max(1, min(2000, n // max(1, workers * 4) or 1))
    jobs = [(root, lo, min(n, lo + step), n, origin, seed) for lo in range(0, n, step)]
    if workers > 1:
        # close + join, not the context manager's terminate(): terminating a worker that waits
        # on the task queue's lock once left its sibling blocked forever on a loaded machine
        pool = Pool(workers)
        try:
            total = sum(pool.map(_write_range, jobs))
        finally:
            pool.close()
            pool.join()
    else:
        total = sum(map(_write_range, jobs))
    return {"pages": n, "html_bytes": total, "root": root, "origin": origin, "seed": seed}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--pages", type=int, default=20000)
    ap.add_argument("--origin", default="http://127.0.0.1:8080")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    st = generate_site(a.outdir, a.pages, a.origin, a.seed)
    print(f"{st['pages']} pages, {st['html_bytes'] / 1e6:.1f} MB of HTML in {a.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
