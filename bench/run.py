"""All three sync benches in one run, on one PostgreSQL instance, with the ratios.

    python -m bench.run [--database-url URL] [--ops 100000] [--entities 100000]
                        [--workers N]

The server runs with one worker per core (`--workers`, default: this machine's
cores), as it would be deployed; the ingest is also measured with a single
worker, into a database of its own, and reported beside it.

Targets (2 cores): ingest >= 50% of raw upserts, pull >= 40% of raw paging,
p99 of a 200-op push < 150 ms with 8 clients. Writes bench/results/sync.json.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from bench import ingest, pg_limit, pull
from bench.common import (
    ADMIN_TOKEN,
    cpu_delta,
    cpu_seconds,
    drop_database,
    fresh_database,
    postgres,
    server,
    write_result,
)
from bench.workload import op_stream

# A pull of the backlog takes about 0.2 s here: the pull and the raw paging each
# report the median of this many runs.
PAGING_RUNS = 5


def _report(label: str, result: dict[str, Any]) -> None:
    print(f"{label} CPU seconds: {result['cpu_seconds']}", flush=True)
    print(
        f"{label}: {result['ops_per_s']} ops/s, push p50 "
        f"{result['p50_ms']} ms, p99 {result['p99_ms']} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    streams = op_stream(total_ops=args.ops)
    with postgres(args.database_url) as admin_url:
        single_url = fresh_database(admin_url)
        with server(single_url, workers=1) as srv:
            ingest.prepare(srv.url, ADMIN_TOKEN)
            before = cpu_seconds(srv.proc.pid)
            single = ingest.run(srv.url, ADMIN_TOKEN, streams)
            single["cpu_seconds"] = cpu_delta(before, cpu_seconds(srv.proc.pid))
        _report("ingest, 1 worker", single)
        drop_database(admin_url, single_url)  # the rest runs as if it had not been there
        database_url = fresh_database(admin_url)
        with server(database_url, workers=args.workers) as srv:
            ingest.prepare(srv.url, ADMIN_TOKEN)
            before = cpu_seconds(srv.proc.pid)
            ingest_result = ingest.run(srv.url, ADMIN_TOKEN, streams)
            ingest_result["cpu_seconds"] = cpu_delta(before, cpu_seconds(srv.proc.pid))
            ingest_result["workers"] = args.workers
            _report(f"ingest, {args.workers} workers", ingest_result)
            pull.prepare_backlog(srv.url, ADMIN_TOKEN, args.entities)
            pull.settle(database_url)
            runs = [pull.run(srv.url, ADMIN_TOKEN) for _ in range(PAGING_RUNS)]
            pull_result = sorted(runs, key=lambda r: r["changes_per_s"])[PAGING_RUNS // 2]
            pull_result["runs_changes_per_s"] = [r["changes_per_s"] for r in runs]
            print(
                f"pull: {pull_result['changes_per_s']} changes/s "
                f"({pull_result['changes']} changes)",
                flush=True,
            )
        upserts = pg_limit.run_upserts(database_url, streams, per_op=True)
        print(f"raw upserts (one per op, batched): {upserts['rows_per_s']} rows/s", flush=True)
        premerged = pg_limit.run_upserts(database_url, streams, per_op=False)
        print(
            f"raw upserts (batch pre-merged per job, set-based): {premerged['rows_per_s']} ops/s",
            flush=True,
        )
        paging = pg_limit.run_paging(database_url, runs=PAGING_RUNS)
        print(f"raw paging: {paging['rows_per_s']} rows/s ({paging['rows']} rows)", flush=True)
    ratios = {
        "ingest_vs_raw_upserts": round(ingest_result["ops_per_s"] / upserts["rows_per_s"], 3),
        "ingest_one_worker_vs_raw_upserts": round(single["ops_per_s"] / upserts["rows_per_s"], 3),
        "ingest_vs_premerged_upserts": round(
            ingest_result["ops_per_s"] / premerged["rows_per_s"], 3
        ),
        "pull_vs_raw_paging": round(pull_result["changes_per_s"] / paging["rows_per_s"], 3),
    }
    targets = {
        "ingest_vs_raw_upserts >= 0.5": ratios["ingest_vs_raw_upserts"] >= 0.5,
        "pull_vs_raw_paging >= 0.4": ratios["pull_vs_raw_paging"] >= 0.4,
        "push_p99_ms < 150": ingest_result["p99_ms"] < 150,
    }
    print(
        f"ratios: ingest/raw {ratios['ingest_vs_raw_upserts']} ({args.workers} workers; "
        f"1 worker: {ratios['ingest_one_worker_vs_raw_upserts']}), "
        f"pull/raw {ratios['pull_vs_raw_paging']}"
    )
    for name, ok in targets.items():
        print(f"  {'met ' if ok else 'MISSED'} {name}")
    print(
        "wrote",
        write_result(
            "sync",
            {
                "ingest": ingest_result,
                "ingest_one_worker": single,
                "pull": pull_result,
                "pg_upserts": upserts,
                "pg_upserts_premerged": premerged,
                "pg_paging": paging,
                "ratios": ratios,
                "targets_met": targets,
            },
        ),
    )


if __name__ == "__main__":
    main()
