"""Photos with the embedded blob store (docs/protocol.md, "Photos"): signed uploads,
verification in both orders, refused bytes, expiry, visibility, and rebuild."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
import time
from typing import Any

import httpx

from tests.api.test_rebuild_and_lifecycle import snapshot
from tests.support import Api, ServerProcess, customer_fields, job_fields, new_id, op

PHOTO = b"\xff\xd8\xff\xe0" + b"battery bank, before" * 500


def _job(api: Api, **extra: Any) -> tuple[str, str]:
    """A new job (and its customer); returns (job id, the office device that wrote it)."""
    office, cid, jid = new_id("office-"), new_id("c-"), new_id("j-")
    r = api.push(office, [op(1, "customer", cid, fields=customer_fields()),
                          op(2, "job", jid, fields=job_fields(cid, **extra))])  # fmt: skip
    assert r.status_code == 200
    return jid, office


def _ticket(api: Api, job_id: str, data: bytes = PHOTO) -> dict[str, Any]:
    body = {"job_id": job_id, "content_type": "image/jpeg", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    r = api.post("/api/uploads", body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _photo_op(
    seq: int, photo_id: str, job_id: str, key: str, data: bytes = PHOTO
) -> dict[str, Any]:
    fields = {"job_id": job_id, "key": key, "content_type": "image/jpeg", "size": len(data),
              "sha256": hashlib.sha256(data).hexdigest(), "caption": "Before"}  # fmt: skip
    return op(seq, "job_photo", photo_id, fields=fields)


def _photo_before_its_bytes(api: Api) -> tuple[str, dict[str, Any], str]:
    """A job, an upload ticket for it, and a photo pushed with the ticket's key before any
    bytes: (job id, ticket, photo id)."""
    jid, _ = _job(api)
    ticket = _ticket(api, jid)
    pid = new_id("p-")
    r = api.push(new_id("tablet-"), [_photo_op(1, pid, jid, ticket["key"])])
    assert r.json()["results"][0]["status"] == "applied"
    return jid, ticket, pid


def test_an_upload_url_is_signed_scoped_to_the_job_and_unguessable(server: ServerProcess) -> None:
    api = server.api()
    jid, _ = _job(api)
    first, second = _ticket(api, jid), _ticket(api, jid)
    assert first["method"] == "PUT" and first["url"].startswith(server.base_url + "/blobs/")
    assert re.fullmatch(rf"jobs/{jid}/[0-9a-f]{{32}}", first["key"])
    assert first["key"] != second["key"]
    assert first["headers"]["Content-Type"] == "image/jpeg"
    # The URL's signature covers the key and the method.
    other = first["url"].replace(first["key"], second["key"].replace("/", "%2F"))
    assert httpx.put(other, content=PHOTO).status_code == 403
    assert httpx.get(first["url"]).status_code == 403


def test_a_photo_pushed_before_its_bytes_becomes_available_when_they_arrive(
    server: ServerProcess,
) -> None:
    api = server.api()
    _, ticket, pid = _photo_before_its_bytes(api)
    reader = api.device(new_id("reader-"))
    reader.pull()
    assert reader.replica[("job_photo", pid)]["status"] == "pending"
    assert api.get(f"/api/photos/{pid}").json()["url"] is None

    assert httpx.put(ticket["url"], content=PHOTO, headers=ticket["headers"]).status_code == 204
    reader.pull()  # the change reaches every device by pull
    assert reader.replica[("job_photo", pid)]["status"] == "available"
    photo = api.get(f"/api/photos/{pid}").json()
    assert photo["status"] == "available" and photo["thumbnail_url"] is None
    got = httpx.get(photo["url"])
    assert got.status_code == 200 and got.content == PHOTO
    assert got.headers["content-type"] == "image/jpeg"


def test_a_photo_pushed_after_its_bytes_is_available_at_once(server: ServerProcess) -> None:
    api = server.api()
    jid, _ = _job(api)
    ticket = _ticket(api, jid)
    assert httpx.put(ticket["url"], content=PHOTO).status_code == 204
    pid = new_id("p-")
    r = api.push(new_id("tablet-"), [_photo_op(1, pid, jid, ticket["key"])])
    assert r.json()["results"][0]["status"] == "applied"
    assert api.get(f"/api/photos/{pid}").json()["status"] == "available"


def test_more_photos_than_one_push_can_carry_all_become_available_with_their_bytes(
    server: ServerProcess,
) -> None:
    # Any number of photos may name one upload; the server makes them available in
    # transactions of at most 1,000 ops each (a transaction's commit positions).
    api = server.api()
    jid, _ = _job(api)
    ticket = _ticket(api, jid)
    tablet = new_id("tablet-")
    pids = [new_id("p-") for _ in range(1001)]
    for first in (0, 1000):
        ops = [_photo_op(first + i + 1, pid, jid, ticket["key"])
               for i, pid in enumerate(pids[first : first + 1000])]  # fmt: skip
        r = api.push(tablet, ops)
        assert {x["status"] for x in r.json()["results"]} == {"applied"}, r.text

    assert httpx.put(ticket["url"], content=PHOTO, headers=ticket["headers"]).status_code == 204

    reader = api.device(new_id("reader-"))
    reader.pull()
    assert {reader.replica[("job_photo", pid)]["status"] for pid in pids} == {"available"}


def test_bytes_that_do_not_match_are_refused_and_the_photo_stays_pending(
    server: ServerProcess,
) -> None:
    api = server.api()
    jid, ticket, pid = _photo_before_its_bytes(api)
    tampered = PHOTO[:-1] + b"!"
    for body in (tampered, PHOTO[:-1], PHOTO + b"!"):
        r = httpx.put(ticket["url"], content=body)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert api.get(f"/api/photos/{pid}").json()["status"] == "pending"
    # A photo that declares other bytes than the upload's never becomes available.
    other = new_id("p-")
    api.push(new_id("tablet-"), [_photo_op(1, other, jid, ticket["key"], data=tampered)])
    assert httpx.put(ticket["url"], content=PHOTO).status_code == 204
    assert api.get(f"/api/photos/{pid}").json()["status"] == "available"
    assert api.get(f"/api/photos/{other}").json()["status"] == "pending"


def test_an_expired_upload_url_is_refused(databases: Any, tmp_path: Any) -> None:
    server = ServerProcess(databases.create(), tmp_path / "data", SYNCSERVER_UPLOAD_URL_TTL_S="1")
    server.start()
    try:
        api = server.api()
        jid, _ = _job(api)
        ticket = _ticket(api, jid)
        time.sleep(2.1)
        r = httpx.put(ticket["url"], content=PHOTO)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    finally:
        server.stop()


def test_uploads_and_photos_follow_what_the_user_may_see(server: ServerProcess) -> None:
    admin = server.api()
    tech_api, tech = admin.user_api("technician")
    other_api, _ = admin.user_api("technician")
    mine, _ = _job(admin, technician_id=tech["id"])
    theirs, _ = _job(admin)
    hidden = {"job_id": theirs, "content_type": "image/jpeg", "size": 1, "sha256": "a" * 64}
    assert tech_api.post("/api/uploads", hidden).status_code == 404
    ticket = _ticket(tech_api, mine)
    pid = new_id("p-")
    r = tech_api.push(new_id("tab-"), [_photo_op(1, pid, mine, ticket["key"])])
    assert r.json()["results"][0]["status"] == "applied"
    httpx.put(ticket["url"], content=PHOTO)
    assert tech_api.get(f"/api/photos/{pid}").json()["status"] == "available"
    assert other_api.get(f"/api/photos/{pid}").status_code == 404
    for bad in ({"content_type": "image/gif"}, {"size": 26214401}, {"size": 0},
                {"sha256": "xyz"}, {"job_id": "no-such-job"}):  # fmt: skip
        body = {"job_id": mine, "content_type": "image/jpeg", "size": 10, "sha256": "a" * 64}
        r = tech_api.post("/api/uploads", body | bad)
        assert r.status_code in (404, 422), (bad, r.text)


def test_rebuild_reproduces_photo_statuses(fresh_server: ServerProcess) -> None:
    api = fresh_server.api()
    jid, _ = _job(api)
    early, late = _ticket(api, jid), _ticket(api, jid)
    httpx.put(early["url"], content=PHOTO)
    api.push(new_id("tab-"), [_photo_op(1, new_id("p-"), jid, early["key"]),
                              _photo_op(2, new_id("p-"), jid, late["key"])])  # fmt: skip
    httpx.put(late["url"], content=PHOTO)
    before = snapshot(fresh_server.database_url)
    assert fresh_server.stop() == 0
    command = [sys.executable, "-m", "syncserver.cli", "rebuild"]
    result = subprocess.run(
        command, env=fresh_server.env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert snapshot(fresh_server.database_url) == before


def _jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _thumbnail_url(api: Api, photo_id: str, seconds: float = 10) -> str | None:
    deadline = time.monotonic() + seconds
    while True:
        url = api.get(f"/api/photos/{photo_id}").json()["thumbnail_url"]
        if url is not None or time.monotonic() > deadline:
            return url if url is None else str(url)
        time.sleep(0.2)


def test_a_thumbnail_is_a_320_px_upright_jpeg(server: ServerProcess) -> None:
    from PIL import Image

    api = server.api()
    jid, _ = _job(api)
    cases = {
        "sideways": (_jpeg(640, 480, orientation=6), (240, 320)),  # shown rotated: 480 x 640
        "wide": (_jpeg(1000, 200), (320, 64)),
        "small": (_jpeg(100, 80), (100, 80)),  # never enlarged
    }
    for name, (data, expected) in cases.items():
        ticket = _ticket(api, jid, data)
        httpx.put(ticket["url"], content=data).raise_for_status()
        pid = new_id(f"{name}-")
        api.push(new_id("tab-"), [_photo_op(1, pid, jid, ticket["key"], data=data)])
        url = _thumbnail_url(api, pid)
        assert url is not None, name
        got = httpx.get(url)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(got.content)) as thumb:
            assert thumb.format == "JPEG" and thumb.size == expected, name
            assert thumb.getexif().get(0x0112, 1) == 1, name  # upright, nothing left to rotate


def test_bytes_that_are_no_image_get_no_thumbnail(server: ServerProcess) -> None:
    api = server.api()
    jid, _ = _job(api)
    ticket = _ticket(api, jid)
    httpx.put(ticket["url"], content=PHOTO).raise_for_status()
    pid = new_id("p-")
    api.push(new_id("tab-"), [_photo_op(1, pid, jid, ticket["key"])])
    assert api.get(f"/api/photos/{pid}").json()["status"] == "available"
    assert _thumbnail_url(api, pid, seconds=2) is None


def test_the_sweep_removes_bytes_of_deleted_photos_and_of_unused_uploads(
    databases: Any, tmp_path: Any
) -> None:
    from syncserver.blobs import LocalBlobStore

    server = ServerProcess(
        databases.create(),
        tmp_path / "data",
        SYNCSERVER_SWEEP_INTERVAL_S="0.3",
        SYNCSERVER_BLOB_RETENTION_S="1",
        SYNCSERVER_ORPHAN_UPLOAD_TTL_S="1",
    )
    server.start()
    try:
        api = server.api()
        on_disk = LocalBlobStore(tmp_path / "data" / "blobs", b"").path
        jid, _ = _job(api)
        kept, dropped, unused = _ticket(api, jid), _ticket(api, jid), _ticket(api, jid)
        for ticket in (kept, dropped, unused):
            httpx.put(ticket["url"], content=PHOTO).raise_for_status()
        tablet, live, gone = new_id("tab-"), new_id("p-"), new_id("p-")
        api.push(tablet, [_photo_op(1, live, jid, kept["key"]),
                          _photo_op(2, gone, jid, dropped["key"]),
                          op(3, "job_photo", gone, "delete")])  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            on_disk(dropped["key"]).exists() or on_disk(unused["key"]).exists()
        ):
            time.sleep(0.2)
        assert not on_disk(dropped["key"]).exists()  # deleted photo, after the retention
        assert not on_disk(unused["key"]).exists()  # never used by any photo
        assert on_disk(kept["key"]).exists()  # a live photo's bytes stay
        assert httpx.put(unused["url"], content=PHOTO).status_code == 404
        assert httpx.get(api.get(f"/api/photos/{live}").json()["url"]).content == PHOTO
    finally:
        server.stop()


def test_heic_photos_get_a_jpeg_thumbnail(server: ServerProcess) -> None:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 200, 10)).save(out, format="HEIF")
    data = out.getvalue()
    api = server.api()
    jid, _ = _job(api)
    sha = hashlib.sha256(data).hexdigest()
    body = {"job_id": jid, "content_type": "image/heic", "size": len(data), "sha256": sha}
    ticket = api.post("/api/uploads", body).json()
    httpx.put(ticket["url"], content=data, headers=ticket["headers"]).raise_for_status()
    pid = new_id("heic-")
    fields = {"job_id": jid, "key": ticket["key"], "content_type": "image/heic",
              "size": len(data), "sha256": sha}  # fmt: skip
    api.push(new_id("tab-"), [op(1, "job_photo", pid, fields=fields)])
    url = _thumbnail_url(api, pid)
    assert url is not None
    with Image.open(io.BytesIO(httpx.get(url).content)) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (320, 240)
