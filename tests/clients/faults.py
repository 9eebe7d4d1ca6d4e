"""A real HTTP proxy on loopback that fails requests on purpose, in front of a real server.

Each request is forwarded on a connection of its own (so faults fall on requests,
not on whatever a kept-alive connection carried), and a plan picks what happens:

- `pass`: forwarded, answered;
- `refuse`: the connection is dropped before anything reaches the server;
- `lose`: forwarded and committed by the server, but the answer never arrives;
- `stall`: forwarded, and the answer held past the client's timeout, then dropped;
- `twice`: forwarded twice in a row (a duplicated retry), the second answer returned;
- `replay`: forwarded and answered, and sent to the server once more after the
  next request (a stale duplicate arriving out of order).
"""

from __future__ import annotations

import random
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable

FAULTS = ("refuse", "lose", "stall", "twice", "replay")


def random_plan(rng: random.Random, rate: float, paths: tuple[str, ...]) -> Callable[[str], str]:
    """A plan that fails requests to `paths` at `rate`, each fault as likely."""

    def plan(path: str) -> str:
        if path.startswith(paths) and rng.random() < rate:
            return rng.choice(FAULTS)
        return "pass"

    return plan


class FaultyProxy:
    def __init__(self, upstream_port: int, plan: Callable[[str], str], stall_s: float) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.plan = plan
        self.stall_s = stall_s
        self.counts: Counter[str] = Counter()
        self._replays: list[bytes] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, client: socket.socket) -> None:
        request = _read_request(client)
        if request is None:
            return
        path = request.split(b" ", 2)[1].decode()
        with self._lock:
            action = self.plan(path)
            self.counts[action] += 1
            replays, self._replays = self._replays, []
        if action == "refuse":
            client.close()
            return
        answer = self._forward(request)
        if action == "twice":
            answer = self._forward(request)
        for stale in replays:
            self._forward(stale)
        if action == "replay":
            with self._lock:
                self._replays.append(request)
        if action == "lose":
            client.close()
            return
        if action == "stall":
            time.sleep(self.stall_s)
            client.close()
            return
        client.sendall(answer)
        client.close()

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=30) as upstream:
            upstream.sendall(request)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def _read_request(client: socket.socket) -> bytes | None:
    """One HTTP/1.1 request with a Content-Length body, re-headed `Connection: close`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() != b"connection":
            kept.append(line)
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            return None
        body += chunk
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n" + body
