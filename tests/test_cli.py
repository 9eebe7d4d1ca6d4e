"""The `syncserver` command: start-up problems are messages, not tracebacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


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


def test_serve_on_a_port_in_use_is_a_one_line_error_before_saying_listening(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "listening" not in result.stdout and "Traceback" not in result.stderr


def test_rebuild_of_a_mistyped_data_dir_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "dta"
    result = run_cli("rebuild", "--data-dir", str(missing), DATABASE_URL="")
    assert result.returncode == 1
    assert f"no database in {missing}" in result.stderr
    assert not missing.exists()
