"""PUT and GET /blobs/{key}: a photo's bytes at a signed URL, local store only
(docs/protocol.md, "Photos"). Bodies stream in and files stream out: not JSON."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from schema.errors import NotFound
from syncserver import photos
from syncserver.blobs import LocalBlobStore
from syncserver.state import ServerState


def server(request: Request) -> ServerState:
    state: ServerState = request.state.server
    return state


def _key(request: Request) -> str:
    key: str = request.path_params["key"]
    if "\x00" in key:  # names nothing that can exist
        raise NotFound("no such key")
    return key


def _signature(request: Request) -> tuple[str | None, str | None]:
    return request.query_params.get("expires"), request.query_params.get("sig")


def _local(request: Request) -> LocalBlobStore:
    """The local store; with S3 there are no /blobs/ URLs."""
    store = server(request).blobs
    if not isinstance(store, LocalBlobStore):
        raise NotFound("no such endpoint")
    return store


async def put_blob(request: Request) -> Response:
    state = server(request)
    store = _local(request)
    await photos.receive(state.engine, store, _key(request), request.stream(), _signature(request))
    return Response(status_code=204)


async def get_blob(request: Request) -> Response:
    state = server(request)
    path, content_type = await photos.blob_for_download(
        state.engine, _local(request), _key(request), _signature(request)
    )
    return FileResponse(path, media_type=content_type)
