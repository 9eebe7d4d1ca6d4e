"""A cursor never skips a change, even one committed by a concurrent transaction."""

from __future__ import annotations

import threading

from tests.support import ServerProcess, customer_fields, new_id, op


def test_pulling_while_others_push_misses_nothing(fresh_server: ServerProcess) -> None:
    writers, batches, per_batch = 4, 25, 20
    errors: list[str] = []
    done = threading.Event()

    def write(w: int) -> None:
        api = fresh_server.api()
        dev = f"writer-{w}"
        seq = 0
        for b in range(batches):
            ops = []
            for i in range(per_batch):
                seq += 1
                ops.append(op(seq, "customer", f"c-{w}-{b}-{i}", fields=customer_fields()))
            r = api.push(dev, ops)
            if r.status_code != 200:
                errors.append(r.text)

    replica: dict[str, int] = {}
    seen_versions: list[int] = []

    def read() -> None:
        api = fresh_server.api()
        device = new_id("reader-")
        cursor = None
        while True:
            finished = done.is_set()
            while True:
                body = api.pull(device, cursor, limit=37).json()
                for change in body["changes"]:
                    replica[change["id"]] = change["version"]
                    seen_versions.append(change["version"])
                cursor = body["cursor"]
                if not body["has_more"]:
                    break
            if finished:
                return

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    reader = threading.Thread(target=read)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join()

    assert errors == []
    assert len(replica) == writers * batches * per_batch
    assert seen_versions == sorted(seen_versions)
