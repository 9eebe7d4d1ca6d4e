"""The `syncserver` command: serve, rebuild, simulate."""

from __future__ import annotations

import asyncio
import atexit
import logging
import logging.config
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import msgspec
import uvicorn
from sqlalchemy.exc import OperationalError

from schema.migrate import migrate
from syncserver.auth import bootstrap_admin
from syncserver.config import Settings, settings_from_env
from syncserver.db import create_engine, database_url, serving_connections
from syncserver.logs import log_config
from syncserver.metrics import MULTIPROC_DIR

if TYPE_CHECKING:
    from syncserver.demo import DemoUser

T = TypeVar("T")


async def _prepare(settings: Settings, demo: bool) -> list[DemoUser]:
    """Migrate, make sure the admin token exists (printing it if new), seed the demo.
    Returns the demo users with fresh tokens (none without `demo`)."""
    engine = create_engine(database_url(settings), pool_size=2)
    try:
        await migrate(engine)
        _hash, generated = await bootstrap_admin(engine, settings.admin_token)
        if generated:
            click.echo(f"Generated admin token (shown once, keep it): {generated}")
        if not demo:
            return []
        from syncserver.demo import seed_demo
        from syncserver.photos import open_blob_store

        return await seed_demo(engine, await open_blob_store(engine, settings))
    finally:
        await engine.dispose()


def _web_app_url(settings: Settings) -> str:
    """Where a browser on this machine finds the web app."""
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/ui"
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/ui"


def _print_demo_users(settings: Settings, users: list[DemoUser]) -> None:
    click.echo(
        f"Open the web app at {_web_app_url(settings)} and sign in with one of these tokens:"
    )
    for user in users:
        click.echo(f"Demo {user.role} {user.name}: token {user.token}")


def _settings(**overrides: object) -> Settings:
    try:
        return settings_from_env(None, **overrides)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _resolved(settings: Settings) -> Settings:
    """Settings with the database URL filled in, starting the embedded server if needed."""
    try:
        url = database_url(settings)
    except Exception as exc:  # the embedded server failed to start: say why, no traceback
        raise click.ClickException(f"could not start the embedded PostgreSQL: {exc}") from exc
    return msgspec.structs.replace(settings, database_url=url)


def _run_clean(coro: Coroutine[Any, Any, T]) -> T:
    """Run a start-up step; a database that cannot be reached is a message, not a traceback."""
    try:
        return asyncio.run(coro)
    except (OperationalError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(f"cannot reach the database: {reason}") from None


def _check_port(host: str, port: int) -> None:
    """Fail before anything says "listening" when the port cannot be had: a port in
    use is a one-line error, not a start that fails after announcing itself."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _exit_cleanly(signum: int, frame: object) -> None:
    sys.exit(0)


@click.group()
def main() -> None:
    """Fieldsync sync server."""


def _uvicorn_logging(settings: Settings) -> dict[str, Any]:
    """JSON lines for uvicorn's own logs too; its access log is off (it writes query
    strings, where tokens travel: syncserver/edge.py logs each request instead), and
    answers carry no `server` banner."""
    return {
        "log_config": log_config(settings.log_level),
        "log_level": settings.log_level,
        "access_log": False,
        "server_header": False,
    }


@main.command()
@click.option("--host", default=None, help="Interface to listen on [127.0.0.1].")
@click.option("--port", type=int, default=None, help="TCP port [8787].")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker processes [1].")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Data directory for the embedded PostgreSQL and blobs [./.syncserver].",
)
@click.option(
    "--demo", is_flag=True, help="Seed a demo week of jobs; print the web app address and tokens."
)
def serve(
    host: str | None, port: int | None, workers: int | None, data_dir: Path | None, demo: bool
) -> None:
    """Serve the sync API (docs/protocol.md, "Running the server")."""
    settings = _resolved(_settings(host=host, port=port, workers=workers, data_dir=data_dir))
    logging.config.dictConfig(log_config(settings.log_level))
    demo_users = _run_clean(_prepare(settings, demo))
    _check_port(settings.host, settings.port)
    admin_hint = "$SYNCSERVER_ADMIN_TOKEN" if settings.admin_token else "the admin token"
    click.echo(
        f"Fieldsync listening on http://{settings.host}:{settings.port} "
        f"(try: curl -H 'Authorization: Bearer <{admin_hint}>' "
        f"http://{settings.host}:{settings.port}/api/jobs)"
    )
    if demo_users:
        _print_demo_users(settings, demo_users)
    # uvicorn drains in-flight requests on SIGINT/SIGTERM, restores the previous
    # handlers and raises the signal again: make that previous handler a clean exit 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_cleanly)
    # Before any worker imports prometheus-client: each writes its samples here and
    # /metrics in any of them sums them all (syncserver/metrics.py).
    metrics_dir = tempfile.mkdtemp(prefix="fieldsync-metrics-")
    atexit.register(shutil.rmtree, metrics_dir, ignore_errors=True)
    os.environ[MULTIPROC_DIR] = metrics_dir
    if settings.workers == 1:
        from syncserver.app import create_app

        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            timeout_graceful_shutdown=10,
            **_uvicorn_logging(settings),
        )
        return
    os.environ["DATABASE_URL"] = settings.database_url or ""
    uvicorn.run(
        "syncserver.asgi:app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        timeout_graceful_shutdown=10,
        **_uvicorn_logging(settings),
    )


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Data directory of the embedded PostgreSQL [./.syncserver].",
)
def rebuild(data_dir: Path | None) -> None:
    """Drop and recompute every projection and notice from the device logs (server stopped)."""
    from changelog.rebuild import rebuild as run_rebuild

    settings = _settings(data_dir=data_dir)
    if not settings.database_url and not (Path(settings.data_dir) / "pg").is_dir():
        # A mistyped path would otherwise get a new, empty database, and "success".
        raise click.ClickException(f"no database in {settings.data_dir}: nothing to rebuild")
    settings = _resolved(settings)

    async def go() -> None:
        engine = create_engine(settings.database_url or "", pool_size=1)
        try:
            serving = await serving_connections(engine)
            if serving:
                raise click.ClickException(
                    f"a server is serving this database ({serving} connections): stop it first"
                )
            await migrate(engine)
            stats = await run_rebuild(engine)
        finally:
            await engine.dispose()
        click.echo(
            f"Rebuilt {stats.entities} entities and {stats.notices} notices "
            f"from {stats.ops} applied ops."
        )

    _run_clean(go())


@main.command()
@click.option("--url", required=True, help="The server's base URL.")
@click.option("--token", required=True, envvar="SYNCSERVER_ADMIN_TOKEN", help="An admin token.")
@click.option("--devices", type=click.IntRange(1, 5000), required=True, help="Devices to run.")
@click.option(
    "--minutes",
    type=click.FloatRange(0, min_open=True),
    required=True,
    help="How long the devices run (a float: 0.5 is 30 s).",
)
@click.option(
    "--offline-ratio",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="The share of the run technicians spend offline.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seeds every choice.")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the devices' SQLite stores go [a temporary directory].",
)
def simulate(
    url: str,
    token: str,
    devices: int,
    minutes: float,
    offline_ratio: float,
    seed: int,
    state_dir: Path | None,
) -> None:
    """Run a fleet of SDK devices against a server, then check it (docs/sdk.md)."""
    from clients.simulator import Options
    from clients.simulator import main as run_simulation

    options = Options(url, token, devices, minutes, offline_ratio, seed, state_dir)
    sys.exit(run_simulation(options))


if __name__ == "__main__":
    main()
