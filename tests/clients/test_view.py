"""The optimistic view (docs/sdk.md): a write shows at once, and after a sync the view
is exactly the server's state, for any interleaving of local writes, pulls and other
devices' writes."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients import Device
from tests.support import Api, ServerProcess, device_store, new_id, op

IDS = 3
values = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["Acme", "Nordic Storage", "Volt & Co"]),
        "phone": st.sampled_from(["555", "556", None]),
        "type": st.sampled_from(["commercial", "utility"]),
    },
)
local_write = st.tuples(
    st.just("write"), st.sampled_from(["create", "update", "delete"]), st.integers(0, IDS - 1),
    values,
)  # fmt: skip
other_write = st.tuples(st.just("other"), st.integers(0, IDS - 1), values)
steps = st.lists(st.one_of(local_write, other_write, st.just(("pull",))), max_size=12)


def served(admin: Api, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The customers among `ids` as a fresh full pull holds them."""
    reader = admin.device(new_id("reader-"))
    reader.pull()
    return {k[1]: v for k, v in reader.replica.items() if k[0] == "customer" and k[1] in ids}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_the_view_shows_each_write_at_once_and_is_the_servers_state_after_sync(
    server: ServerProcess, steps: list[tuple[Any, ...]]
) -> None:
    admin = server.api()
    ids = [new_id(f"c{i}-") for i in range(IDS)]
    device_id, other, other_seq = new_id("tab-"), new_id("other-"), 0
    d = Device.open(server.base_url, admin.token, device_id, device_store(device_id))
    try:
        for step in steps:
            if step[0] == "write":
                _, action, i, fields = step
                before = d.get("customer", ids[i])
                if action == "create":
                    d.create("customer", ids[i], {"name": "Acme", "type": "commercial", **fields})
                elif action == "update" and fields:
                    d.update("customer", ids[i], fields)
                elif action == "delete":
                    d.delete("customer", ids[i])
                shown = d.get("customer", ids[i])
                if action == "delete" or (action == "update" and before is None):
                    assert shown is None
                elif action == "create" or fields:
                    assert shown is not None and shown["pending"]
                    assert {k: shown[k] for k in fields} == fields
            elif step[0] == "other":
                _, i, fields = step
                other_seq += 1
                create = {"name": "Other", "type": "industrial", **fields}
                r = admin.push(other, [op(other_seq, "customer", ids[i], fields=create)])
                assert r.status_code == 200, r.text
            else:
                d.sync()
        d.sync()
        assert d.pending() == 0
        view = {c["id"]: c for c in d.query("customer") if c["id"] in ids}
        for doc in view.values():
            assert doc.pop("pending") is False
        assert view == served(admin, ids)
    finally:
        d.close()
