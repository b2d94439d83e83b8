"""Streamed SHA-256 and the composite checksum S3 keeps for multipart objects."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from pathlib import Path

import pytest

from scripts.operator_tools.documents.hashing import (
    ALGORITHMS,
    CHUNK_SIZE,
    digest_file,
    sha256_file,
    uniform_parts,
)


def test_whole_file_digest_matches_hashlib(tmp_path: Path) -> None:
    # Given a file larger than one read chunk
    data = os.urandom(CHUNK_SIZE * 2 + 123)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    # When it is hashed
    digest = sha256_file(path)
    # Then the digest, size and base64 form are those of the bytes
    assert digest.size == len(data)
    assert digest.hex == hashlib.sha256(data).hexdigest()
    assert digest.base64 == base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.mark.parametrize("part_size", [5 * 1024 * 1024, 1536 * 1024, 700_001])
def test_composite_checksum_of_uniform_parts(tmp_path: Path, part_size: int) -> None:
    # Given a file uploaded in parts of part_size bytes (boundaries inside read chunks too)
    data = os.urandom(11 * 1024 * 1024 + 7)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    parts = [data[i : i + part_size] for i in range(0, len(data), part_size)]
    expected = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
    # When it is hashed with those part sizes
    digest = sha256_file(path, uniform_parts(len(data), part_size))
    # Then the composite checksum is what S3 stores: base64 of the hash of part hashes, -N
    assert digest.composite_base64() == f"{base64.b64encode(expected).decode()}-{len(parts)}"
    assert digest.hex == hashlib.sha256(data).hexdigest()


def test_uneven_parts(tmp_path: Path) -> None:
    data = b"a" * 10 + b"b" * 3 + b"c" * 20
    path = tmp_path / "f"
    path.write_bytes(data)
    digest = sha256_file(path, [10, 3, 20])
    assert digest.part_digests == tuple(hashlib.sha256(p).digest() for p in (b"a" * 10, b"b" * 3, b"c" * 20))


def test_uniform_parts() -> None:
    assert uniform_parts(0, 8) == [0]
    assert uniform_parts(16, 8) == [8, 8]
    assert uniform_parts(17, 8) == [8, 8, 1]
    with pytest.raises(ValueError):
        uniform_parts(10, 0)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert sha256_file(path).hex == hashlib.sha256(b"").hexdigest()


def test_bytes_past_the_last_part_go_to_the_last_part(tmp_path: Path) -> None:
    # Given a file that grew after its part sizes were taken (two reads past the last part)
    path = tmp_path / "grown.bin"
    data = b"a" * 10 + b"b" * (2 * CHUNK_SIZE + 5)
    path.write_bytes(data)
    # When it is hashed with the old sizes
    digest = sha256_file(path, [10, 3])
    # Then the hashing ends, and the last part holds everything after the first
    assert digest.part_digests == (hashlib.sha256(data[:10]).digest(), hashlib.sha256(data[10:]).digest())


def test_every_algorithm_matches_what_s3_stores(tmp_path: Path) -> None:
    # Values S3 (here: SeaweedFS, which follows it) returned for b"hello world"
    path = tmp_path / "hw"
    path.write_bytes(b"hello world")
    digests = digest_file(path, ALGORITHMS)
    assert {a: base64.b64encode(d).decode() for a, d in digests.whole.items()} == {
        "SHA256": "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
        "SHA1": "Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
        "CRC64NVME": "jSnVw/bqjr4=",
        "CRC32C": "yZRlqg==",
        "CRC32": "DUoRhQ==",
    }


def test_composite_checksums_are_over_the_parts_digests(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abcdefghij")
    digests = digest_file(path, ["CRC32", "SHA256"], [4, 4, 2])
    parts = [zlib.crc32(b"abcd"), zlib.crc32(b"efgh"), zlib.crc32(b"ij")]
    combined = zlib.crc32(b"".join(p.to_bytes(4, "big") for p in parts)).to_bytes(4, "big")
    assert digests.composite("CRC32") == base64.b64encode(combined).decode() + "-3"
    assert digests.whole["SHA256"] == hashlib.sha256(b"abcdefghij").digest()
