"""Bad bodies and hostile values: the right error code, nothing lost, never a 5xx."""

from __future__ import annotations

import socket
import time

import pytest

from tests.support import ServerProcess, customer_fields, new_id, op

HEADERS = {"Content-Type": "application/json"}


def raw_push(server: ServerProcess, body: bytes, content_type: str = "application/json"):  # type: ignore[no-untyped-def]
    return server.api().http.post(
        "/sync/push", content=body, headers={"Content-Type": content_type}
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"device_id": "d1", "ops": [',  # truncated
        b"not json at all",
        b'{"device_id": "d1", "ops": [{"seq": 1, "ts": NaN}]}',  # NaN is not JSON
        b'{"device_id": "\xff\xfe", "ops": []}',  # invalid UTF-8
        b'{"device_id": "d1"}',  # no ops
        b'{"device_id": "d1", "ops": []}',  # empty batch
        b'{"device_id": "d1", "ops": {"seq": 1}}',  # wrong shape
        b'{"device_id": "d1", "ops": [{"seq": "one", "ts": 1}]}',  # seq not an int
        b'{"device_id": "d1", "ops": [{"seq": 0, "ts": 1}]}',  # seq starts at 1
        b'{"device_id": "has space", "ops": [{"seq": 1, "ts": 1}]}',  # bad device id
        b'{"device_id": "' + b"x" * 65 + b'", "ops": [{"seq": 1, "ts": 1}]}',  # device id too long
        b"[]",
        b"",
    ],
)
def test_malformed_push_bodies_are_invalid_requests(server: ServerProcess, body: bytes) -> None:
    r = raw_push(server, body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_request"
    assert set(r.json()) == {"error"}


@pytest.mark.parametrize(
    ("ops", "where"),
    [
        (b'[{"seq": 1, "ts": 1}, {"seq": "two", "ts": 1}]', "`$.ops[1].seq`"),
        (b'[{"seq": 1, "ts": 1}, 7]', "`$.ops[1]`"),
        (b'[{"ts": 1}]', "`$.ops[0]`"),
        (b'[{"seq": 1, "ts": 1, "fields": {"x": 1e999}}, {"seq": "x", "ts": 1}]', "`$.ops[1].seq`"),
    ],
)
def test_a_malformed_op_is_named_by_its_place_in_the_body(
    server: ServerProcess, ops: bytes, where: str
) -> None:
    r = raw_push(server, b'{"device_id": "' + new_id("d-").encode() + b'", "ops": ' + ops + b"}")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert where in r.json()["error"]["message"], r.json()


def test_more_than_1000_ops_is_an_invalid_request(server: ServerProcess) -> None:
    ops = [op(i, "customer", f"c{i}", fields=customer_fields()) for i in range(1, 1002)]
    r = server.api().push(new_id("dev-"), ops)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request")


def test_a_body_over_the_limit_is_payload_too_large_and_nothing_is_stored(
    server: ServerProcess,
) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    big = "x" * (5 * 1024 * 1024)
    r = api.push(dev, [op(1, "customer", cid, fields=customer_fields(name=big))])
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")
    assert (
        api.push(dev, [op(1, "customer", cid, fields=customer_fields())]).json()["acked_seq"] == 1
    )


def test_a_chunked_body_over_the_limit_is_refused_too(server: ServerProcess) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"device_id": "d1", "ops": [{"seq": 1, "ts": 1, "fields": {"x": "'
        for _ in range(6):
            yield b"y" * (1024 * 1024)
        yield b'"}}]}'

    r = server.api().http.post("/sync/push", content=chunks(), headers=HEADERS)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")


def test_requests_without_a_valid_token_are_unauthorized(server: ServerProcess) -> None:
    import httpx

    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        r = httpx.post(f"{server.base_url}/sync/pull", json={"device_id": "d"}, headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized")


def test_unknown_paths_answer_not_found_in_the_error_shape(server: ServerProcess) -> None:
    r = server.api().get("/no/such/thing")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


HOSTILE_REJECTED = [
    ("nul", '{"name": "a\\u0000b", "type": "commercial"}', "U+0000"),
    ("lone high surrogate", '{"name": "a\\ud800b", "type": "commercial"}', "surrogate"),
    ("lone low surrogate", '{"name": "\\udc00", "type": "commercial"}', "surrogate"),
    ("overflowing number", '{"name": "n", "type": "commercial", "phone": 1e400}', "phone"),
    (
        "too long by one code point",
        '{"name": "' + "\U0001f50b" * 201 + '", "type": "commercial"}',
        "name",
    ),
    ("nul in a field name", '{"na\\u0000me": "x", "type": "commercial"}', "unknown field"),
]


@pytest.mark.parametrize(
    ("label", "fields_json", "needle"), HOSTILE_REJECTED, ids=[h[0] for h in HOSTILE_REJECTED]
)
def test_hostile_values_are_rejected_per_op_and_still_logged(
    server: ServerProcess, label: str, fields_json: str, needle: str
) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    bad_op = (
        '{"seq": 1, "ts": 1000, "tc": 0, "entity": "customer", "id": "'
        + cid
        + '", "action": "create", "base": 0, "fields": '
        + fields_json
        + "}"
    )
    body = ('{"device_id": "' + dev + '", "ops": [' + bad_op + "]}").encode()
    r = raw_push(server, body)
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    assert result["status"] == "rejected" and result["error"]["code"] == "invalid_op"
    assert needle in result["error"]["message"]
    # It is in the device log: resending it is a duplicate, changing it is seq_reused.
    again = raw_push(server, body)
    assert again.json()["results"][0]["status"] == "duplicate"
    changed = raw_push(server, body.replace(b'"ts": 1000', b'"ts": 1001'))
    assert (changed.status_code, changed.json()["error"]["code"]) == (409, "seq_reused")
    assert api.get(f"/api/customers/{cid}").status_code == 404


STORED_EXACTLY = [
    "'; DROP TABLE entities; --",
    "Robert'); DELETE FROM device_log WHERE ('1'='1",
    "$1 %s %(name)s {0} \\ \\\\ \" ' `",
    "<script>alert(1)</script>",
    "\U0001f50b" * 200,  # 200 code points, 800 bytes
    "e\u0301" * 100,  # combining marks count as code points
    "\u202e\u200b\ufeff zero-width and bidi",
    "\U00010000 \U0010ffff astral",
    " leading and trailing spaces ",
]


@pytest.mark.parametrize("value", STORED_EXACTLY)
def test_odd_but_valid_text_is_stored_and_served_back_exactly(
    server: ServerProcess, value: str
) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    r = api.push(dev, [op(1, "customer", cid, fields=customer_fields(name=value))])
    assert r.json()["results"][0]["status"] == "applied"
    assert api.get(f"/api/customers/{cid}").json()["name"] == value
    [change] = [c for c in api.pull(dev).json()["changes"] if c["id"] == cid] or [None]
    assert change is not None and change["data"]["name"] == value


def test_numbers_at_and_beyond_their_ranges(server: ServerProcess) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    results = api.push(
        dev,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(
                2,
                "location",
                new_id(),
                fields={"customer_id": cid, "address": "a", "lat": 90, "lng": -180.0},
            ),
            op(
                3, "location", new_id(), fields={"customer_id": cid, "address": "a", "lat": 90.0001}
            ),
            op(4, "location", new_id(), fields={"customer_id": cid, "address": "a", "lng": True}),
            op(
                5,
                "job_photo",
                new_id(),
                fields={
                    "job_id": "x",
                    "key": "k",
                    "content_type": "image/png",
                    "size": 26214401,
                    "sha256": "a" * 64,
                },
            ),
        ],
    ).json()["results"]
    assert [r["status"] for r in results] == [
        "applied",
        "applied",
        "rejected",
        "rejected",
        "rejected",
    ]


def test_bad_entity_ids_are_rejected_per_op(server: ServerProcess) -> None:
    api = server.api()
    results = api.push(
        new_id("dev-"),
        [
            op(1, "customer", "has space", fields=customer_fields()),
            op(2, "customer", "x" * 65, fields=customer_fields()),
            op(3, "customer", "", fields=customer_fields()),
        ],
    ).json()["results"]
    assert [(r["status"], r["error"]["code"]) for r in results] == [("rejected", "invalid_op")] * 3


def test_user_bodies_are_validated(server: ServerProcess) -> None:
    api = server.api()
    for body in (
        {"email": "nope", "name": "x", "role": "admin"},
        {"email": "a@b.c", "name": "x", "role": "emperor"},
        {"email": "a@b.c", "name": "a\u0000b", "role": "admin"},
        {"email": "a@b.c", "name": "x", "role": "admin", "extra": 1},
    ):
        r = api.post("/api/users", body)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request"), body


def test_nul_in_a_query_parameter_or_path_is_refused_never_a_500(server: ServerProcess) -> None:
    api = server.api()
    for path, params in [
        ("/api/conflicts", {"entity_id": "a\x00b"}),
        ("/api/conflicts", {"cursor": "\x00"}),
        ("/api/jobs", {"customer_id": "c\x00"}),
        ("/api/customers", {"cursor": "\x00"}),
        ("/api/users", {"cursor": "u\x00"}),
        ("/api/devices", {"cursor": "\x00"}),
    ]:
        r = api.get(path, **params)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request", path
    for path in ("/api/jobs/a%00b", "/api/jobs/a%00b/history", "/api/customers/%00",
                 "/api/conflicts/%00"):  # fmt: skip
        r = api.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path


def test_a_client_that_leaves_mid_body_is_not_logged_as_a_server_error(
    server: ServerProcess,
) -> None:
    """A page that navigates away during a push or pull: the server sees the body end
    early. That is the client's doing, not an `internal` error in the server's log."""
    before = server.log_path.read_text()
    with socket.create_connection(("127.0.0.1", server.port)) as raw:
        raw.sendall(
            b"POST /sync/pull HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + server.api().token.encode() + b"\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"device_id": "d-'
        )
        time.sleep(0.3)
    assert server.api().get("/healthz").status_code == 200
    time.sleep(0.3)
    added = server.log_path.read_text()[len(before) :]
    assert "internal" not in added.lower() and "Traceback" not in added
