"""Timings are the server's: ``ttfb`` by the kernel's clocks, judged by slow-response, and a
comparison that does not call noise a regression."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from audit.rules import RULES_BY_ID
from crawler.timing import server_wait
from tests.rule_frames import make_crawl, page, u


def slow(crawl) -> dict[str, str]:
    hits = RULES_BY_ID["slow-response"].run(crawl)
    return dict(zip(hits["url"], hits["evidence"]))


@pytest.mark.parametrize("facts, evidence", [
    (dict(ttfb=1.5, response_time=1.6), "1.5 s to first byte"),
    (dict(ttfb=None, response_time=2.5), "2.5 s to respond"),  # a crawl stored before ttfb
])
def test_slow_response_judges_the_time_to_first_byte_else_the_latency(facts, evidence):
    assert slow(make_crawl(pages=[page("/slow", **facts)])) == {u("/slow"): evidence}


def test_a_busy_crawler_is_not_a_slow_server():
    # the latency counts our own event loop's lag; the server answered in 20 ms
    assert slow(make_crawl(pages=[page("/index", ttfb=0.02, response_time=5.7)])) == {}


def test_server_wait_is_the_kernels_time_from_request_to_answer():
    """A real TCP connection on loopback: the server waits 0.3 s before answering, then this
    thread sleeps 0.5 s before reading (a busy crawler): the figure is the server's 0.3 s."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(100)
            time.sleep(0.3)
            conn.sendall(b"answer")
            conn.recv(100)  # until the client closes

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    with socket.create_connection(listener.getsockname(), timeout=5) as client:
        client.sendall(b"request")
        time.sleep(0.8)  # the answer arrived 0.5 s ago
        assert client.recv(100) == b"answer"
        wait = server_wait(client)
    server.join(5)
    listener.close()
    assert wait is not None and 0.28 <= wait <= 0.45, wait
