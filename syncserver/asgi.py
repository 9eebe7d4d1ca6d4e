"""App factory for `uvicorn --factory` workers: settings come from the environment."""

from __future__ import annotations

from starlette.applications import Starlette

from syncserver.app import create_app
from syncserver.config import settings_from_env


def app() -> Starlette:
    return create_app(settings_from_env())
