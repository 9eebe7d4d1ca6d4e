"""GET /sync/ws (docs/protocol.md, "Realtime"): a socket that receives pokes.

The same auth and device ownership as push and pull: a bad token is refused
with 401 `unauthorized`, another user's device with 403 `device_taken`, both
as the error body of every answer (`schema.errors.error_body`) before the socket
opens. Messages from the client
are read and ignored (the socket's liveness is uvicorn's ping/pong).
"""

from __future__ import annotations

import re

from starlette.websockets import WebSocket, WebSocketDisconnect

from changelog import devicelog
from schema.entities import ID_PATTERN
from schema.errors import DeviceTaken, InvalidRequest, SyncError, error_body
from syncserver.codec import respond
from syncserver.edge import user_of
from syncserver.state import ServerState

_DEVICE = re.compile(ID_PATTERN)


async def socket(websocket: WebSocket) -> None:
    state: ServerState = websocket.state.server
    token = websocket.query_params.get("token") or ""
    try:
        principal = await state.auth.principal(token)
        user_of(websocket.scope, principal.user_id)
        device_id = websocket.query_params.get("device_id") or ""
        if not _DEVICE.match(device_id):
            raise InvalidRequest("device_id must be 1-64 characters of [A-Za-z0-9._-]")
        async with state.engine.begin() as conn:
            if not await devicelog.claim_for_socket(conn, device_id, principal.user_id):
                raise DeviceTaken(f"device {device_id} belongs to another user")
    except SyncError as exc:
        await websocket.send_denial_response(respond(error_body(exc), exc.status))
        return
    await websocket.accept()
    subscriber = state.hub.add(principal, token, websocket)
    try:
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        state.hub.remove(subscriber)
