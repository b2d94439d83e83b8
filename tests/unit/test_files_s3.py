"""S3 clients of the document tools: credentials as they are when the client is made."""

from __future__ import annotations

import pytest

from scripts.operator_tools.documents.s3 import make_client, parse_s3_url


def test_each_client_reads_the_credentials_of_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a client made with one set of credentials in the environment
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFIRSTFIRSTFIRST1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "first")
    first = make_client("s3", endpoint_url="http://127.0.0.1:9")
    # When the environment names other credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASECONDSECONDSEC2")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "second")
    second = make_client("s3", endpoint_url="http://127.0.0.1:9")
    # Then the next client signs with them (a process-wide session would keep the first ones)
    assert first._request_signer._credentials.access_key == "AKIAFIRSTFIRSTFIRST1"
    assert second._request_signer._credentials.access_key == "AKIASECONDSECONDSEC2"
    assert second.meta.region_name == "eu-west-3"


def test_s3_urls() -> None:
    assert parse_s3_url("s3://bucket/legacy/") == ("bucket", "legacy/")
    with pytest.raises(ValueError, match="not an s3:// URL"):
        parse_s3_url("bucket/legacy")
    with pytest.raises(ValueError, match="no bucket"):
        parse_s3_url("s3:///legacy")
