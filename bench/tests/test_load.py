"""The benchmarks' load generator: wrk, each request a path drawn from the list, figures read
back from its Lua done() (run with `pytest bench/tests`; needs wrk)."""

import http.client
import os
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.load import WRK, lua_script, wrk

pytestmark = pytest.mark.skipif(WRK is None, reason="wrk is not installed")


class Ward:
    """A loopback HTTP server that counts the paths and bearer tokens it was asked for, and
    answers 404 to /missing; with the .port, .get() and .pids() that wrk() reads."""

    def __init__(self):
        self.seen: Counter = Counter()
        ward = self

        class Answer(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                ward.seen[(self.path, self.headers.get("Authorization"))] += 1
                self.send_response(404 if self.path == "/missing" else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        self.httpd.handle_error = lambda request, address: None  # wrk hangs up at the end
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def get(self, path, headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    def pids(self):
        return [os.getpid()]


@pytest.fixture
def ward():
    server = Ward()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_each_request_is_one_of_the_paths_drawn_at_random(ward):
    paths = ["/fhir/R4/Patient/1", "/fhir/R4/Patient/2", "/fhir/R4/Patient?family=Sm%C3%ADt"]
    figures = wrk(ward, paths, {"Authorization": "Bearer t0ken"}, seconds=1, connections=4)
    ward.seen[(paths[0], "Bearer t0ken")] -= 1  # the check before the run
    assert {path for path, _ in ward.seen} == set(paths)
    assert {token for _, token in ward.seen} == {"Bearer t0ken"}
    assert min(ward.seen.values()) > figures["requests"] / 10  # all drawn, none favoured
    assert 0 < figures["requests"] <= sum(ward.seen.values())
    assert figures["errors"] == figures["timeouts"] == 0
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert figures["rps"] > 0 and figures["generator_ms"] >= 0


def test_one_path_is_sent_as_it_is(ward):
    figures = wrk(ward, ["/bench/bare/"], {"Cookie": "sessionid=x"}, seconds=1, connections=2)
    assert set(ward.seen) == {("/bench/bare/", None)}
    assert figures["requests"] > 0 and figures["errors"] == 0
    assert "function request" not in lua_script(["/bench/bare/"])


def test_answers_that_are_not_2xx_are_counted_as_errors(ward):
    figures = wrk(ward, ["/ok", "/missing"], {}, seconds=1, connections=2)
    assert 0 < figures["errors"] < figures["requests"]
    missing = sum(n for (path, _), n in ward.seen.items() if path == "/missing")
    assert missing - 8 <= figures["errors"] <= missing  # not those still on the way at the end


def test_a_page_that_fails_before_the_run_stops_the_bench(ward):
    with pytest.raises(SystemExit, match="answered 404"):
        wrk(ward, ["/missing"], {}, seconds=1, connections=2)


def test_paths_that_would_break_the_lua_script_are_refused():
    with pytest.raises(ValueError):
        lua_script(["/a", "/b]==]os.exit()"])
    with pytest.raises(ValueError):
        lua_script(["/a", "/b\n/c"])
