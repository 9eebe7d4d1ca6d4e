"""Photo uploads, signed blob URLs and photo reads (PROTOCOL.md section 10)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from schema import wire
from syncserver import photos
from syncserver.blobs import BlobMismatch, LocalBlobStore
from syncserver.codec import decode_request, respond
from syncserver.errors import InvalidRequest, NotFound
from syncserver.handlers.common import caller, path_param, server


def _base(request: Request) -> str:
    return server(request).settings.public_url or str(request.base_url)


def _signature(request: Request) -> tuple[str | None, str | None]:
    return request.query_params.get("expires"), request.query_params.get("sig")


async def create_upload(request: Request) -> Response:
    state = server(request)
    who = await caller(request)
    body = await decode_request(request, wire.UploadRequest, state.settings.max_body_bytes)
    ticket = await photos.request_upload(
        state.engine, state.blobs, who, body, _base(request), state.settings.upload_url_ttl_s
    )
    return respond(ticket, 201)


async def get_photo(request: Request) -> Response:
    state = server(request)
    who = await caller(request)
    photo = await photos.view(
        state.engine,
        state.blobs,
        who,
        path_param(request, "photo_id"),
        _base(request),
        state.settings.download_url_ttl_s,
    )
    return respond(photo)


def _local(request: Request) -> LocalBlobStore:
    """The local store; with S3 there are no /blobs/ URLs."""
    store = server(request).blobs
    if not isinstance(store, LocalBlobStore):
        raise NotFound("no such endpoint")
    return store


async def put_blob(request: Request) -> Response:
    state = server(request)
    store = _local(request)
    try:
        await photos.receive(
            state.engine,
            store,
            path_param(request, "key"),
            request.stream(),
            _signature(request),
        )
    except BlobMismatch as exc:
        raise InvalidRequest(f"upload refused: {exc}") from None
    return Response(status_code=204)


async def get_blob(request: Request) -> Response:
    state = server(request)
    path, content_type = await photos.blob_for_download(
        state.engine, _local(request), path_param(request, "key"), _signature(request)
    )
    return FileResponse(path, media_type=content_type)
