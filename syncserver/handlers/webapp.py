"""The web app under /ui and the browser SDK module, served by the server itself
(docs/protocol.md, "Web app, SDK module and docs").

Every file of syncserver/webapp is read once, when the app is made. `/ui` and any
path under it that names no file answer index.html (the app routes by the URL's
fragment, so a bookmarked or reloaded path still opens it); a missing file with an
extension is a 404. The service worker (sw.js) is served with the app's version
(a hash of every file and of the SDK module) and the list of files to keep for
offline use, so a new release replaces the old cache on the next visit.
/ui/config.json carries the settings the app reads (the map's tile URL).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from schema.errors import NotFound
from syncserver.config import Settings

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# Files the app never needs at run time.
_SKIP = (".py", ".pyc")
SDK_PATH = "/sdk/fieldsync.js"


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in folder.iterdir():
        name = prefix + entry.name
        if entry.is_dir():
            if entry.name != "__pycache__":
                found.update(_walk(entry, name + "/"))
        elif not entry.name.endswith(_SKIP) and "." + entry.name.rsplit(".", 1)[-1] in _TYPES:
            found[name] = entry
    return found


def _asset(body: bytes, media_type: str) -> Asset:
    return Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


_AWS = "https://*.amazonaws.com"


def _origin(url: str | None) -> str | None:
    """The scheme and host of a URL (a tile template's `{s}.` subdomain as `*.`)."""
    if not url:
        return None
    parts = urlsplit(url.replace("{s}.", "wildcard."))
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".replace("wildcard.", "*.")


def content_security_policy(origins: tuple[str, ...]) -> str:
    """Scripts, styles and fonts from the server's own origin only; images and
    requests also from `origins`; no frames, plugins or foreign base URLs."""
    extra = "".join(f" {origin}" for origin in origins)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; "
        f"img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; "
        "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'"
    )


class WebApp:
    """The files of the web app and the handlers that serve them."""

    def __init__(
        self,
        files: dict[str, bytes],
        sdk: bytes,
        config: dict[str, object],
        origins: tuple[str, ...] = (),
    ) -> None:
        """`config` is served as /ui/config.json: the settings the app reads. `origins`
        are the other hosts the page may load images from and send bytes to: the map's
        tiles, the photo bucket."""
        self.csp = content_security_policy(origins)
        files = {**files, "config.json": json.dumps(config, sort_keys=True).encode()}
        digest = hashlib.sha256(sdk)
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + files[name])
        self.version = digest.hexdigest()[:16]
        self.assets = {
            name: _asset(body, _TYPES["." + name.rsplit(".", 1)[-1]])
            for name, body in files.items()
            if name != "sw.js"
        }
        offline = ["/ui/", SDK_PATH] + [f"/ui/{name}" for name in sorted(self.assets)]
        preamble = (
            f"const VERSION = {json.dumps(self.version)};\n"
            f"const OFFLINE_FILES = {json.dumps(offline)};\n"
        ).encode()
        if "sw.js" in files:
            self.assets["sw.js"] = _asset(preamble + files["sw.js"], _TYPES[".js"])
        self._sdk = _asset(sdk, _TYPES[".js"])

    @classmethod
    def from_package(cls, settings: Settings) -> WebApp:
        package = resources.files("syncserver.webapp")
        files = {name: f.read_bytes() for name, f in _walk(package).items()}
        sdk = resources.files("clients").joinpath("js/fieldsync.js").read_bytes()
        origins = [_origin(settings.map_tile_url)]
        if settings.s3_bucket:
            origins.append(_origin(settings.s3_endpoint) if settings.s3_endpoint else _AWS)
        return cls(
            files, sdk, {"map_tile_url": settings.map_tile_url}, tuple(o for o in origins if o)
        )

    def _send(self, request: Request, asset: Asset) -> Response:
        headers = {"ETag": asset.etag, "Cache-Control": "no-cache"}
        if asset is self.assets.get("sw.js"):
            headers["Service-Worker-Allowed"] = "/ui"  # its scope holds /ui itself, too
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        if asset.media_type.startswith("text/html"):
            headers["Content-Security-Policy"] = self.csp
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    async def sdk(self, request: Request) -> Response:
        """GET /sdk/fieldsync.js: the browser SDK (clients/js/fieldsync.js)."""
        return self._send(request, self._sdk)

    async def page(self, request: Request) -> Response:
        """GET /ui, /ui/ and any path under /ui that is not a file: the app's page."""
        path = request.path_params.get("path", "")
        asset = self.assets.get(path)
        if asset is not None:
            return self._send(request, asset)
        if "." in path.rsplit("/", 1)[-1]:
            raise NotFound(f"no such file: /ui/{path}")
        return self._send(request, self.assets["index.html"])
