"""Logs: one JSON object per line (docs/protocol.md, "Operations").

Every line has `ts`, `level`, `logger` and `msg`; a request's line also has
`request_id`, `method`, `path` (never the query string: tokens and signatures
travel there), `status`, `duration_ms` and `user_id` (syncserver/edge.py).
uvicorn's own access log is off, since it writes query strings, and any query
string in a message (uvicorn logs each socket's path) is cut off.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id")

# A path's query string, in any message (uvicorn logs a socket's path with it).
_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")


def scrub(text: str) -> str:
    """`text` with every URL path's query string cut off: tokens travel there."""
    return _QUERY.sub(r"\1", text) if "?" in text else text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for name in REQUEST_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(level: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` of `serve` and each of its workers."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
