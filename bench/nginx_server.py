"""Serve a directory with Debian's nginx on 127.0.0.1 (loopback only), config in a temp dir.

    with NginxServer(site_root, workdir) as srv:
        print(srv.origin)      # http://127.0.0.1:PORT

The server runs in the foreground (daemon off) as our child, in its own process group, and is
stopped on exit of the context, on interpreter exit (atexit) and on SIGTERM/SIGINT of the bench.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

CONF = """\
{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    open_file_cache max=200000 inactive=60s;
    client_body_temp_path {work}/tmp_body;
    proxy_temp_path {work}/tmp_proxy;
    fastcgi_temp_path {work}/tmp_fastcgi;
    uwsgi_temp_path {work}/tmp_uwsgi;
    scgi_temp_path {work}/tmp_scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {root};
        index index.html;
        location / {{ try_files $uri $uri/ =404; }}
    }}
}}
"""


def find_nginx() -> str | None:
    for c in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if c and os.path.exists(c):
            return c
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the process group ``proc`` leads (started with start_new_session), SIGKILL after
    ``grace`` seconds."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


class NginxServer:
    def __init__(self, root: str, workdir: str, port: int | None = None):
        self.root = os.path.abspath(root)
        self.work = os.path.abspath(workdir)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> "NginxServer":
        nginx = find_nginx()
        if not nginx:
            raise RuntimeError("nginx not found: apt-get install -y nginx-light")
        os.makedirs(self.work, exist_ok=True)
        conf = os.path.join(self.work, "nginx.conf")
        user = "user root;" if os.geteuid() == 0 else ""
        with open(conf, "w") as fh:
            fh.write(CONF.format(user=user, work=self.work, port=self.port, root=self.root))
        self._log = open(os.path.join(self.work, "nginx.stderr"), "wb")
        self.proc = subprocess.Popen(
            [nginx, "-p", self.work, "-e", os.path.join(self.work, "error.log"), "-c", conf],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited ({self.proc.returncode}): {self._errors()}")
            try:
                with urllib.request.urlopen(self.origin + "/robots.txt", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not answer on {self.origin}: {self._errors()}")

    def _errors(self) -> str:
        out = []
        for name in ("nginx.stderr", "error.log"):
            try:
                with open(os.path.join(self.work, name), errors="replace") as fh:
                    out.append(fh.read()[-2000:])
            except OSError:
                pass
        return " | ".join(o for o in out if o)

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        try:
            stop_group(p, grace=10)  # fast shutdown of master and worker
        finally:
            try:
                self._log.close()
            except Exception:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
