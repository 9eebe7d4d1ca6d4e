"""Photos in an S3-compatible bucket (docs/protocol.md, "Photos"), against a real HTTP S3
endpoint started here (moto's server mode): the server hands out presigned URLs,
never handles the bytes on upload, and checks the bucket for them."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from tests.api.test_photos import (
    PHOTO,
    _job,
    _jpeg,
    _photo_before_its_bytes,
    _photo_op,
    _thumbnail_url,
    _ticket,
)
from tests.conftest import DatabaseFactory
from tests.support import ServerProcess, free_port, new_id

BUCKET = "fieldsync-photos"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS).create_bucket(
        Bucket=BUCKET
    )
    yield endpoint
    moto.stop()


@pytest.fixture(scope="module")
def s3_server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str
) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        databases.create(),
        tmp_path_factory.mktemp("data"),
        SYNCSERVER_S3_BUCKET=BUCKET,
        SYNCSERVER_S3_ENDPOINT=s3_endpoint,
        SYNCSERVER_S3_REGION="us-east-1",
        SYNCSERVER_S3_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
        SYNCSERVER_S3_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
    )
    proc.start()
    yield proc
    proc.stop()


def _status_within(server: ServerProcess, photo_id: str, seconds: float) -> str:
    """The photo's status as a device pulls it, waiting up to `seconds` for `available`."""
    reader = server.api().device(new_id("reader-"))
    deadline = time.monotonic() + seconds
    while True:
        reader.pull()
        status = str(reader.replica[("job_photo", photo_id)]["status"])
        if status == "available" or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_the_upload_url_is_presigned_for_the_bucket_with_the_checksum_pinned(
    s3_server: ServerProcess, s3_endpoint: str
) -> None:
    api = s3_server.api()
    jid, _ = _job(api)
    ticket = _ticket(api, jid)
    assert ticket["url"].startswith(f"{s3_endpoint}/{BUCKET}/jobs/{jid}/")
    assert "X-Amz-Signature=" in ticket["url"]
    assert ticket["headers"]["x-amz-checksum-sha256"]
    # No /blobs/ endpoint in S3 mode: the server never takes the bytes.
    assert (
        httpx.put(f"{s3_server.base_url}/blobs/{ticket['key']}", content=PHOTO).status_code == 404
    )


def test_bytes_uploaded_first_make_the_photo_available_when_its_op_arrives(
    s3_server: ServerProcess,
) -> None:
    api = s3_server.api()
    jid, _ = _job(api)
    ticket = _ticket(api, jid)
    put = httpx.put(ticket["url"], content=PHOTO, headers=ticket["headers"])
    assert put.status_code == 200, put.text
    pid = new_id("p-")
    api.push(new_id("tab-"), [_photo_op(1, pid, jid, ticket["key"])])
    photo = api.get(f"/api/photos/{pid}").json()
    assert photo["status"] == "available"
    got = httpx.get(photo["url"])  # straight from the bucket
    assert got.status_code == 200 and got.content == PHOTO


def test_a_photo_pushed_first_becomes_available_soon_after_its_upload(
    s3_server: ServerProcess,
) -> None:
    api = s3_server.api()
    _, ticket, pid = _photo_before_its_bytes(api)
    assert _status_within(s3_server, pid, 0) == "pending"
    httpx.put(ticket["url"], content=PHOTO, headers=ticket["headers"]).raise_for_status()
    # Nobody asks: the server's background check finds the bytes.
    assert _status_within(s3_server, pid, 10) == "available"


def test_bytes_that_do_not_match_never_make_the_photo_available(
    s3_server: ServerProcess,
) -> None:
    api = s3_server.api()
    _, ticket, pid = _photo_before_its_bytes(api)
    wrong = PHOTO[:-1] + b"!"
    headers: dict[str, Any] = dict(ticket["headers"])
    # This endpoint does not check the pinned checksum (real S3 refuses the PUT).
    httpx.put(ticket["url"], content=wrong, headers=headers)
    assert hashlib.sha256(wrong).hexdigest() != hashlib.sha256(PHOTO).hexdigest()
    assert _status_within(s3_server, pid, 3) == "pending"
    assert api.get(f"/api/photos/{pid}").json()["url"] is None


def test_the_thumbnail_is_stored_in_the_bucket_beside_the_photo(
    s3_server: ServerProcess, s3_endpoint: str
) -> None:
    api = s3_server.api()
    jid, _ = _job(api)
    data = _jpeg(800, 600)
    ticket = _ticket(api, jid, data)
    httpx.put(ticket["url"], content=data, headers=ticket["headers"]).raise_for_status()
    pid = new_id("p-")
    api.push(new_id("tab-"), [_photo_op(1, pid, jid, ticket["key"], data=data)])
    url = _thumbnail_url(api, pid)
    assert url is not None and url.startswith(f"{s3_endpoint}/{BUCKET}/{ticket['key']}")
    got = httpx.get(url)
    assert got.status_code == 200 and got.content[:3] == b"\xff\xd8\xff"
