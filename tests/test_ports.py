"""tests/ports.py: the kernel's rules the suite's reserved ports rely on, checked where it runs."""

from __future__ import annotations

import socket

import pytest


def test_a_reserved_port_refuses_connections_and_no_other_socket_binds_it(port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
    with socket.socket() as other, pytest.raises(OSError, match="in use"):
        other.bind(("127.0.0.1", port))  # (without SO_REUSEADDR: not a server of the test)


def test_a_server_listens_on_a_reserved_port_and_again_after_it_closed(port: int) -> None:
    """A collector killed and started again on its port: the second bind finds it, as the
    first did, and each serves."""
    for _ in range(2):
        with (
            socket.create_server(("127.0.0.1", port)) as server,
            socket.create_connection(("127.0.0.1", port), timeout=10) as client,
        ):
            accepted, _ = server.accept()
            client.sendall(b"x")
            assert accepted.recv(1) == b"x"
            accepted.close()
    with pytest.raises(ConnectionRefusedError):  # and nobody listens once it is gone
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
