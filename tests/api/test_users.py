"""Users and tokens (docs/protocol.md, "Auth and roles"): admin bootstrap, expiry, revocation."""

from __future__ import annotations

import time

import httpx

from tests.support import Api, ServerProcess, new_id


def test_the_admin_token_from_the_environment_works(server: ServerProcess) -> None:
    assert server.api().get("/api/users").status_code == 200


def test_an_admin_creates_users_and_duplicate_emails_conflict(server: ServerProcess) -> None:
    api = server.api()
    email = f"{new_id()}@Example.com"
    r = api.post(
        "/api/users",
        {"email": email, "name": "Tess", "role": "technician", "service_areas": ["north"]},
    )
    assert r.status_code == 201
    user = r.json()
    assert user["role"] == "technician" and user["service_areas"] == ["north"] and user["active"]
    assert user["id"]
    again = api.post("/api/users", {"email": email.lower(), "name": "Other", "role": "dispatcher"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")


def test_only_admins_manage_users_and_dispatchers_may_list_them(server: ServerProcess) -> None:
    api = server.api()
    dispatcher, _ = api.user_api("dispatcher")
    technician, tech = api.user_api("technician")
    body = {"email": f"{new_id()}@x.io", "name": "n", "role": "admin"}
    assert dispatcher.post("/api/users", body).json()["error"]["code"] == "forbidden"
    assert dispatcher.get("/api/users").status_code == 200
    r = technician.get("/api/users")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    assert technician.post(f"/api/users/{tech['id']}/tokens", {}).status_code == 403


def test_every_role_reads_its_own_user_at_api_me(server: ServerProcess) -> None:
    api = server.api()
    for role in ("dispatcher", "technician", "service_provider"):
        user_api, user = api.user_api(role)
        r = user_api.get("/api/me")
        assert r.status_code == 200, r.text
        assert r.json() == user
    builtin = api.get("/api/me").json()
    assert (builtin["id"], builtin["role"]) == ("admin", "admin")
    r = httpx.get(f"{server.base_url}/api/me", headers={"Authorization": "Bearer nope"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized")


def test_an_admin_lists_a_users_tokens_without_their_secrets(server: ServerProcess) -> None:
    api = server.api()
    user = api.create_user("technician")
    first = api.token_for(user["id"])
    second = api.token_for(user["id"], ttl_s=3600)
    assert api.http.delete(f"/api/tokens/{first['id']}").status_code == 204
    r = api.get(f"/api/users/{user['id']}/tokens")
    assert r.status_code == 200, r.text
    listed = r.json()["items"]
    assert [t["id"] for t in listed] == [second["id"], first["id"]]  # newest first
    assert listed[0]["expires_at"] and listed[0]["revoked_at"] is None
    assert listed[1]["revoked_at"] is not None
    assert first["token"] not in r.text and second["token"] not in r.text
    dispatcher, _ = api.user_api("dispatcher")
    assert dispatcher.get(f"/api/users/{user['id']}/tokens").status_code == 403
    assert api.get("/api/users/nobody/tokens").status_code == 404


def test_users_list_pages_with_a_cursor(server: ServerProcess) -> None:
    api = server.api()
    for _ in range(3):
        api.create_user("technician")
    seen = [u["id"] for u in api.list_all("/api/users", limit=2)]
    assert len(seen) == len(set(seen)) >= 4


def test_a_token_expires_after_its_ttl(server: ServerProcess) -> None:
    api = server.api()
    user = api.create_user("dispatcher")
    issued = api.token_for(user["id"], ttl_s=1)
    assert issued["expires_at"].endswith("Z")
    short = Api(server.base_url, issued["token"])
    assert short.get("/api/jobs").status_code == 200
    time.sleep(1.2)
    r = short.get("/api/jobs")
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized")


def test_a_revoked_token_stops_working_at_once(server: ServerProcess) -> None:
    api = server.api()
    user = api.create_user("dispatcher")
    issued = api.token_for(user["id"])
    assert Api(server.base_url, issued["token"]).get("/api/jobs").status_code == 200
    assert api.http.delete(f"/api/tokens/{issued['id']}").status_code == 204
    assert Api(server.base_url, issued["token"]).get("/api/jobs").status_code == 401
    assert api.http.delete("/api/tokens/no-such-token").status_code == 404


def test_deactivating_a_user_stops_their_tokens(server: ServerProcess) -> None:
    api = server.api()
    user_api, user = api.user_api("technician")
    assert user_api.get("/api/jobs").status_code == 200
    r = api.http.patch(f"/api/users/{user['id']}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert user_api.get("/api/jobs").status_code == 401
    api.http.patch(f"/api/users/{user['id']}", json={"active": True})
    assert user_api.get("/api/jobs").status_code == 200


def test_an_admin_changes_role_and_service_areas(server: ServerProcess) -> None:
    api = server.api()
    user = api.create_user("technician")
    r = api.http.patch(
        f"/api/users/{user['id']}",
        json={"role": "service_provider", "service_areas": ["east", "west"]},
    )
    assert r.status_code == 200
    assert (r.json()["role"], r.json()["service_areas"]) == ("service_provider", ["east", "west"])
    assert r.json()["name"] == user["name"]
    missing = api.http.patch("/api/users/nobody", json={"name": "x"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


def test_health_needs_no_token(server: ServerProcess) -> None:
    r = httpx.get(f"{server.base_url}/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_openapi_lists_every_route(server: ServerProcess) -> None:
    doc = httpx.get(f"{server.base_url}/openapi.json").json()
    assert {"/sync/push", "/sync/pull", "/api/users", "/api/jobs/{job_id}"} <= set(doc["paths"])
