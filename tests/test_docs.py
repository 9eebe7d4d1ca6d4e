"""The docs name what exists: every setting and every error code."""

from __future__ import annotations

import re
from pathlib import Path

from schema.errors import ERROR_CODES, SyncError
from syncserver.config import SETTINGS_DOC, Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_setting_is_declared_and_documented() -> None:
    declared = {name for name, _env, _help in SETTINGS_DOC}
    assert declared == set(Settings.__struct_fields__)
    text = (DOCS / "settings.md").read_text()
    for name, env, _help in SETTINGS_DOC:
        assert f"| {name} | `{env}` |" in text, name


def _protocol_error_table() -> dict[str, int]:
    """The code and status columns of docs/protocol.md's error table."""
    text = (DOCS / "protocol.md").read_text()
    section = text[text.index("\n## Errors\n") :]
    section = section[: section.index("\n## ", 1)]
    rows = re.findall(r"^\| `(\w+)` \| (\d{3}) \|", section, flags=re.MULTILINE)
    return {code: int(status) for code, status in rows}


def _error_classes(cls: type[SyncError] = SyncError) -> list[type[SyncError]]:
    return [cls] + [c for sub in cls.__subclasses__() for c in _error_classes(sub)]


def test_each_error_code_is_declared_by_one_class() -> None:
    # A subclass may narrow an error (`BlobMismatch` is an `InvalidRequest`) and keep its code.
    codes = [cls.code for cls in _error_classes() if "code" in vars(cls)]
    assert len(codes) == len(set(codes)), codes


def test_the_error_codes_are_the_documented_ones_with_their_statuses() -> None:
    documented = _protocol_error_table()
    assert len(documented) == 13
    assert documented == ERROR_CODES
