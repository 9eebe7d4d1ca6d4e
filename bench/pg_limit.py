"""What PostgreSQL itself does with the same work, on the same instance.

- upserts: the ingest op stream as batched `INSERT ... ON CONFLICT DO UPDATE
  ... WHERE` LWW upserts, one per op, each batch pipelined (executemany) and
  committed once, over 8 connections: rows/s. Also, as an upper bound, one
  set-based upsert per batch with each job's ops pre-merged (fewer row writes);
- paging: keyset paging of the pulled entities by 5,000, each page's JSON
  assembled from the stored jsonb text: rows/s, the median of `runs` runs after
  `VACUUM ANALYZE`, as the pull is measured.

    python -m bench.pg_limit [--database-url URL]   (runs the server benches' setup first)
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import msgspec
import psycopg

from bench.common import run_threads
from bench.workload import DeviceStream

_UPSERT = """
    INSERT INTO bench_raw_lww AS t (id, data, ts, tc, device_id)
    SELECT r.id, r.data, r.ts, r.tc, r.device_id
    FROM jsonb_to_recordset(%s::jsonb) AS r(id text, data jsonb, ts bigint, tc int, device_id text)
    ON CONFLICT (id) DO UPDATE
        SET data = t.data || excluded.data, ts = excluded.ts, tc = excluded.tc,
            device_id = excluded.device_id
        WHERE (excluded.ts, excluded.tc, excluded.device_id) > (t.ts, t.tc, t.device_id)
"""

_UPSERT_ONE = """
    INSERT INTO bench_raw_lww AS t (id, data, ts, tc, device_id)
    VALUES (%s, %s::jsonb, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE
        SET data = t.data || excluded.data, ts = excluded.ts, tc = excluded.tc,
            device_id = excluded.device_id
        WHERE (excluded.ts, excluded.tc, excluded.device_id) > (t.ts, t.tc, t.device_id)
"""

_PAGE = """
    SELECT '[' || coalesce(string_agg(data::text, ',' ORDER BY id), '') || ']', max(id), count(*)
    FROM (SELECT id, data FROM bench_raw_page WHERE id > %s ORDER BY id LIMIT %s) AS p
"""


def _rows(batch: list[dict[str, Any]], device_id: str) -> bytes:
    """One row per job in the batch: later ops of the same job merged in (one device, in order)."""
    rows: dict[str, dict[str, Any]] = {}
    for op in batch:
        row = rows.setdefault(op["id"], {"id": op["id"], "data": {}, "device_id": device_id})
        row["data"].update(op["fields"])
        row["ts"], row["tc"] = op["ts"], op["tc"]
    return msgspec.json.encode(list(rows.values()))


def run_upserts(
    database_url: str, streams: list[DeviceStream], connections: int = 8, per_op: bool = True
) -> dict[str, Any]:
    """per_op: one upsert per op, each batch sent with executemany (pipelined) and committed
    once: the row writes the server does. Otherwise one set-based upsert per batch with the
    batch's ops pre-merged per job in Python: fewer row writes, an upper bound."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_lww")
        conn.execute(
            "CREATE TABLE bench_raw_lww (id text PRIMARY KEY, data jsonb NOT NULL,"
            " ts bigint NOT NULL, tc int NOT NULL, device_id text NOT NULL)"
        )
    work: dict[str, list[Any]] = {}
    for s in streams:
        if per_op:
            work[s.device_id] = [
                [
                    (
                        op["id"],
                        msgspec.json.encode(op["fields"]).decode(),
                        op["ts"],
                        op["tc"],
                        s.device_id,
                    )
                    for op in b
                ]
                for b in s.batches
            ]
        else:
            work[s.device_id] = [_rows(b, s.device_id).decode() for b in s.batches]
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        mine = [s.device_id for s in streams[i::connections]]
        try:
            with psycopg.connect(database_url) as conn:
                rounds = max(len(work[d]) for d in mine) if mine else 0
                for r in range(rounds):
                    for d in mine:
                        if r >= len(work[d]):
                            continue
                        if per_op:
                            with conn.cursor() as cur:
                                cur.executemany(_UPSERT_ONE, work[d][r])
                        else:
                            conn.execute(_UPSERT, (work[d][r],))
                        conn.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    seconds = run_threads(worker, connections)
    if errors:
        raise errors[0]
    ops = sum(s.ops for s in streams)
    return {
        "rows": ops,
        "connections": connections,
        "per_op": per_op,
        "seconds": round(seconds, 3),
        "rows_per_s": round(ops / seconds, 1),
    }


def run_paging(database_url: str, page: int = 5000, runs: int = 3) -> dict[str, Any]:
    """Page through the rows `runs` times after `VACUUM ANALYZE` (as the pull bench
    does with `entities`) and report the median run."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_page")
        conn.execute(
            "CREATE TABLE bench_raw_page AS SELECT entity || ':' || id AS id, data"
            " FROM entities WHERE NOT deleted"
        )
        conn.execute("ALTER TABLE bench_raw_page ADD PRIMARY KEY (id)")
        conn.execute("VACUUM ANALYZE bench_raw_page")
        results = []
        for _ in range(runs):
            rows = pages = 0
            after = ""
            start = time.perf_counter()
            while True:
                text, last, count = conn.execute(_PAGE, (after, page)).fetchone()  # type: ignore[misc]
                if not count:
                    break
                rows += count
                pages += 1
                after = last
                assert text.startswith("[")
            seconds = time.perf_counter() - start
            results.append((rows / seconds, rows, pages, seconds))
    rate, rows, pages, seconds = sorted(results)[len(results) // 2]
    return {
        "rows": rows,
        "pages": pages,
        "page_size": page,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rate, 1),
        "runs_rows_per_s": [round(r[0], 1) for r in results],
    }


def main() -> None:
    from bench.run import main as run_all

    argparse.ArgumentParser(description=__doc__).parse_known_args()
    run_all()


if __name__ == "__main__":
    main()
