"""Settings: one frozen object, read from the environment and the CLI in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8787
    workers: int = 1
    data_dir: str = ".syncserver"
    database_url: str | None = None
    admin_token: str | None = None
    max_clock_skew_ms: int = 300_000
    max_body_bytes: int = 5 * 1024 * 1024
    pool_size: int = 10
    pool_timeout_s: float = 5.0
    statement_timeout_ms: int = 30_000
    request_timeout_s: float = 30.0
    s3_bucket: str | None = None
    s3_endpoint: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    public_url: str | None = None
    upload_url_ttl_s: int = 900
    download_url_ttl_s: int = 300
    blob_retention_s: int = 7 * 86400
    orphan_upload_ttl_s: int = 30 * 86400
    sweep_interval_s: float = 60.0
    log_level: str = "info"
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    cors_origins: str = ""
    metrics_token: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_email_claim: str = "email"
    jwt_jwks_refetch_s: float = 60.0


# (setting, environment variable, help): the documented settings. docs/settings.md lists each.
SETTINGS_DOC: tuple[tuple[str, str, str], ...] = (
    ("host", "SYNCSERVER_HOST", "Interface to listen on (`--host`)."),
    ("port", "SYNCSERVER_PORT", "TCP port (`--port`)."),
    ("workers", "SYNCSERVER_WORKERS", "Worker processes sharing the port (`--workers`)."),
    ("data_dir", "SYNCSERVER_DATA_DIR", "Embedded PostgreSQL data and local blobs (`--data-dir`)."),
    ("database_url", "DATABASE_URL", "libpq URL of an external PostgreSQL 14+; unset: embedded."),
    ("admin_token", "SYNCSERVER_ADMIN_TOKEN", "Bearer token of the built-in admin user."),
    (
        "max_clock_skew_ms",
        "SYNCSERVER_MAX_CLOCK_SKEW_MS",
        "How far ahead of server time an op's ts may be.",
    ),
    ("max_body_bytes", "SYNCSERVER_MAX_BODY_BYTES", "Largest request body accepted."),
    ("pool_size", "SYNCSERVER_POOL_SIZE", "Database connections per worker."),
    ("pool_timeout_s", "SYNCSERVER_POOL_TIMEOUT_S", "Longest wait for a pooled connection."),
    (
        "statement_timeout_ms",
        "SYNCSERVER_STATEMENT_TIMEOUT_MS",
        "Longest run of one SQL statement while serving.",
    ),
    (
        "request_timeout_s",
        "SYNCSERVER_REQUEST_TIMEOUT_S",
        "Longest time a request may take before 503; blob uploads and sockets excepted.",
    ),
    ("s3_bucket", "SYNCSERVER_S3_BUCKET", "Existing bucket for blobs; unset: local disk."),
    (
        "s3_endpoint",
        "SYNCSERVER_S3_ENDPOINT",
        "Endpoint URL for R2, MinIO and other S3-compatible stores.",
    ),
    ("s3_region", "SYNCSERVER_S3_REGION", "Region of the bucket (`auto` for R2)."),
    (
        "s3_access_key_id",
        "SYNCSERVER_S3_ACCESS_KEY_ID",
        "Access key for the bucket; unset: boto3's usual sources (environment, profile, role).",
    ),
    ("s3_secret_access_key", "SYNCSERVER_S3_SECRET_ACCESS_KEY", "Secret of that access key."),
    (
        "public_url",
        "SYNCSERVER_PUBLIC_URL",
        "Base of the absolute URLs the server hands out; unset: the request's own.",
    ),
    ("upload_url_ttl_s", "SYNCSERVER_UPLOAD_URL_TTL_S", "How long an upload URL works."),
    ("download_url_ttl_s", "SYNCSERVER_DOWNLOAD_URL_TTL_S", "How long a photo URL works."),
    (
        "blob_retention_s",
        "SYNCSERVER_BLOB_RETENTION_S",
        "How long a deleted photo's bytes are kept.",
    ),
    (
        "orphan_upload_ttl_s",
        "SYNCSERVER_ORPHAN_UPLOAD_TTL_S",
        "How long bytes no photo uses are kept.",
    ),
    ("sweep_interval_s", "SYNCSERVER_SWEEP_INTERVAL_S", "Seconds between blob sweeps."),
    ("log_level", "SYNCSERVER_LOG_LEVEL", "Log level (debug, info, warning, error)."),
    (
        "map_tile_url",
        "SYNCSERVER_MAP_TILE_URL",
        "The web app's map tiles: a URL template with {z}, {x}, {y}.",
    ),
    (
        "cors_origins",
        "SYNCSERVER_CORS_ORIGINS",
        "Origins (comma-separated) whose browsers may call the API; default none.",
    ),
    ("metrics_token", "SYNCSERVER_METRICS_TOKEN", "A bearer token for GET /metrics alone."),
    ("jwt_jwks_url", "SYNCSERVER_JWT_JWKS_URL", "JWKS of an identity provider: accept its JWTs."),
    ("jwt_issuer", "SYNCSERVER_JWT_ISSUER", "The `iss` a JWT must carry; unset: any."),
    ("jwt_audience", "SYNCSERVER_JWT_AUDIENCE", "An `aud` a JWT must carry; unset: any."),
    ("jwt_email_claim", "SYNCSERVER_JWT_EMAIL_CLAIM", "The JWT claim holding the user's email."),
    (
        "jwt_jwks_refetch_s",
        "SYNCSERVER_JWT_JWKS_REFETCH_S",
        "Least seconds between two fetches of the JWKS for an unknown key id.",
    ),
)


def settings_from_env(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Settings from the environment, then explicit overrides (the CLI's options)."""
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for name, variable, _help in SETTINGS_DOC:
        value = env.get(variable)
        if value not in (None, ""):
            raw[name] = value
    raw.update(
        {k: str(v) if isinstance(v, Path) else v for k, v in overrides.items() if v is not None}
    )
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ValueError(f"invalid setting: {exc}") from None
