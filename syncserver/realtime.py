"""Realtime pokes (docs/protocol.md, "Realtime"): one LISTEN connection per server process.

Pushes (and conflict resolutions, and user changes) NOTIFY inside their
transaction (syncserver/storage/pokes.py), whichever process or machine
handles them. The hub of each process gathers what it hears and, every
`TICK` seconds:

- waits until the announced positions are final (below the pull's `safe`
  bound), so that a poked client's pull finds the change;
- works out, in one query, which technicians and service providers may care;
- offers the highest position to each socket of an interested user (admins
  and dispatchers care about everything).

Each socket sends from its own task, at most one poke per `MIN_INTERVAL`
carrying the latest version, so pokes coalesce under load, and a slow or dead
socket only ever delays itself: pushes never wait for sockets. If the LISTEN
connection drops, the hub reconnects and pokes every socket once, since it may
have missed something; clients pull on every (re)connect anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.websockets import WebSocket

from changelog import pokes
from schema.errors import Unauthorized
from schema.rights import SEES_EVERYTHING, Principal
from syncserver.auth import Authenticator
from syncserver.background import every
from syncserver.metrics import Metrics

log = logging.getLogger("syncserver.realtime")

TICK = 0.1
RECHECK = 30.0  # seconds between checks of every socket's token (expiry)
MIN_INTERVAL = 0.5
SEND_TIMEOUT = 5.0
_poke = msgspec.json.Encoder()


class Poke(msgspec.Struct, kw_only=True):
    type: str = "poke"
    version: int


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    token: str
    websocket: WebSocket
    on_poke: Callable[[], None] = lambda: None
    pending: int | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, version: int) -> None:
        self.pending = version if self.pending is None else max(self.pending, version)
        self.wake.set()

    async def send_loop(self) -> None:
        """Send the latest offered version, at most once per MIN_INTERVAL."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            version, self.pending = self.pending, None
            if version is None:
                continue
            message = _poke.encode(Poke(version=version)).decode()
            async with asyncio.timeout(SEND_TIMEOUT):
                await self.websocket.send_text(message)
            self.on_poke()
            await asyncio.sleep(MIN_INTERVAL)


@dataclass
class _Heard:
    lo: int | None = None
    hi: int = 0
    users: set[str] = field(default_factory=set)
    everyone: bool = False


class Hub:
    def __init__(
        self, engine: AsyncEngine, database_url: str, auth: Authenticator, metrics: Metrics
    ) -> None:
        self._engine = engine
        self._metrics = metrics
        self._url = database_url
        self._auth = auth
        self._subscribers: dict[Subscriber, asyncio.Task[None]] = {}
        self._heard = _Heard()
        self._tasks: list[asyncio.Task[None]] = []
        self._latest = 0

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen()),
            asyncio.create_task(every(TICK, self._deliver, "realtime delivery")),
            asyncio.create_task(every(RECHECK, self._recheck, "realtime token check")),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for subscriber, task in list(self._subscribers.items()):
            task.cancel()
            with contextlib.suppress(Exception):
                await subscriber.websocket.close(1001, "server shutting down")
        for task in [*self._tasks, *self._subscribers.values()]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._subscribers.clear()

    def add(self, principal: Principal, token: str, websocket: WebSocket) -> Subscriber:
        subscriber = Subscriber(principal, token, websocket, on_poke=self._metrics.pokes.inc)
        task = asyncio.create_task(self._run(subscriber))
        self._subscribers[subscriber] = task
        self._metrics.sockets.set(len(self._subscribers))
        return subscriber

    def remove(self, subscriber: Subscriber) -> None:
        task = self._subscribers.pop(subscriber, None)
        if task is not None:
            task.cancel()
        self._metrics.sockets.set(len(self._subscribers))

    @property
    def sockets(self) -> int:
        return len(self._subscribers)

    async def _run(self, subscriber: Subscriber) -> None:
        try:
            await subscriber.send_loop()
        except (TimeoutError, OSError, RuntimeError) as exc:
            # Too slow, or gone: close it; the client reconnects and pulls.
            log.info("dropping socket of %s: %r", subscriber.principal.user_id, exc)
            self._subscribers.pop(subscriber, None)
            with contextlib.suppress(Exception):
                await subscriber.websocket.close(1011, "poke not delivered")

    async def _listen(self) -> None:
        delay = 0.5
        listened_before = False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {pokes.CHANNEL}")
                    # Listening again: whatever happened meanwhile went unheard.
                    self._heard.everyone = self._heard.everyone or listened_before
                    listened_before = True
                    delay = 0.5
                    async for notify in conn.notifies():
                        self._hear(notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: listen again
                log.warning("realtime listener lost its connection: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    def _hear(self, payload: str) -> None:
        try:
            heard = msgspec.json.decode(payload, type=pokes.Announcement)
        except msgspec.DecodeError:
            return
        if heard.hi:
            lo = heard.lo - 1
            self._heard.lo = lo if self._heard.lo is None else min(self._heard.lo, lo)
            self._heard.hi = max(self._heard.hi, heard.hi)
        self._heard.users.update(heard.users)

    async def _recheck(self, users: set[str] | None = None) -> None:
        """Check again the tokens of these users' sockets (all sockets: None). A socket
        whose token no longer works closes with 1008; one whose user changed role or
        areas goes on with the new ones."""
        for subscriber in list(self._subscribers):
            if users is not None and subscriber.principal.user_id not in users:
                continue
            try:
                subscriber.principal = await self._auth.principal(subscriber.token)
            except Unauthorized:
                self.remove(subscriber)
                with contextlib.suppress(Exception):
                    await subscriber.websocket.close(1008, "token no longer valid")

    def _keep(self, heard: _Heard) -> None:
        """Put back what could not be delivered yet, beside what was heard since."""
        now = self._heard
        if heard.lo is not None:
            now.lo = heard.lo if now.lo is None else min(now.lo, heard.lo)
            now.hi = max(now.hi, heard.hi)
        now.users |= heard.users
        now.everyone = now.everyone or heard.everyone

    async def _deliver(self) -> None:
        heard, self._heard = self._heard, _Heard()
        if heard.lo is None and not heard.users and not heard.everyone:
            return
        if not self._subscribers:
            return
        interested: set[str] = set()
        try:
            async with self._engine.connect() as conn:
                safe = await pokes.safe_position(conn)
                if heard.everyone:
                    # Listening again after a gap: say "pull" with what is final now.
                    self._latest = max(self._latest, safe - 1)
                if heard.lo is not None:
                    if safe <= heard.hi:
                        self._keep(heard)  # not final yet: a pull would not serve it
                        return
                    if any(s.principal.role not in SEES_EVERYTHING for s in self._subscribers):
                        interested = await pokes.interested_users(conn, heard.lo, heard.hi)
        except BaseException:
            self._keep(heard)
            raise
        self._latest = max(self._latest, heard.hi)
        if heard.users:
            await self._recheck(heard.users)
        interested |= heard.users
        for subscriber in self._subscribers:
            who = subscriber.principal
            if heard.everyone or who.role in SEES_EVERYTHING or who.user_id in interested:
                subscriber.offer(self._latest)
