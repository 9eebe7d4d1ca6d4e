"""The Starlette application: routes as data, state from the lifespan, errors in one place."""

from __future__ import annotations

import base64
import gc
import hashlib
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp

from schema.errors import InvalidRequest, NotFound, SyncError, Unavailable, error_body
from schema.migrate import migrate
from syncserver.auth import Authenticator, bootstrap_admin
from syncserver.blobs import S3BlobStore
from syncserver.codec import respond
from syncserver.config import Settings
from syncserver.cors import Cors
from syncserver.db import create_engine, database_url, serving_engine
from syncserver.edge import Deadline, Edge
from syncserver.handlers import blobs as blob_handlers
from syncserver.handlers import metrics as metrics_handlers
from syncserver.handlers import realtime as realtime_handlers
from syncserver.handlers.webapp import SDK_PATH, WebApp
from syncserver.identity import JwtVerifier
from syncserver.metrics import Metrics
from syncserver.openapi import openapi_document
from syncserver.photos import Sweeper, Thumbnailer, UploadChecker, open_blob_store
from syncserver.realtime import Hub
from syncserver.routes import ENDPOINTS, handler
from syncserver.state import ServerState

log = logging.getLogger("syncserver")


def _error(error: SyncError) -> Response:
    response = respond(error_body(error), error.status)
    if error.retry_after_s is not None:
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


async def _sync_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SyncError)
    return _error(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _error(NotFound("no such endpoint"))
    if exc.status_code == 405:
        response = _error(InvalidRequest(f"method {request.method} not allowed here", status=405))
        response.headers.update(exc.headers or {})  # `Allow`, as RFC 9110 asks
        return response
    return _error(InvalidRequest(str(exc.detail), status=exc.status_code))


async def _database_error(request: Request, exc: Exception) -> Response:
    """A lost or refused connection is 503; any other database error is a bug (500).

    Errors come wrapped by SQLAlchemy, or straight from psycopg for the statements
    the push runs on the driver connection (changelog/driver.py)."""
    if isinstance(exc, psycopg.Error):
        if not isinstance(exc, psycopg.OperationalError):
            return await _internal_error(request, exc)
    elif (
        isinstance(exc, DBAPIError)
        and not exc.connection_invalidated
        and not isinstance(exc, OperationalError)
    ):
        return await _internal_error(request, exc)
    log.warning("database unavailable: %s", exc)
    return _error(Unavailable("the database is unreachable; try again shortly", retry_after_s=5))


async def _internal_error(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("fieldsync", {}).get("request_id") or uuid.uuid4().hex
    log.error("internal error, request id %s", request_id, exc_info=exc)
    return _error(SyncError("internal server error", {"request_id": request_id}))


def _tune_gc() -> None:
    """Everything made while starting lives as long as the process: keep the cyclic
    collector from walking it again and again (`gc.freeze`), and let it run less
    often. A push allocates thousands of short-lived objects, almost none in cycles;
    with the default threshold the collector ran several times per push."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def create_app(settings: Settings) -> ASGIApp:
    """The app. Its lifespan connects (embedded PostgreSQL if no URL), migrates and bootstraps."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        url = database_url(settings)
        engine = serving_engine(url, settings)
        hub: Hub | None = None
        checker: UploadChecker | None = None
        thumbnailer: Thumbnailer | None = None
        sweeper: Sweeper | None = None
        try:
            # Migrations may take longer than a statement may while serving.
            migrator = create_engine(url, pool_size=1)
            try:
                await migrate(migrator)
            finally:
                await migrator.dispose()
            admin_hash, generated = await bootstrap_admin(engine, settings.admin_token)
            if generated:
                print(
                    f"Generated admin token (shown once, keep it): {generated}",
                    flush=True,
                )
            verifier = None
            if settings.jwt_jwks_url:
                verifier = JwtVerifier(
                    settings.jwt_jwks_url,
                    issuer=settings.jwt_issuer,
                    audience=settings.jwt_audience,
                    email_claim=settings.jwt_email_claim,
                    refetch_after_s=settings.jwt_jwks_refetch_s,
                )
            auth = Authenticator(engine, admin_hash, verifier)
            blobs = await open_blob_store(engine, settings)
            if isinstance(blobs, S3BlobStore):
                checker = UploadChecker(engine, blobs, interval=1.0)
                await checker.start()
            thumbnailer = Thumbnailer(engine, blobs, interval=0.5)
            await thumbnailer.start()
            sweeper = Sweeper(
                engine,
                blobs,
                settings.sweep_interval_s,
                settings.blob_retention_s,
                settings.orphan_upload_ttl_s,
            )
            await sweeper.start()
            hub = Hub(engine, url, auth, metrics)
            await hub.start()
            _tune_gc()
            metrics.watch_pool(engine.pool)
            yield {"server": ServerState(settings, engine, auth, hub, blobs, metrics)}
        finally:
            if hub is not None:
                await hub.stop()
            if checker is not None:
                await checker.stop()
            for task in (thumbnailer, sweeper):
                if task is not None:
                    await task.stop()
            await engine.dispose()

    metrics = Metrics()
    webapp = WebApp.from_package(settings)
    routes = [Route(e.path, handler(e), methods=[e.method]) for e in ENDPOINTS] + [
        Route("/ui", webapp.page, methods=["GET"]),
        Route("/ui/{path:path}", webapp.page, methods=["GET"]),
        Route("/openapi.json", _openapi, methods=["GET"]),
        Route("/docs", _docs, methods=["GET"]),
        Route(SDK_PATH, webapp.sdk, methods=["GET"]),
        Route("/metrics", metrics_handlers.metrics, methods=["GET"]),
        WebSocketRoute("/sync/ws", realtime_handlers.socket),
        Route("/blobs/{key:path}", blob_handlers.put_blob, methods=["PUT"]),
        Route("/blobs/{key:path}", blob_handlers.get_blob, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            SyncError: _sync_error,
            HTTPException: _http_error,
            DBAPIError: _database_error,
            psycopg.Error: _database_error,
            PoolTimeout: _database_error,
            Exception: _internal_error,
        },
    )
    outer: ASGIApp = app
    if settings.cors_origins:
        outer = Cors(outer, settings.cors_origins)
    return Edge(Deadline(outer, settings.request_timeout_s), metrics)


def _inline_hashes(page: str, tag: str) -> str:
    """CSP sources for the page's inline `<tag>` blocks, by their sha256."""
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.DOTALL)
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    )


async def _docs(request: Request) -> Response:
    """A page that renders /openapi.json (its script is in the page; it loads nothing else)."""
    page = resources.files("syncserver.static").joinpath("docs.html").read_text()
    policy = (
        f"default-src 'self'; script-src {_inline_hashes(page, 'script')}; "
        f"style-src {_inline_hashes(page, 'style')}; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    return Response(
        page, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": policy}
    )


async def _openapi(request: Request) -> Response:
    return respond(openapi_document())
