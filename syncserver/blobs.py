"""Blob stores for photo bytes: the local disk of the embedded default, or S3.

The local store keeps bytes on disk, behind signed URLs.

A blob's file is named by the SHA-256 of its key, so no key can reach outside
the store's directory. URLs carry an expiry and an HMAC of (method, key,
expiry) under a secret every server process shares (kept in the database):
the signature is the authorization (docs/protocol.md, "Auth and roles").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from schema.errors import InvalidRequest


class BlobMismatch(InvalidRequest):
    """The bytes are not the ones declared: another size or another sha256."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"upload refused: {reason}")


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

    def upload(
        self, base: str, key: str, content_type: str, size: int, sha256: str, expires: int
    ) -> tuple[str, dict[str, str]]:
        """A PUT URL on this server (`base`), signed until `expires` (epoch seconds), and
        the headers to send with it."""
        url = self.url(base, "PUT", key, expires)
        return url, {"Content-Type": content_type, "Content-Length": str(size)}

    def download_url(self, base: str, key: str, ttl_s: int) -> str:
        return self.url(base, "GET", key, int(time.time()) + ttl_s)

    def signed(self, method: str, key: str, expires: str | None, sig: str | None, now: int) -> bool:
        """Whether a request carries a valid, unexpired signature for this method and key."""
        if not expires or not sig or not expires.isdigit() or int(expires) < now:
            return False
        return hmac.compare_digest(sig, self.signature(method, key, int(expires)))

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def write(self, key: str, data: bytes, content_type: str) -> None:
        """Store bytes the server made itself (a thumbnail)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".write-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, target)

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


class S3BlobStore:
    """Blobs in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO), via boto3.

    Devices PUT to presigned URLs that pin the content type, length and sha256
    checksum; the server never handles the bytes on upload. It verifies a stored
    object off the event loop: by the object's SHA-256 checksum
    when the store kept one (S3 does for these uploads), else by reading the bytes."""

    def __init__(
        self,
        bucket: str,
        endpoint: str | None,
        region: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self._client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(signature_version="s3v4"),
        )

    def upload(
        self, base: str, key: str, content_type: str, size: int, sha256: str, expires: int
    ) -> tuple[str, dict[str, str]]:
        """A PUT URL presigned until `expires` (epoch seconds) and the headers to send with
        it (`base` is not used: the URL is the bucket's)."""
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
        url = self._client.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ContentType": content_type,
                "ContentLength": size,
                "ChecksumSHA256": checksum,
            },
            ExpiresIn=max(1, expires - int(time.time())),
        )
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(size),
            "x-amz-checksum-sha256": checksum,
        }
        return str(url), headers

    def download_url(self, base: str, key: str, ttl_s: int) -> str:
        return str(
            self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=ttl_s
            )
        )

    def read(self, key: str) -> bytes:
        return bytes(self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def holds(self, key: str, size: int, sha256: str) -> bool:
        """Whether the bucket holds exactly these bytes under the key (blocking)."""
        from botocore.exceptions import ClientError

        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError:
            return False
        if head.get("ContentLength") != size:
            return False
        checksum = head.get("ChecksumSHA256")
        if checksum and "-" not in checksum:  # a whole-object checksum the store verified
            return bool(checksum == base64.b64encode(bytes.fromhex(sha256)).decode())
        try:  # the store keeps no checksum: read the bytes and hash them
            obj = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        if obj.get("ContentLength") != size:
            return False
        digest = hashlib.sha256()
        for chunk in obj["Body"].iter_chunks(1 << 20):
            digest.update(chunk)
        return digest.hexdigest() == sha256.lower()
