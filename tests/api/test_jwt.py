"""Bearer JWTs from an external identity provider (docs/protocol.md, "Auth and
roles"): a key set served over local HTTP, and a server that trusts it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.conftest import DatabaseFactory
from tests.support import ServerProcess, free_port

ISSUER = "https://id.example.com/"
AUDIENCE = "fieldsync"


class KeySet:
    """A JWKS endpoint on loopback whose keys a test can change (rotation)."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        keys = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                keys.fetches += 1
                body = json.dumps({"keys": keys.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/.well-known/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, kid: str, private: Any, alg: str) -> None:
        algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
        entry = json.loads(algorithm.to_jwk(private.public_key()))
        self.keys.append(entry | {"kid": kid, "alg": alg, "use": "sig"})


@pytest.fixture(scope="module")
def keys() -> Iterator[KeySet]:
    key_set = KeySet()
    yield key_set
    key_set.httpd.shutdown()
    key_set.httpd.server_close()


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def idp_server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory, keys: KeySet
) -> Iterator[ServerProcess]:
    keys.add("rsa-1", RSA_KEY, "RS256")
    keys.add("ec-1", EC_KEY, "ES256")
    proc = ServerProcess(
        databases.create(),
        tmp_path_factory.mktemp("data"),
        SYNCSERVER_JWT_JWKS_URL=keys.url,
        SYNCSERVER_JWT_ISSUER=ISSUER,
        SYNCSERVER_JWT_AUDIENCE=AUDIENCE,
        SYNCSERVER_JWT_JWKS_REFETCH_S="1",
    )
    proc.start()
    yield proc
    proc.stop()


def token(key: Any = RSA_KEY, alg: str = "RS256", kid: str = "rsa-1", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 600, "iat": now,
            "email": "Tech.One@Example.com"} | claims  # fmt: skip
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, alg, {"kid": kid})


def me(server: ServerProcess, bearer: str) -> httpx.Response:
    return httpx.get(f"{server.base_url}/api/me", headers={"Authorization": f"Bearer {bearer}"})


@pytest.fixture(scope="module")
def technician(idp_server: ServerProcess) -> dict[str, Any]:
    api = idp_server.api()
    user: dict[str, Any] = api.post(
        "/api/users", {"email": "tech.one@example.com", "name": "Tech One", "role": "technician"}
    ).json()
    return user


def test_a_valid_token_of_either_algorithm_names_the_user_by_email(
    idp_server: ServerProcess, technician: dict[str, Any]
) -> None:
    for bearer in (token(), token(EC_KEY, "ES256", "ec-1")):
        r = me(idp_server, bearer)
        assert r.status_code == 200, r.text
        assert r.json()["id"] == technician["id"]


def test_expiry_counts_with_a_minute_of_leeway(
    idp_server: ServerProcess, technician: dict[str, Any]
) -> None:
    now = int(time.time())
    assert me(idp_server, token(exp=now - 30)).status_code == 200
    assert me(idp_server, token(exp=now - 120)).status_code == 401
    assert me(idp_server, token(nbf=now + 300)).status_code == 401
    assert me(idp_server, token(exp=None)).status_code == 401  # no expiry: refused


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://evil.example.com/"},
        {"aud": "another-app"},
        {"email": None},
        {"email": "nobody@example.com"},
    ],  # fmt: skip
)
def test_the_wrong_issuer_audience_or_email_is_unauthorized(
    idp_server: ServerProcess, technician: dict[str, Any], claims: dict[str, Any]
) -> None:
    r = me(idp_server, token(**claims))
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized")


def test_forged_tokens_are_unauthorized(
    idp_server: ServerProcess, technician: dict[str, Any]
) -> None:
    good = token()
    header, payload, _ = good.split(".")
    unsigned = jwt.encode(jwt.decode(good, options={"verify_signature": False}), None, "none")
    public_pem = RSA_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for forged in (
        unsigned,  # alg none
        f"{header}.{payload}.{'A' * 342}",  # a signature that is not the key's
        token(other),  # signed by another key under the same kid
        _hs256_with_public_key(good, public_pem),  # the public key as an HMAC secret
    ):
        r = me(idp_server, forged)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized"), forged


def _hs256_with_public_key(good: str, public_pem: bytes) -> str:
    """The classic confusion: the provider's public key used as an HMAC secret."""
    claims = jwt.decode(good, options={"verify_signature": False})

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def test_a_rotated_key_is_fetched_once_it_signs(
    idp_server: ServerProcess, keys: KeySet, technician: dict[str, Any]
) -> None:
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert me(idp_server, token(new_key, kid="rsa-2")).status_code == 401  # not listed yet
    keys.add("rsa-2", new_key, "RS256")
    time.sleep(1.1)  # the server fetches again at most once per SYNCSERVER_JWT_JWKS_REFETCH_S
    assert me(idp_server, token(new_key, kid="rsa-2")).status_code == 200
    fetches = keys.fetches
    for _ in range(5):  # made-up key ids do not make it fetch again and again
        assert me(idp_server, token(new_key, kid="made-up")).status_code == 401
    assert keys.fetches <= fetches + 1


def test_a_deactivated_user_s_token_is_unauthorized_and_server_tokens_still_work(
    idp_server: ServerProcess,
) -> None:
    api = idp_server.api()
    user = api.post(
        "/api/users", {"email": "gone@example.com", "name": "Gone", "role": "dispatcher"}
    ).json()
    assert me(idp_server, token(email="gone@example.com")).status_code == 200
    api.http.patch(f"/api/users/{user['id']}", json={"active": False})
    assert me(idp_server, token(email="gone@example.com")).status_code == 401
    assert api.http.get("/api/me").json()["id"] == "admin"  # the admin token, not a JWT
