"""The `syncserver` command: start-up problems are messages, not tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncserver.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unreachable_database_is_a_one_line_error() -> None:
    result = run_cli("serve", "--port", "1", DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_setting_is_a_one_line_error() -> None:
    result = run_cli("serve", SYNCSERVER_MAX_CLOCK_SKEW_MS="soon")
    assert result.returncode == 1
    assert "invalid setting" in result.stderr and "max_clock_skew_ms" in result.stderr
    assert "Traceback" not in result.stderr


def test_rebuild_reports_an_unreachable_database_too() -> None:
    result = run_cli("rebuild", DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
