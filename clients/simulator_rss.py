"""The server's memory during a simulation: the peak RSS of the process listening on the
URL's port, with its worker processes, when that is on this machine."""

from __future__ import annotations

import importlib
import ipaddress
import threading
from typing import Any
from urllib.parse import urlsplit


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RssSampler:
    """Samples, every 0.5 s, the RSS of the server listening on the URL's port (with
    its worker processes; PostgreSQL processes left out), when that is this machine."""

    def __init__(self, url: str) -> None:
        self.peak_bytes = 0
        self.found = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._roots: list[Any] = []
        if is_loopback(url):
            port = urlsplit(url).port or (443 if url.startswith("https") else 80)
            self._roots = _listening_processes(port)
            self.found = bool(self._roots)

    def start(self) -> None:
        if self.found:
            self.sample()
            self._thread = threading.Thread(target=self._run, name="rss", daemon=True)
            self._thread.start()

    def stop(self) -> float | None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return round(self.peak_bytes / 2**20, 1) if self.found else None

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def sample(self) -> None:
        psutil = _psutil()

        total = 0
        seen: set[int] = set()
        for root in self._roots:
            try:
                family = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for p in family:
                try:
                    if p.pid in seen or "postgres" in (p.name() or ""):
                        continue
                    seen.add(p.pid)
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        self.peak_bytes = max(self.peak_bytes, total)


def _listening_processes(port: int) -> list[Any]:
    """The server: the processes listening on that TCP port, each taken up to its
    oldest ancestor that listens on it too (a worker's supervisor: the kernel names
    one holder per socket, which may be any worker sharing it)."""
    psutil = _psutil()

    def listens(p: Any) -> bool:
        try:
            return any(
                c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
                for c in p.net_connections(kind="tcp")
            )
        except psutil.Error:
            return False

    pids: set[int] = set()
    try:
        for conn in psutil.net_connections(kind="tcp"):
            listening = conn.status == psutil.CONN_LISTEN and conn.laddr
            if listening and conn.laddr.port == port and conn.pid:
                pids.add(conn.pid)
    except psutil.Error:
        pass
    if not pids:  # no right to see every socket: look process by process
        pids = {p.pid for p in psutil.process_iter() if listens(p)}
    roots: dict[int, Any] = {}
    for pid in pids:
        try:
            p = psutil.Process(pid)
            while (parent := p.parent()) is not None and listens(parent):
                p = parent
            roots[p.pid] = p
        except psutil.Error:
            pass
    return list(roots.values())


def _psutil() -> Any:
    return importlib.import_module("psutil")  # untyped: no stubs installed
