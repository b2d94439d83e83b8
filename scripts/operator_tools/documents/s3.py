"""S3 and DataSync clients, and S3 listings, for the document tools.

Credentials come from the standard AWS chain (environment, profile, SSO, instance role), read
when the client is made (each client has its own session: boto3's default session would keep
the first credentials it found for the life of the process). The region defaults to eu-west-3
and ``endpoint_url`` points the client at a local S3-compatible server (path-style addressing,
as such servers expect).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEFAULT_REGION = "eu-west-3"


def make_client(
    service: str,
    *,
    region: str = DEFAULT_REGION,
    endpoint_url: str | None = None,
    max_pool_connections: int = 10,
) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region,
        retries={"max_attempts": 10, "mode": "adaptive"},
        max_pool_connections=max(10, max_pool_connections),
        s3={"addressing_style": "path"} if endpoint_url else {},
        signature_version="s3v4" if service == "s3" else None,
    )
    factory: Any = boto3.session.Session().client  # the stubs only type literal service names
    return factory(service, endpoint_url=endpoint_url, config=config)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix``)."""
    if not url.startswith("s3://"):
        raise ValueError(f"{url!r} is not an s3:// URL (expected s3://bucket/prefix/)")
    bucket, _, prefix = url[5:].partition("/")
    if not bucket:
        raise ValueError(f"{url!r} has no bucket name")
    return bucket, prefix


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: datetime | None = None


def iter_objects(client: Any, bucket: str, prefix: str, page_size: int = 1000) -> Iterator[ObjectInfo]:
    """Every object under ``prefix``, page by page (nothing is held beyond one page)."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}):
        for item in page.get("Contents", ()):
            yield ObjectInfo(
                item["Key"], int(item["Size"]), str(item.get("ETag", "")).strip('"'), item.get("LastModified")
            )


@dataclass
class Folder:
    """One level of a delimiter listing: the objects directly below ``prefix`` and the sub-prefixes."""

    prefix: str
    objects: dict[str, ObjectInfo]
    folders: set[str]
    has_marker: bool = False


def list_folder(client: Any, bucket: str, prefix: str) -> Folder:
    """The children of ``prefix`` (which ends with ``/`` or is empty), keyed by their name.

    A zero-byte object whose key is the prefix itself is a folder marker (DataSync writes one per
    folder); it is noted, not listed as a file.
    """
    folder = Folder(prefix, {}, set())
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        for item in page.get("Contents", ()):
            key = item["Key"]
            if key == prefix:
                folder.has_marker = True
                continue
            name = key[len(prefix) :]
            folder.objects[name] = ObjectInfo(key, int(item["Size"]), str(item.get("ETag", "")).strip('"'))
        for common in page.get("CommonPrefixes", ()):
            folder.folders.add(common["Prefix"][len(prefix) :].rstrip("/"))
    return folder
