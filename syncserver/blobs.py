"""The local blob store of the embedded default: photo bytes on disk, behind signed URLs.

A blob's file is named by the SHA-256 of its key, so no key can reach outside
the store's directory. URLs carry an expiry and an HMAC of (method, key,
expiry) under a secret every server process shares (kept in the database):
the signature is the authorization (PROTOCOL.md section 2).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode


class BlobMismatch(Exception):
    """The bytes are not the ones declared: another size or another sha256."""


@dataclass(frozen=True)
class LocalBlobStore:
    root: Path
    secret: bytes

    def path(self, key: str) -> Path:
        name = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self.root / name[:2] / name

    def signature(self, method: str, key: str, expires: int) -> str:
        message = f"{method}\n{key}\n{expires}".encode("utf-8", "surrogatepass")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def url(self, base: str, method: str, key: str, expires: int) -> str:
        query = urlencode({"expires": expires, "sig": self.signature(method, key, expires)})
        return f"{base.rstrip('/')}/blobs/{quote(key)}?{query}"

    def signed(self, method: str, key: str, expires: str | None, sig: str | None, now: int) -> bool:
        """Whether a request carries a valid, unexpired signature for this method and key."""
        if not expires or not sig or not expires.isdigit() or int(expires) < now:
            return False
        return hmac.compare_digest(sig, self.signature(method, key, int(expires)))

    async def store(self, key: str, chunks: AsyncIterator[bytes], size: int, sha256: str) -> None:
        """Write the bytes if, and only if, they have exactly this size and sha256."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, count = hashlib.sha256(), 0
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    count += len(chunk)
                    if count > size:
                        raise BlobMismatch(f"more than the declared {size} bytes")
                    digest.update(chunk)
                    out.write(chunk)
            if count != size:
                raise BlobMismatch(f"{count} bytes, not the declared {size}")
            if digest.hexdigest() != sha256.lower():
                raise BlobMismatch("the bytes do not have the declared sha256")
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
