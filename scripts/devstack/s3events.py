"""S3 "Object Created" events for the local stack, in the shape EventBridge delivers them.

SeaweedFS has no bucket notifications, but ``weed filer.meta.tail`` streams one pretty-printed
JSON object per filer change. Each new or replaced file under a bucket becomes the EventBridge
event that AWS would send, and is handed to the document_events handler in-process.
"""

from __future__ import annotations

import json
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from scripts.devstack.seaweedfs import weed_binary

VERSIONS_SUFFIX = ".versions"


def object_created_event(
    bucket: str,
    key: str,
    size: int,
    etag: str,
    *,
    version_id: str | None = None,
    region: str = "eu-west-3",
    reason: str = "PutObject",
) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "000000000000",
        "time": now,
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": size,
                "etag": etag,
                "sequencer": uuid.uuid4().hex[:18].upper(),
                **({"version-id": version_id} if version_id else {}),
            },
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": "000000000000",
            "source-ip-address": "127.0.0.1",
            "reason": reason,
        },
    }


def json_objects(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Split meta.tail's output (pretty-printed JSON objects, one after another) into objects."""
    decoder = json.JSONDecoder()
    buffer = ""
    for line in lines:
        buffer += line
        if line.rstrip() != "}":
            continue
        try:
            value, _ = decoder.raw_decode(buffer.strip())
        except json.JSONDecodeError:
            continue
        buffer = ""
        if isinstance(value, dict):
            yield value


def created_objects(lines: Iterator[str], bucket: str) -> Iterator[tuple[str, int, str, str | None]]:
    """(key, size, etag, version id) for every file created or replaced in ``bucket``, from
    meta.tail output (the version id is None for an unversioned write)."""
    root = f"/buckets/{bucket}"
    for change in json_objects(lines):
        notification = change.get("eventNotification") or change.get("event_notification") or {}
        entry = notification.get("newEntry") or notification.get("new_entry")
        directory = str(change.get("directory", ""))
        if not entry or entry.get("isDirectory") or entry.get("is_directory"):
            continue
        if not (directory == root or directory.startswith(root + "/")):
            continue
        extended = entry.get("extended") or {}
        if any("Delete-Marker" in name for name in extended):
            continue
        name = str(entry["name"])
        version_id = None
        if directory.endswith(VERSIONS_SUFFIX) and name.startswith("v_"):
            # A versioned bucket keeps each version as <key>.versions/v_<version id>.
            key = directory[len(root) + 1 : -len(VERSIONS_SUFFIX)]
            version_id = name[len("v_") :]
        else:
            key = f"{directory[len(root) + 1 :]}/{name}".lstrip("/")
        if key.startswith(".uploads/"):
            continue
        attributes = entry.get("attributes") or {}
        size = int(attributes.get("fileSize") or attributes.get("file_size") or _chunks_size(entry))
        yield key, size, _etag(entry, extended), version_id


def _chunks_size(entry: dict[str, Any]) -> int:
    return sum(int(c.get("size", 0)) for c in entry.get("chunks") or [])


def _etag(entry: dict[str, Any], extended: dict[str, Any]) -> str:
    import base64

    raw = extended.get("Seaweed-X-Amz-ETag") or extended.get("etag")
    if raw:
        try:
            return base64.b64decode(raw).decode().strip('"')
        except (ValueError, UnicodeDecodeError):
            return str(raw).strip('"')
    md5 = (entry.get("attributes") or {}).get("md5")
    if md5:
        return base64.b64decode(md5).hex()
    return ""


class ObjectCreatedRelay:
    """Follows the filer and calls ``deliver(event)`` for each object created in ``bucket``."""

    def __init__(self, filer_address: str, bucket: str, deliver: Callable[[dict[str, Any]], None]) -> None:
        self.filer_address = filer_address
        self.bucket = bucket
        self.deliver = deliver
        self.process: subprocess.Popen[str] | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> ObjectCreatedRelay:
        self.process = subprocess.Popen(
            [
                weed_binary(),
                "filer.meta.tail",
                f"-filer={self.filer_address}",
                f"-pathPrefix=/buckets/{self.bucket}/",
                "-timeAgo=0s",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.thread = threading.Thread(target=self._run, name="s3-events", daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for key, size, etag, version_id in created_objects(
            iter(self.process.stdout.readline, ""), self.bucket
        ):
            self.deliver(object_created_event(self.bucket, key, size, etag, version_id=version_id))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
