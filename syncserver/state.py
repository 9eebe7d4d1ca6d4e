"""What the lifespan builds and every handler reads from `request.state`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from syncserver.auth import Authenticator
from syncserver.blobs import LocalBlobStore, S3BlobStore
from syncserver.config import Settings
from syncserver.metrics import Metrics
from syncserver.realtime import Hub


@dataclass(frozen=True)
class ServerState:
    settings: Settings
    engine: AsyncEngine
    auth: Authenticator
    hub: Hub
    blobs: LocalBlobStore | S3BlobStore
    metrics: Metrics
