"""Pull: a 100,000-entity backlog pulled from a null cursor in pages of 5,000.

    python -m bench.pull [--database-url URL]

Prints changes/s and writes bench/results/pull.json.
"""

from __future__ import annotations

import argparse
import http.client
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
import psycopg

from bench.common import ADMIN_TOKEN, fresh_database, postgres, server, write_result


def prepare_backlog(url: str, token: str, entities: int = 100_000, batch: int = 1000) -> None:
    """Push `entities` customer creates (not timed)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    t0 = int(time.time() * 1000) - 3_600_000
    with httpx.Client(base_url=url, timeout=120, headers=headers) as http:
        for start in range(0, entities, batch):
            ops = [
                {
                    "seq": i + 1,
                    "ts": t0 + i,
                    "tc": 0,
                    "entity": "customer",
                    "id": f"backlog-{i:07d}",
                    "action": "create",
                    "base": 0,
                    "fields": {
                        "name": f"Customer {i}",
                        "type": "residential",
                        "email": f"c{i}@example.com",
                        "phone": "+46 8 123 456",
                    },
                }
                for i in range(start, min(start + batch, entities))
            ]
            r = http.post(
                "/sync/push",
                content=msgspec.json.encode({"device_id": "bench-backlog", "ops": ops}),
            )
            r.raise_for_status()


def settle(database_url: str) -> None:
    """VACUUM ANALYZE every table after loading, so that the pull meets the steady
    state and not an autovacuum running beside it (of the entities just written, or
    of the device log the ingest before it filled)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def run(url: str, token: str, page: int = 5000) -> dict[str, Any]:
    """Pull everything from a null cursor. The client is the standard library's
    http.client on one kept-alive connection: httpx spends longer reading a 1.5 MB
    page than the server spends producing it, which would measure the client.
    For the same reason each change is read as raw JSON (validated, not built into
    dicts), as the PostgreSQL baseline reads its page text unparsed."""
    parsed = urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    device = f"bench-puller-{time.time_ns()}"
    changes = pages = 0
    cursor = None
    start = time.perf_counter()
    try:
        while True:
            conn.request(
                "POST",
                "/sync/pull",
                body=msgspec.json.encode({"device_id": device, "cursor": cursor, "limit": page}),
                headers=headers,
            )
            resp = conn.getresponse()
            raw = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"pull failed: {resp.status} {raw[:200]!r}")
            body = _page.decode(raw)
            changes += len(body.changes)
            pages += 1
            cursor = body.cursor
            if not body.has_more:
                break
    finally:
        conn.close()
    seconds = time.perf_counter() - start
    return {
        "changes": changes,
        "pages": pages,
        "page_size": page,
        "seconds": round(seconds, 3),
        "changes_per_s": round(changes / seconds, 1),
        "client": "http.client + msgspec, changes as raw JSON",
    }


class _Page(msgspec.Struct):
    cursor: str
    has_more: bool
    changes: list[msgspec.Raw]


_page = msgspec.json.Decoder(_Page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    parser.add_argument("--entities", type=int, default=100_000)
    args = parser.parse_args()
    with postgres(args.database_url) as admin_url:
        database_url = fresh_database(admin_url)
        with server(database_url) as srv:
            prepare_backlog(srv.url, ADMIN_TOKEN, args.entities)
            settle(database_url)
            result = run(srv.url, ADMIN_TOKEN)
    print(
        f"pull: {result['changes_per_s']} changes/s over {result['changes']} changes "
        f"in {result['pages']} pages"
    )
    print("wrote", write_result("pull", result))


if __name__ == "__main__":
    main()
