"""The local stack's malware scanner: the GuardDuty scan-result events, with no signature database.

In AWS, GuardDuty Malware Protection for S3 scans each new object under ``documents/`` and
publishes a "GuardDuty Malware Protection Object Scan Result" event. Locally, with no signature
database offline, this scanner reads each new object version and detects one thing only: the
standard EICAR anti-virus test file (its 68 characters, optionally followed by whitespace, at
most 128 bytes in all). Every other object is reported clean: it is NOT a malware scanner, it
lets the scanning path (``scanning``, then ``available`` or ``quarantined``) be used and tested
without AWS.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from patronus.services.documents import SCAN_RESULT_EVENT, ScanResult
from patronus.storage import KEY_PREFIX

# The EICAR test file (https://www.eicar.org/download-anti-malware-testfile/), 68 bytes.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_MAX_BYTES = 128
_EICAR_PADDING = b" \t\r\n\x1a"
# The name GuardDuty gives the test file.
EICAR_THREAT = "EICAR-Test-File (not a virus)"
LOCAL_PLAN_ARN = "arn:aws:guardduty:eu-west-3:000000000000:malware-protection-plan/local"


def threats_in(data: bytes) -> list[str]:
    """The threats found in ``data``: the EICAR test file, or nothing."""
    if (
        len(data) <= EICAR_MAX_BYTES
        and data.startswith(EICAR)
        and not data[len(EICAR) :].strip(_EICAR_PADDING)
    ):
        return [EICAR_THREAT]
    return []


def scan_result_event(
    bucket: str,
    key: str,
    *,
    version_id: str | None,
    etag: str | None,
    result: ScanResult,
    threats: list[str] | None = None,
    region: str = "eu-west-3",
) -> dict[str, Any]:
    """The EventBridge event GuardDuty publishes for one scanned object (same shape)."""
    scan_status = {ScanResult.NO_THREATS_FOUND: "COMPLETED", ScanResult.THREATS_FOUND: "COMPLETED"}.get(
        result, "SKIPPED" if result == ScanResult.UNSUPPORTED else "FAILED"
    )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": SCAN_RESULT_EVENT[1],
        "source": SCAN_RESULT_EVENT[0],
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [LOCAL_PLAN_ARN],
        "detail": {
            "schemaVersion": "1.0",
            "scanStatus": scan_status,
            "resourceType": "S3_OBJECT",
            "s3ObjectDetails": {
                "bucketName": bucket,
                "objectKey": key,
                "eTag": etag,
                "versionId": version_id,
                "s3Throttled": False,
            },
            "scanResultDetails": {
                "scanResultStatus": result.value,
                "threats": [{"name": name} for name in threats] if threats else None,
            },
        },
    }


class LocalScanner:
    """Reads an object version from the local S3 and says what GuardDuty would, for EICAR only."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def covers(self, key: str) -> bool:
        """Only uploads are scanned, as the protection plan's object prefix says."""
        return key.startswith(KEY_PREFIX)

    def scan(self, key: str, *, version_id: str | None, etag: str | None) -> dict[str, Any]:
        """The scan-result event of ``key`` at ``version_id``; FAILED when it cannot be read."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Range": f"bytes=0-{EICAR_MAX_BYTES}"}
        if version_id:
            params["VersionId"] = version_id
        try:
            head = self.client.get_object(**params)["Body"].read()
        except (BotoCoreError, ClientError):  # unreadable: a failed scan, as GuardDuty reports it
            failed = ScanResult.FAILED
            return scan_result_event(self.bucket, key, version_id=version_id, etag=etag, result=failed)
        threats = threats_in(head)
        result = ScanResult.THREATS_FOUND if threats else ScanResult.NO_THREATS_FOUND
        return scan_result_event(
            self.bucket, key, version_id=version_id, etag=etag, result=result, threats=threats
        )
