"""S3 keys and presigned URLs for documents.

Clients move the bytes directly to and from S3; the API only signs. Presigning is local
(no network call); only multipart start/completion, HEAD and delete reach S3.
boto3 is imported lazily so that routes that never touch S3 do not pay for it at cold start.
"""

from __future__ import annotations

import base64
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from patronus.deadline import deadline
from patronus.errors import BadRequest, NotFound, Unavailable
from patronus.models import MAX_PARTS, PART_PAGE
from patronus.settings import StorageSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

MAX_KEY_NAME_LENGTH = 120
KEY_PREFIX = "documents/"  # every uploaded document's key starts with it
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# One S3 call: at most S3_ATTEMPTS x (connect + read) seconds; an attempt that could not end
# before the invocation's deadline is not started (patronus.deadline).
S3_CONNECT_TIMEOUT = 1
S3_READ_TIMEOUT = 3
S3_ATTEMPTS = 2


def _check_deadline(**_: Any) -> None:
    deadline.require(S3_CONNECT_TIMEOUT + S3_READ_TIMEOUT, "the document storage")


def safe_name(filename: str) -> str:
    """A key-safe version of a client's file name: no path, no control characters, ASCII only.

    ``../../etc/passwd`` becomes ``passwd``; ``Relevé été.pdf`` becomes ``Releve_ete.pdf``;
    names longer than the limit are cut while keeping the extension. The original name is
    stored separately and given back on download.
    """
    base = _CONTROL.sub("", filename).replace("\\", "/").split("/")[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._-")
    if not cleaned:
        return "file"
    if len(cleaned) > MAX_KEY_NAME_LENGTH:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 16 and stem:
            cleaned = f"{stem[: MAX_KEY_NAME_LENGTH - len(extension) - 1]}.{extension}"
        else:
            cleaned = cleaned[:MAX_KEY_NAME_LENGTH]
    return cleaned


def document_key(dossier_public_id: str, document_public_id: str, filename: str) -> str:
    return f"{KEY_PREFIX}{dossier_public_id}/{document_public_id}/{safe_name(filename)}"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    printable = _CONTROL.sub("", filename).replace("\\", "/").split("/")[-1] or "file"
    fallback = safe_name(printable).replace('"', "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(printable, safe='')}"


# Media types a browser would render or run on the storage's origin (markup, scripts, styles,
# plug-ins): served as opaque bytes instead. Everything is downloaded as an attachment anyway;
# this keeps a browser that ignores the disposition (or a viewer) from rendering it.
_ACTIVE_TYPES = re.compile(
    r"^(text/(html|xml|xsl|css|javascript|ecmascript|vtt)|application/(xhtml|xml|javascript|ecmascript|"
    r"x-javascript|x-shockwave-flash|pdf-active|java-archive|wasm)|image/svg|multipart/)"
    r"|[+/](xml|javascript)(;|$)"
)
SAFE_CONTENT_TYPE = "application/octet-stream"


def served_content_type(content_type: str) -> str:
    """The Content-Type a download is served with: the declared one, unless it is active."""
    lowered = content_type.strip().lower()
    return SAFE_CONTENT_TYPE if _ACTIVE_TYPES.search(lowered) else lowered


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class PresignedPart:
    part_number: int
    url: str


@dataclass(frozen=True)
class MultipartUpload:
    upload_id: str
    part_size: int
    part_count: int
    parts: list[PresignedPart]  # the first page (at most PART_PAGE)


@dataclass(frozen=True)
class PartPlan:
    """How a file of ``size`` bytes is cut: ``count`` parts of ``part_size``, the last shorter."""

    size: int
    part_size: int

    @property
    def count(self) -> int:
        return max(1, math.ceil(self.size / self.part_size))

    def length(self, number: int) -> int:
        """The exact byte count of part ``number`` (1-based): the part size, or the remainder."""
        if not 1 <= number <= self.count:
            raise BadRequest(f"part numbers of this upload are 1 to {self.count}")
        return min(self.part_size, self.size - (number - 1) * self.part_size)


@dataclass(frozen=True)
class StaleUpload:
    """A multipart upload the bucket holds (ListMultipartUploads)."""

    key: str
    upload_id: str
    initiated: datetime


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str
    version_id: str | None = None
    sha256: str | None = None  # hex, as the storage computed or verified it; None if it has none


def sha256_b64(hex_digest: str) -> str:
    """S3's form of a SHA-256 (base64 of the digest) from the API's (hex)."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def _hex_checksum(response: Mapping[str, Any]) -> str | None:
    """The object's full SHA-256 in hex; None when S3 has none, or only a checksum of checksums
    (a multipart upload's ``...-<parts>`` COMPOSITE value)."""
    value = response.get("ChecksumSHA256")
    if not value or "-" in str(value) or response.get("ChecksumType", "FULL_OBJECT") != "FULL_OBJECT":
        return None
    try:
        return base64.b64decode(str(value), validate=True).hex()
    except ValueError:
        return None


class DocumentStorage:
    """The documents bucket, seen from the API."""

    def __init__(self, settings: StorageSettings, client: S3Client | None = None) -> None:
        self.settings = settings
        self._client = client
        self._deadline_checked = False

    @property
    def client(self) -> S3Client:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                region_name=self.settings.region,
                endpoint_url=self.settings.endpoint_url,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path" if self.settings.endpoint_url else "virtual"},
                    connect_timeout=S3_CONNECT_TIMEOUT,
                    read_timeout=S3_READ_TIMEOUT,
                    retries={"max_attempts": S3_ATTEMPTS, "mode": "standard"},
                ),
            )
        if not self._deadline_checked:
            # Every attempt (the retry too) must be able to finish before the deadline.
            self._client.meta.events.register("before-send.s3", _check_deadline)
            self._deadline_checked = True
        return self._client

    def needs_multipart(self, size: int) -> bool:
        return size > self.settings.multipart_threshold

    def presign_post(
        self, key: str, *, content_type: str, size: int, sha256: str | None = None
    ) -> PresignedPost:
        """A POST form that S3 accepts only for exactly ``size`` bytes of ``content_type`` and,
        when ``sha256`` (hex) is given, only for bytes with that SHA-256: the checksum fields are
        in the signed policy, and S3 refuses other bytes (400 BadDigest)."""
        fields: dict[str, str] = {"Content-Type": content_type}
        if sha256:
            fields |= {"x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": sha256_b64(sha256)}
        conditions: list[Any] = [["content-length-range", size, size]]
        conditions += [{name: value} for name, value in fields.items()]
        post = self.client.generate_presigned_post(
            Bucket=self.settings.bucket,
            Key=key,
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=self.settings.upload_url_ttl,
        )
        return PresignedPost(url=post["url"], fields={k: str(v) for k, v in post["fields"].items()})

    def part_plan(self, size: int) -> PartPlan:
        plan = PartPlan(size, self.settings.multipart_part_size)
        if plan.count > MAX_PARTS:
            raise BadRequest("the file is too large for a multipart upload with this part size")
        return plan

    def start_multipart(self, key: str, *, content_type: str, size: int) -> MultipartUpload:
        """Start a multipart upload and sign its first page of part URLs."""
        plan = self.part_plan(size)
        with _s3_errors():
            upload_id = self.client.create_multipart_upload(
                Bucket=self.settings.bucket, Key=key, ContentType=content_type
            )["UploadId"]
        first = range(1, min(plan.count, PART_PAGE) + 1)
        return MultipartUpload(
            upload_id, plan.part_size, plan.count, self.presign_parts(key, upload_id, plan, first)
        )

    def presign_parts(
        self, key: str, upload_id: str, plan: PartPlan, numbers: Iterable[int]
    ) -> list[PresignedPart]:
        """PUT URLs of parts ``numbers``, each signing its exact length: S3 refuses a body of
        another size (the signed ``content-length`` header no longer matches)."""
        return [
            PresignedPart(
                number,
                self.client.generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": self.settings.bucket,
                        "Key": key,
                        "UploadId": upload_id,
                        "PartNumber": number,
                        "ContentLength": plan.length(number),
                    },
                    ExpiresIn=self.settings.upload_url_ttl,
                ),
            )
            for number in numbers
        ]

    def complete_multipart(self, key: str, upload_id: str) -> None:
        """Complete with the parts S3 holds (the client need not send its ETags)."""
        with _s3_errors():
            parts: list[CompletedPartTypeDef] = []
            paginator = self.client.get_paginator("list_parts")
            for page in paginator.paginate(Bucket=self.settings.bucket, Key=key, UploadId=upload_id):
                parts += [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in page.get("Parts", [])]
            if not parts:
                raise BadRequest("no part of this upload has been received")
            self.client.complete_multipart_upload(
                Bucket=self.settings.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": sorted(parts, key=lambda p: p["PartNumber"])},
            )

    def abort_multipart(self, key: str, upload_id: str) -> None:
        with _s3_errors():
            self.client.abort_multipart_upload(Bucket=self.settings.bucket, Key=key, UploadId=upload_id)

    def multipart_uploads(self, prefix: str) -> Iterator[StaleUpload]:
        """Every multipart upload in progress under ``prefix`` (ListMultipartUploads)."""
        with _s3_errors():
            paginator = self.client.get_paginator("list_multipart_uploads")
            for page in paginator.paginate(Bucket=self.settings.bucket, Prefix=prefix):
                for upload in page.get("Uploads", []):
                    yield StaleUpload(upload["Key"], upload["UploadId"], upload["Initiated"])

    def purge(self, key: str) -> int:
        """Remove every version (and delete marker) of exactly ``key`` for good; how many.
        For bytes that never became a document's (an abandoned or aborted upload)."""
        removed = 0
        with _s3_errors(missing_ok=True):
            paginator = self.client.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=self.settings.bucket, Prefix=key):
                for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    if item["Key"] == key:
                        self.delete_version(key, item["VersionId"])
                        removed += 1
        return removed

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo | None:
        """The object's current version (or ``version_id``), with its checksum; None if absent."""
        extra: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        with _s3_errors(missing_ok=True) as outcome:
            response = self.client.head_object(
                Bucket=self.settings.bucket, Key=key, ChecksumMode="ENABLED", **extra
            )
            version = response.get("VersionId")
            return ObjectInfo(
                size=int(response["ContentLength"]),
                etag=response["ETag"].strip('"'),
                version_id=None if version in (None, "null") else str(version),
                sha256=_hex_checksum(cast("Mapping[str, Any]", response)),
            )
        if outcome.missing:
            return None
        raise AssertionError("unreachable")

    def delete(self, key: str) -> None:
        """Delete the current version; bucket versioning keeps the bytes as a noncurrent version."""
        with _s3_errors():
            self.client.delete_object(Bucket=self.settings.bucket, Key=key)

    def delete_version(self, key: str, version_id: str) -> None:
        """Remove one version for good (bytes written where none may be)."""
        with _s3_errors(missing_ok=True):
            self.client.delete_object(Bucket=self.settings.bucket, Key=key, VersionId=version_id)

    def presign_get(
        self, key: str, *, filename: str, content_type: str, version_id: str | None = None
    ) -> str:
        """A download of the version the document is pinned to (the current one for documents
        recorded before versions were), always as an attachment."""
        params: dict[str, Any] = {
            "Bucket": self.settings.bucket,
            "Key": key,
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": served_content_type(content_type),
        }
        if version_id:
            params["VersionId"] = version_id
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self.settings.download_url_ttl
        )


class _Outcome:
    missing = False


class _s3_errors:
    """Map botocore errors: not found -> NotFound (or ``missing`` when allowed), else Unavailable."""

    def __init__(self, *, missing_ok: bool = False) -> None:
        self.missing_ok = missing_ok
        self.outcome = _Outcome()

    def __enter__(self) -> _Outcome:
        return self.outcome

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            return False
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}:
                if self.missing_ok:
                    self.outcome.missing = True
                    return True
                raise NotFound("the stored object or upload does not exist") from exc
            if code in {"InvalidPart", "InvalidPartOrder", "EntityTooSmall"}:
                raise BadRequest("the uploaded parts are incomplete or invalid") from exc
            raise Unavailable("the document storage refused the request") from exc
        if isinstance(exc, BotoCoreError):
            raise Unavailable("the document storage cannot be reached") from exc
        return False
