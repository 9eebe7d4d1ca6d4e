"""All three sync benches in one run, on one PostgreSQL instance, with the ratios.

    python -m bench.run [--database-url URL] [--ops 100000] [--entities 100000]

Targets (2 cores): ingest >= 50% of raw upserts, pull >= 40% of raw paging,
p99 of a 200-op push < 150 ms with 8 clients. Writes bench/results/sync.json.
"""

from __future__ import annotations

import argparse

from bench import ingest, pg_limit, pull
from bench.common import (
    ADMIN_TOKEN,
    cpu_delta,
    cpu_seconds,
    fresh_database,
    postgres,
    server,
    write_result,
)
from bench.workload import op_stream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--entities", type=int, default=100_000)
    args = parser.parse_args()
    streams = op_stream(total_ops=args.ops)
    with postgres(args.database_url) as admin_url:
        database_url = fresh_database(admin_url)
        with server(database_url) as srv:
            ingest.prepare(srv.url, ADMIN_TOKEN)
            before = cpu_seconds(srv.proc.pid)
            ingest_result = ingest.run(srv.url, ADMIN_TOKEN, streams)
            ingest_result["cpu_seconds"] = cpu_delta(before, cpu_seconds(srv.proc.pid))
            print(f"ingest CPU seconds: {ingest_result['cpu_seconds']}", flush=True)
            print(
                f"ingest: {ingest_result['ops_per_s']} ops/s, push p50 "
                f"{ingest_result['p50_ms']} ms, p99 {ingest_result['p99_ms']} ms",
                flush=True,
            )
            pull.prepare_backlog(srv.url, ADMIN_TOKEN, args.entities)
            pull.settle(database_url)
            runs = [pull.run(srv.url, ADMIN_TOKEN) for _ in range(3)]
            pull_result = sorted(runs, key=lambda r: r["changes_per_s"])[1]  # the median
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
        paging = pg_limit.run_paging(database_url)
        print(f"raw paging: {paging['rows_per_s']} rows/s ({paging['rows']} rows)", flush=True)
    ratios = {
        "ingest_vs_raw_upserts": round(ingest_result["ops_per_s"] / upserts["rows_per_s"], 3),
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
        f"ratios: ingest/raw {ratios['ingest_vs_raw_upserts']}, "
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
