"""The OpenAPI document describes the running server: schemathesis generates requests
for every operation in it and checks each answer's status, content type, headers
and body against the document, and that none is a 5xx."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.support import ServerProcess, customer_fields, job_fields, new_id, op

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "unsupported_method",
    ]
)


def _seed(server: ServerProcess) -> None:
    """Some of everything, so that reads answer with real documents, and a conflict."""
    api = server.api()
    dev, cid, jid = new_id("seed-"), new_id("c-"), new_id("j-")
    technician = api.create_user("technician")["id"]
    created = api.push(
        dev,
        [
            op(1, "customer", cid, fields=customer_fields(email="a@example.com")),
            op(2, "location", new_id("l-"), fields={"customer_id": cid, "address": "Pier 4"}),
            op(3, "job", jid, fields=job_fields(cid, technician_id=technician,
                                               scheduled_date="2026-12-01T08:00:00Z")),
            op(4, "job_note", new_id("n-"), fields={"job_id": jid, "body": "Gate code 1234"}),
        ],
    ).json()  # fmt: skip
    base = created["results"][-1]["version"]
    t = time.time_ns() // 1_000_000
    api.push(new_id("a-"), [op(1, "job", jid, "update", {"status": "on_hold"}, ts=t, base=base)])
    api.push(new_id("b-"), [op(1, "job", jid, "update", {"status": "completed"}, ts=t + 1,
                                base=base)])  # fmt: skip


def test_every_operation_answers_as_the_openapi_document_says(
    server: ServerProcess, tmp_path: Path
) -> None:
    _seed(server)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
            "run",
            f"{server.base_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {server.admin_token}",
            "--checks",
            CHECKS,
            "--max-examples",
            "25",
            "--seed",
            "20261125",
            # A WebSocket upgrade is not something schemathesis can speak.
            "--exclude-path",
            "/sync/ws",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # schemathesis keeps a cache in the working directory
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_the_docs_page_renders_the_document(server: ServerProcess) -> None:
    r = server.api().http.get("/docs", headers={"Authorization": ""})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'fetch("/openapi.json")' in r.text


def test_the_document_types_each_op_by_entity_and_action(server: ServerProcess) -> None:
    doc = server.api().http.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    push = schemas["PushRequest"]["properties"]["ops"]["items"]
    variants = [
        ref["$ref"].rsplit("/", 1)[1] for ref in schemas[push["$ref"].rsplit("/", 1)[1]]["oneOf"]
    ]
    # Six entities, three actions each, except notes: created and deleted only.
    assert len(variants) == 17 and "Op_job_note_update" not in variants
    job_create = schemas["Op_job_create"]["properties"]
    assert (job_create["entity"], job_create["action"]) == ({"const": "job"}, {"const": "create"})
    assert job_create["fields"]["required"] == ["customer_id", "service_type", "title"]
    assert schemas["Op_job_update"]["properties"]["fields"]["minProperties"] == 1
    assert "in_progress" in schemas["JobFields"]["properties"]["status"]["enum"]
    assert schemas["JobFields"]["additionalProperties"] is False
    assert {"/sync/ws", "/blobs/{key}"} <= set(doc["paths"])
    assert {"put", "get"} == set(doc["paths"]["/blobs/{key}"])
