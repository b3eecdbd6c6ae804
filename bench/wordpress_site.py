"""A real WordPress blog on loopback: Debian's `wordpress` and `mariadb-server` packages, a private
MariaDB datadir and a private document root, served by PHP's built-in server with WordPress as its
router. Nothing is written outside the work directory; everything stops and is removed on exit.

    with WordPressSite(workdir, posts=300) as site:
        print(site.origin)           # http://127.0.0.1:PORT
        site.manifest["posts"]       # the permalink of every published post (and "pages")

    python bench/wordpress_site.py --posts 300       # serve one until Ctrl-C

Needs: apt-get install -y wordpress mariadb-server wordpress-theme-twentytwentyone php-cli php-mysql
php-xml
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from nginx_server import free_port, stop_group

WORDPRESS = "/usr/share/wordpress"
THEME = f"{WORDPRESS}/wp-content/themes/twentytwentyone"
HERE = os.path.dirname(os.path.abspath(__file__))
#: the Debian packages the site needs, as `.ci/run` installs them
PACKAGES = ("wordpress", "mariadb-server", "wordpress-theme-twentytwentyone", "php-cli", "php-mysql",
            "php-xml")
#: PHP's built-in server handles one request per worker process
PHP_WORKERS = 4

ROUTER = """<?php
// PHP's built-in server: existing files as they are (WordPress's own .php entry points run),
// everything else through index.php, as WordPress's rewrite rules do under Apache or nginx.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?: '/';
if ($path !== '/' && strpos($path, '..') === false && is_file(__DIR__ . urldecode($path))) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = __DIR__ . '/index.php';
require __DIR__ . '/index.php';
"""

CONFIG = """<?php
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '127.0.0.1:{db_port}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{keys}
define('WP_HOME', '{origin}');
define('WP_SITEURL', '{origin}');
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
$table_prefix = 'wp_';
if (!defined('ABSPATH')) {{
    define('ABSPATH', __DIR__ . '/');
}}
require_once ABSPATH . 'wp-settings.php';
"""


def missing_packages() -> list[str]:
    """The Debian packages (of PACKAGES) this machine lacks."""
    probes = {"wordpress": f"{WORDPRESS}/wp-settings.php", "mariadb-server": "/usr/sbin/mariadbd",
              "wordpress-theme-twentytwentyone": f"{THEME}/style.css"}
    missing = [name for name, path in probes.items() if not os.path.exists(path)]
    if not shutil.which("php"):
        return [*missing, "php-cli", "php-mysql", "php-xml"]
    modules = subprocess.run(["php", "-m"], capture_output=True, text=True).stdout.split()
    # WordPress talks to MariaDB through mysqli; its sitemaps need SimpleXML
    return missing + [package for package, module in (("php-mysql", "mysqli"), ("php-xml", "SimpleXML"))
                      if module not in modules]


class WordPressSite:
    def __init__(self, workdir: str | None = None, posts: int = 300, seed: int = 1):
        self._own_workdir = workdir is None
        self.work = os.path.abspath(workdir or tempfile.mkdtemp(prefix="wordpress-site-"))
        self.posts, self.seed = posts, seed
        self.db_port, self.port = free_port(), free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.manifest: dict[str, list[str]] = {}
        self._procs: list[subprocess.Popen] = []

    # --- lifecycle ------------------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> "WordPressSite":
        missing = missing_packages()
        if missing:
            raise RuntimeError(f"missing Debian packages: {' '.join(missing)} "
                               f"(apt-get install -y {' '.join(PACKAGES)})")
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        try:
            self._start_mariadb(deadline)
            self._docroot()
            self._install()
            self._serve(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for proc in reversed(self._procs):  # the web server, then MariaDB (it flushes on SIGTERM)
            if proc.poll() is None:
                stop_group(proc, grace=20)
        self._procs.clear()
        if self._own_workdir:
            shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> "WordPressSite":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- parts ----------------------------------------------------------------------------
    def _spawn(self, args: list[str], log: str, env: dict | None = None) -> subprocess.Popen:
        out = open(os.path.join(self.work, log), "ab")
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **(env or {})})
        out.close()
        self._procs.append(proc)
        return proc

    def _log_tail(self, log: str) -> str:
        try:
            with open(os.path.join(self.work, log), errors="replace") as fh:
                return fh.read()[-2000:]
        except OSError:
            return ""

    def _start_mariadb(self, deadline: float) -> None:
        data, sock = os.path.join(self.work, "mysql"), os.path.join(self.work, "mysql.sock")
        user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", *user,
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=max(1.0, deadline - time.monotonic()))
        proc = self._spawn(["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}", *user,
                            f"--socket={sock}", f"--port={self.db_port}", "--bind-address=127.0.0.1",
                            f"--pid-file={self.work}/mysql.pid", "--skip-log-bin",
                            "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
                            "--innodb-flush-log-at-trx-commit=0", "--skip-name-resolve"], "mariadb.log")
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"mariadbd exited: {self._log_tail('mariadb.log')}")
            done = subprocess.run(["mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "-e",
                                   "CREATE DATABASE IF NOT EXISTS wordpress"], capture_output=True)
            if done.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"mariadbd did not answer: {self._log_tail('mariadb.log')}")

    def _docroot(self) -> None:
        """WordPress's entry points copied, its code linked, its content and configuration ours:
        Debian's own wp-config.php would read /etc/wordpress."""
        root = self.root = os.path.join(self.work, "www")
        os.makedirs(os.path.join(root, "wp-content", "plugins"))
        os.makedirs(os.path.join(root, "wp-content", "themes"))
        os.makedirs(os.path.join(root, "wp-content", "uploads"))
        for name in os.listdir(WORDPRESS):
            if name.endswith(".php") and name != "wp-config.php":
                shutil.copy(os.path.join(WORDPRESS, name), root)
        for name in ("wp-admin", "wp-includes"):
            os.symlink(os.path.join(WORDPRESS, name), os.path.join(root, name))
        os.symlink(THEME, os.path.join(root, "wp-content", "themes", "twentytwentyone"))
        keys = "\n".join(f"define('{k}', '{secrets.token_hex(24)}');" for k in (
            "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT",
            "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
        with open(os.path.join(root, "wp-config.php"), "w") as fh:
            fh.write(CONFIG.format(db_port=self.db_port, keys=keys, origin=self.origin))
        with open(os.path.join(root, "router.php"), "w") as fh:
            fh.write(ROUTER)

    def _install(self) -> None:
        done = subprocess.run(["php", "-d", "memory_limit=512M", os.path.join(HERE, "wp_content.php"),
                               self.root, self.origin, str(self.posts), str(self.seed)],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"WordPress install failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        self.manifest = json.loads(done.stdout[done.stdout.index("{"):])

    def _serve(self, deadline: float) -> None:
        proc = self._spawn(["php", "-d", "opcache.enable_cli=1", "-d", "memory_limit=256M",
                            "-S", f"127.0.0.1:{self.port}", "-t", self.root,
                            os.path.join(self.root, "router.php")], "php-server.log",
                           env={"PHP_CLI_SERVER_WORKERS": str(PHP_WORKERS)})
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"php -S exited: {self._log_tail('php-server.log')}")
            try:
                with urllib.request.urlopen(self.origin + "/robots.txt", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise RuntimeError(f"WordPress did not answer on {self.origin}: {self._log_tail('php-server.log')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with WordPressSite(posts=args.posts, seed=args.seed) as site:
        print(f"WordPress at {site.origin}/ ({len(site.manifest['posts'])} posts, "
              f"{len(site.manifest['pages'])} pages); Ctrl-C stops it", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
