"""The docs name what exists: every setting and every error code."""

from __future__ import annotations

from pathlib import Path

from syncserver.config import SETTINGS_DOC, Settings
from syncserver.errors import ERROR_CODES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_setting_is_declared_and_documented() -> None:
    declared = {name for name, _env, _help in SETTINGS_DOC}
    assert declared == set(Settings.__struct_fields__)
    text = (DOCS / "settings.md").read_text()
    for name, env, _help in SETTINGS_DOC:
        assert f"| {name} | `{env}` |" in text, name


def test_every_error_code_of_the_protocol_exists_once() -> None:
    assert ERROR_CODES == {
        "internal": 500,
        "unauthorized": 401,
        "forbidden": 403,
        "device_taken": 403,
        "not_found": 404,
        "conflict": 409,
        "seq_gap": 409,
        "seq_reused": 409,
        "clock_ahead": 409,
        "payload_too_large": 413,
        "invalid_request": 422,
        "rate_limited": 429,
        "unavailable": 503,
    }
