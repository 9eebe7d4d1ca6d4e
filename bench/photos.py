"""Photos: 500 uploads of 2 MB from 20 devices, in S3 mode and with the local store.

    python -m bench.photos [--database-url URL] [--photos 500]

For each photo a device asks for an upload URL, PUTs the bytes and pushes the
job_photo op. S3 mode runs against moto's S3 server in this process (so the
S3 endpoint's CPU is the bench's, not the server's). Prints uploads/s, the
server's CPU per upload (in S3 mode it never handles the bytes), and how fast
thumbnails follow. Writes bench/results/photos.json.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import time
import uuid
from typing import Any

import boto3
import httpx
import psycopg
from moto.server import ThreadedMotoServer
from PIL import Image

from bench.common import (
    ADMIN_TOKEN,
    cpu_delta,
    cpu_seconds,
    free_port,
    fresh_database,
    postgres,
    run_threads,
    server,
    write_result,
)

DEVICES = 20
BUCKET = "bench-photos"


def base_photo() -> bytes:
    """A JPEG of about 2 MB (noise compresses badly, as real photos of cells do)."""
    rng = random.Random(1)
    image = Image.frombytes("RGB", (1700, 1200), rng.randbytes(1700 * 1200 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def _setup(http: httpx.Client) -> str:
    device = f"office-{uuid.uuid4().hex[:6]}"
    job = f"job-{uuid.uuid4().hex[:8]}"
    now = int(time.time() * 1000)
    ops = [
        {
            "seq": 1,
            "ts": now,
            "tc": 0,
            "entity": "customer",
            "id": f"c-{job}",
            "action": "create",
            "base": 0,
            "fields": {"name": "Photo bench", "type": "commercial"},
        },
        {
            "seq": 2,
            "ts": now,
            "tc": 1,
            "entity": "job",
            "id": job,
            "action": "create",
            "base": 0,
            "fields": {"title": "Photos", "service_type": "inspection", "customer_id": f"c-{job}"},
        },
    ]
    http.post("/sync/push", json={"device_id": device, "ops": ops}).raise_for_status()
    return job


def upload_all(url: str, job: str, photo: bytes, count: int) -> float:
    """Every device uploads its share and pushes the ops; returns the wall seconds."""
    errors: list[str] = []

    def device(d: int) -> None:
        device_id = f"cam-{uuid.uuid4().hex[:6]}-{d}"
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with (
            httpx.Client(base_url=url, headers=headers, timeout=120) as http,
            httpx.Client(timeout=120) as raw,
        ):
            for seq in range(1, count // DEVICES + 1):
                data = photo + f"{device_id}-{seq}".encode()  # bytes after the JPEG's end
                sha = hashlib.sha256(data).hexdigest()
                ticket = http.post(
                    "/api/uploads",
                    json={
                        "job_id": job,
                        "content_type": "image/jpeg",
                        "size": len(data),
                        "sha256": sha,
                    },
                ).json()
                put = raw.put(ticket["url"], content=data, headers=ticket["headers"])
                if put.status_code >= 300:
                    errors.append(f"PUT {put.status_code} {put.text[:200]}")
                    return
                op = {
                    "seq": seq,
                    "ts": int(time.time() * 1000),
                    "tc": 0,
                    "entity": "job_photo",
                    "id": f"{device_id}-{seq}",
                    "action": "create",
                    "base": 0,
                    "fields": {
                        "job_id": job,
                        "key": ticket["key"],
                        "content_type": "image/jpeg",
                        "size": len(data),
                        "sha256": sha,
                    },
                }
                http.post("/sync/push", json={"device_id": device_id, "ops": [op]})

    seconds = run_threads(device, DEVICES)
    if errors:
        raise RuntimeError(errors[0])
    return seconds


def wait_for(database_url: str, sql: str, count: int, timeout: float = 600) -> float:
    start = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.perf_counter() - start < timeout:
            if conn.execute(sql).fetchone()[0] >= count:  # type: ignore[index]
                return time.perf_counter() - start
            time.sleep(0.2)
    raise RuntimeError(f"not done in {timeout} s: {sql}")


def run(database_url: str, env: dict[str, str], photo: bytes, count: int) -> dict[str, Any]:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with server(database_url) as srv:
            with httpx.Client(
                base_url=srv.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
            ) as http:
                job = _setup(http)
            thumbs_sql = "SELECT count(*) FROM uploads WHERE thumbnail_at IS NOT NULL"
            before = cpu_seconds(srv.proc.pid)
            seconds = upload_all(srv.url, job, photo, count)
            available = wait_for(
                database_url,
                "SELECT count(*) FROM entities WHERE entity = 'job_photo'"
                " AND data ->> 'status' = 'available'",
                count,
            )
            during = cpu_delta(before, cpu_seconds(srv.proc.pid))
            thumbs_during = _count(database_url, thumbs_sql)
            middle = cpu_seconds(srv.proc.pid)
            thumbs = wait_for(database_url, thumbs_sql, count)
            after = cpu_delta(middle, cpu_seconds(srv.proc.pid))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    # The server also makes thumbnails while the uploads run: take their share out, at
    # the CPU each thumbnail cost once the uploads were over.
    per_thumbnail = after["server"] / max(1, count - thumbs_during)
    per_upload = (during["server"] - thumbs_during * per_thumbnail) / count
    return {
        "photos": count,
        "bytes_each": len(photo),
        "devices": DEVICES,
        "seconds": round(seconds, 2),
        "uploads_per_s": round(count / seconds, 1),
        "all_available_after_s": round(available, 2),
        "server_cpu_ms_per_upload": round(per_upload * 1000, 2),
        "server_cpu_ms_per_thumbnail": round(per_thumbnail * 1000, 2),
        "cpu_seconds_during_uploads": during,
        "thumbnails_made_during_uploads": thumbs_during,
        "thumbnails_done_after_s": round(seconds + thumbs, 2),
        "thumbnails_per_s": round(count / (seconds + thumbs), 1),
    }


def _count(database_url: str, sql: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return int(conn.execute(sql).fetchone()[0])  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    parser.add_argument("--photos", type=int, default=500)
    args = parser.parse_args()
    photo = base_photo()
    print(f"photo: {len(photo)} bytes", flush=True)
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    creds = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds).create_bucket(
        Bucket=BUCKET
    )
    s3_env = {
        "SYNCSERVER_S3_BUCKET": BUCKET,
        "SYNCSERVER_S3_ENDPOINT": endpoint,
        "SYNCSERVER_S3_REGION": "us-east-1",
        "SYNCSERVER_S3_ACCESS_KEY_ID": creds["aws_access_key_id"],
        "SYNCSERVER_S3_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
    }
    results: dict[str, Any] = {}
    try:
        with postgres(args.database_url) as admin_url:
            results["s3"] = run(fresh_database(admin_url), s3_env, photo, args.photos)
            results["local"] = run(fresh_database(admin_url), {}, photo, args.photos)
    finally:
        moto.stop()
    for mode, r in results.items():
        print(
            f"{mode}: {r['uploads_per_s']} uploads/s ({r['photos']} x {r['bytes_each']} bytes,"
            f" {DEVICES} devices); server CPU {r['server_cpu_ms_per_upload']} ms per upload,"
            f" {r['server_cpu_ms_per_thumbnail']} ms per thumbnail; thumbnails"
            f" {r['thumbnails_per_s']}/s",
            flush=True,
        )
    print("wrote", write_result("photos", results))


if __name__ == "__main__":
    main()
