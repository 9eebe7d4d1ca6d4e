"""The whole test suite: lint, format check, type check, then pytest.

python -m tests [pytest args...]
"""

from __future__ import annotations

import subprocess
import sys


def main() -> int:
    python = sys.executable
    steps = [
        [python, "-m", "ruff", "check", "."],
        [python, "-m", "ruff", "format", "--check", "."],
        [python, "-m", "mypy"],
        [python, "-m", "pytest", *sys.argv[1:]],
    ]
    for step in steps:
        print("$", " ".join(step[1:]), flush=True)
        code = subprocess.call(step)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
