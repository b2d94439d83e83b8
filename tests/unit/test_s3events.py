"""Parsing of SeaweedFS filer change streams into S3 Object Created events."""

from __future__ import annotations

import base64
import json

from scripts.devstack.s3events import created_objects, object_created_event


def change(directory: str, name: str, *, is_dir: bool = False, size: int = 0, etag: str | None = None) -> str:
    entry: dict = {"name": name, "isDirectory": is_dir, "attributes": {"fileSize": str(size)}}
    if etag:
        entry["extended"] = {"Seaweed-X-Amz-ETag": base64.b64encode(etag.encode()).decode()}
    return json.dumps(
        {"directory": directory, "eventNotification": {"oldEntry": None, "newEntry": entry}}, indent=2
    )


def test_files_become_events_directories_and_multipart_parts_do_not() -> None:
    # Given a stream like `weed filer.meta.tail` prints (pretty JSON objects back to back)
    stream = "\n".join(
        [
            change("/buckets/b", "documents", is_dir=True),
            change("/buckets/b/documents/x", "f.pdf", size=5, etag="abc"),
            change("/buckets/b/.uploads/123", "0001.part", size=9, etag="p"),
            change("/buckets/other", "g.pdf", size=1, etag="z"),
            change("/buckets/b/big", "x.bin", size=10, etag="def-2"),
            change("/buckets/b/v/doc.pdf.versions", "v_0123abcd", size=7, etag="ver"),
        ]
    )
    # When it is parsed for bucket b
    found = list(created_objects(iter(stream.splitlines(keepends=True)), "b"))
    # Then only the real objects of bucket b come out (a version under its key), with size and ETag
    assert found == [
        ("documents/x/f.pdf", 5, "abc", None),
        ("big/x.bin", 10, "def-2", None),
        ("v/doc.pdf", 7, "ver", "0123abcd"),
    ]


def test_event_has_the_eventbridge_shape() -> None:
    event = object_created_event("bucket", "documents/a/b/c.pdf", 12, "e1")
    assert event["detail-type"] == "Object Created" and event["source"] == "aws.s3"
    assert event["detail"]["bucket"]["name"] == "bucket"
    assert event["detail"]["object"] == {
        **event["detail"]["object"],
        "key": "documents/a/b/c.pdf",
        "size": 12,
    }
