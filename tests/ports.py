"""Ports that stay a test's own from its start to its end: never "free now, bound later".

A port found free (bound to port 0, closed, its number handed on) is anybody's until the bind
that was meant to follow: another test on another xdist worker, another copy of the suite on
the same machine, or any outgoing connection (whose local port comes from the same range) may
take it in between, and a collector killed and restarted on "its" port may find it taken.

A port here is held, for as long as the test runs, by a socket bound to it with SO_REUSEADDR
that never listens. On Linux (where the suite runs), that makes it:

- refused: nobody listens on it, so a connection to it is refused at once (what a test of a
  dead endpoint needs);
- nobody else's: the kernel picks a port that a socket is bound to neither for another bind to
  port 0 nor for an outgoing connection, so no other process is handed it;
- yet open to the test's own server: a socket with SO_REUSEADDR may bind a port whose other
  sockets all have it and none listens, and the servers started on it set it (Python's
  `socket.create_server` under `playersim serve`, `http.server`, Locust's ZeroMQ and gevent);
- and still held between two servers: a collector killed and started again on it finds it free.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def reserved_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port on `host` nobody listens on and no other process is given, until the block ends."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind((host, 0))
        port: int = holder.getsockname()[1]
        yield port
