"""GET /metrics: Prometheus' text format, for an admin token or the metrics token
(`SYNCSERVER_METRICS_TOKEN`, for a scraper that should hold no admin rights)."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import Response

from syncserver.auth import bearer
from syncserver.metrics import CONTENT_TYPE
from syncserver.state import ServerState


async def metrics(request: Request) -> Response:
    state: ServerState = request.state.server
    token = bearer(request.headers.get("authorization"))
    scraper = state.settings.metrics_token
    if not (scraper and token and hmac.compare_digest(token.encode(), scraper.encode())):
        (await state.auth.principal(token)).require("admin")
    return Response(state.metrics.exposition(), media_type=CONTENT_TYPE)
