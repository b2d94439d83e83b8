"""The local scanner detects the standard EICAR test file and nothing else, and publishes the
scan result in the shape document_events reads GuardDuty's."""

from __future__ import annotations

import hashlib

import pytest

from patronus.services.documents import SCAN_RESULT_EVENT, ScanResult
from patronus_document_events.events import ScanResultEvent
from scripts.devstack.scanner import EICAR, EICAR_THREAT, scan_result_event, threats_in

# The published digest of the 68-byte eicar.com (https://www.eicar.org), independent of EICAR.
EICAR_COM_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"


def test_the_test_string_is_the_standard_68_byte_eicar_file() -> None:
    assert len(EICAR) == 68
    assert hashlib.sha256(EICAR).hexdigest() == EICAR_COM_SHA256


@pytest.mark.parametrize("padding", [b"", b"\r\n", b"   \t\n", b"\x1a"])
def test_the_eicar_file_is_found_with_trailing_whitespace(padding: bytes) -> None:
    assert threats_in(EICAR + padding) == [EICAR_THREAT]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.7 a document",
        EICAR[:-1],  # truncated
        EICAR + b"more text",  # followed by something else than whitespace
        EICAR + b" " * 61,  # longer than the 128 bytes the test file may have
        b"prefix " + EICAR,  # not at the start
    ],
)
def test_nothing_else_is_found(data: bytes) -> None:
    assert threats_in(data) == []


def test_the_event_has_the_guardduty_shape_document_events_reads() -> None:
    event = scan_result_event(
        "bucket",
        "documents/a/b/c.pdf",
        version_id="v1",
        etag="e",
        result=ScanResult.THREATS_FOUND,
        threats=[EICAR_THREAT],
    )
    assert (event["source"], event["detail-type"]) == SCAN_RESULT_EVENT
    parsed = ScanResultEvent.model_validate(event).detail
    assert parsed.scan_status == "COMPLETED"
    assert parsed.s3_object_details.version_id == "v1"
    assert parsed.scan_result_details.scan_result_status == ScanResult.THREATS_FOUND
    assert [t.name for t in parsed.scan_result_details.threats or []] == [EICAR_THREAT]
