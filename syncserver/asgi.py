"""App factory for `uvicorn --factory` workers: settings come from the environment."""

from __future__ import annotations

from starlette.types import ASGIApp

from syncserver.app import create_app
from syncserver.config import settings_from_env


def app() -> ASGIApp:
    return create_app(settings_from_env())
