"""docs/sdk.md's offline example runs as written, against a real server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.support import ServerProcess, customer_fields, job_fields, new_id, op

SDK_DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def python_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", SDK_DOC.read_text(), re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_python_offline_example_runs_and_syncs_its_work(
    server: ServerProcess, tmp_path: Path
) -> None:
    admin = server.api()
    tech_api, tech = admin.user_api("technician")
    cid, jid = new_id("c-"), new_id("j-")
    fields = job_fields(cid, status="dispatched", technician_id=tech["id"])
    ops = [op(1, "customer", cid, fields=customer_fields()), op(2, "job", jid, fields=fields)]
    assert admin.push(new_id("office-"), ops).status_code == 200
    Image.new("RGB", (16, 12), (10, 90, 200)).save(tmp_path / "inverter.jpg", "JPEG")

    code = python_example().replace(
        '"http://127.0.0.1:8787", "fs_..."', repr(server.base_url) + ", " + repr(tech_api.token)
    )
    code = code.replace('"tablet-7"', repr(new_id("tablet-")))
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[:2] == ["completed 4", "4 ops acknowledged; 0 refused"]
    job = admin.get(f"/api/jobs/{jid}").json()
    assert job["status"] == "completed" and len(job["notes"]) == 1 and len(job["photos"]) == 1
