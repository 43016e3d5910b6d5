"""A small real HTTP server in front of a `Collector`, for tests that need sockets.

It listens on 127.0.0.1 on a free port, in a background thread, and answers as the MCA does
(status, `Location`, CORS headers, `{"message": ...}` on errors). The full `playersim serve` is a
product of its own; this is just enough wire for integration tests of the HTTP transport.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playersim import Collector

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "OPTIONS,POST,PUT",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Expose-Headers": "Location",
}


def _handler(collector: Collector, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real clients expect

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with lock:
                response = collector.handle(method, self.path, raw)
            payload = b""
            if response.message is not None:
                payload = json.dumps({"message": response.message}).encode()
            self.send_response(response.status)
            for name, value in CORS.items():
                self.send_header(name, value)
            if response.location:
                self.send_header("Location", response.location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            self._answer("POST")

        def do_GET(self) -> None:
            self._answer("GET")

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return Handler


class _Server(ThreadingHTTPServer):
    # The stdlib default backlog of 5 resets connections when many sessions connect at once.
    request_queue_size = 256


@contextmanager
def serve(collector: Collector) -> Iterator[str]:
    """Serve `collector` on 127.0.0.1 on a free port; yield the base URL; stop on exit."""
    server = _Server(("127.0.0.1", 0), _handler(collector, threading.Lock()))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="mca-test-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
