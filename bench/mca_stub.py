"""The cheapest HTTP/1.1 server that answers like the MCA, for bench/http_client.py.

`python bench/mca_stub.py PORT`: keep-alive connections; a POST to `/api/v1/sessions` gets a 201
with a fresh session's `Location`, any other POST a 204. It checks nothing, so a client sending to
it is measured, not the server: a client bench against `playersim serve` measures the collector.
"""

from __future__ import annotations

import asyncio
import itertools
import sys

_SESSIONS = b"/api/v1/sessions "


class _Stub(asyncio.Protocol):
    sids = itertools.count()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return  # the body is still on its way
            self.buffer = self.buffer[end + 4 + length :]
            if head.startswith(b"POST " + _SESSIONS):
                sid = b"%064x" % next(self.sids)
                self.transport.write(
                    b"HTTP/1.1 201 Created\r\nLocation: /api/v1/sessions/" + sid
                    + b"\r\nContent-Length: 0\r\n\r\n"
                )  # fmt: skip
            else:
                self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")


async def _serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Stub, "127.0.0.1", port)
    print(f"listening on http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
