"""Streamed digests of local files, as S3 stores them (SHA-256, SHA-1, CRC64NVME, CRC32C, CRC32).

S3 keeps, for an object uploaded with ``ChecksumAlgorithm=SHA256``:

* in one part: the SHA-256 of the bytes (``ChecksumSHA256``, base64, ``ChecksumType=FULL_OBJECT``);
* in several parts: a *composite* checksum, the SHA-256 of the concatenated binary SHA-256 of
  each part, followed by ``-<number of parts>`` (``ChecksumType=COMPOSITE``). It can only be
  recomputed from the file when the part boundaries are known.

:func:`sha256_file` reads a file once, in fixed-size chunks into a reused buffer (hashlib
releases the GIL on large updates, so threads hash files in parallel), and produces the whole
file's digest and, when part sizes are given, each part's digest in the same pass.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK_SIZE = 1024 * 1024

_buffers = threading.local()


def _buffer() -> memoryview:
    buffer: memoryview | None = getattr(_buffers, "buffer", None)
    if buffer is None:
        buffer = memoryview(bytearray(CHUNK_SIZE))
        _buffers.buffer = buffer
    return buffer


@dataclass(frozen=True)
class FileDigest:
    size: int
    sha256: bytes
    part_digests: tuple[bytes, ...] = ()

    @property
    def hex(self) -> str:
        return self.sha256.hex()

    @property
    def base64(self) -> str:
        return b64(self.sha256)

    def composite_base64(self) -> str:
        """The multipart ``ChecksumSHA256`` S3 would hold for these parts (``...=-N``)."""
        if not self.part_digests:
            raise ValueError("no part digests were computed")
        combined = hashlib.sha256(b"".join(self.part_digests)).digest()
        return f"{b64(combined)}-{len(self.part_digests)}"


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def uniform_parts(size: int, part_size: int) -> list[int]:
    """The part sizes of a multipart upload of ``size`` bytes in ``part_size`` parts."""
    if part_size <= 0:
        raise ValueError("part size must be positive")
    if size == 0:
        return [0]
    full, rest = divmod(size, part_size)
    return [part_size] * full + ([rest] if rest else [])


def sha256_file(path: Path | str, part_sizes: Sequence[int] | None = None) -> FileDigest:
    """SHA-256 of the file, plus one digest per part when ``part_sizes`` is given."""
    buffer = _buffer()
    whole = hashlib.sha256()
    parts = _PartHasher(part_sizes) if part_sizes else None
    size = 0
    with open(path, "rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            view = buffer[:count]
            whole.update(view)
            size += count
            if parts is not None:
                parts.update(view)
    return FileDigest(size, whole.digest(), parts.digests() if parts is not None else ())


class _PartHasher:
    """One SHA-256 per part, fed with the file's chunks whatever their boundaries.

    Bytes past the last part's size (a file that grew while it was read) go to the last part.
    """

    def __init__(self, sizes: Sequence[int], algorithm: str = "SHA256") -> None:
        self.algorithm = algorithm
        self.sizes = list(sizes[1:])
        self.left = sizes[0]
        self.current = new_hash(algorithm)
        self.done: list[bytes] = []

    def update(self, view: memoryview) -> None:
        offset, count = 0, len(view)
        while offset < count:
            take = min(self.left, count - offset) if self.left > 0 else count - offset
            self.current.update(view[offset : offset + take])
            offset += take
            self.left = max(0, self.left - take)
            if self.left == 0 and self.sizes:
                self.done.append(self.current.digest())
                self.current = new_hash(self.algorithm)
                self.left = self.sizes.pop(0)

    def digests(self) -> tuple[bytes, ...]:
        return (*self.done, self.current.digest())


# -- every checksum S3 stores ------------------------------------------------------------------

ALGORITHMS = ("SHA256", "SHA1", "CRC64NVME", "CRC32C", "CRC32")
"""The checksum algorithms S3 keeps for an object (``Checksum<ALGORITHM>`` in HeadObject), strongest
first. SHA-256 and SHA-1 come from hashlib; CRC32 from zlib; CRC32C and CRC64NVME from awscrt, the
AWS Common Runtime library botocore itself uses for them."""


class _Crc:
    """A CRC fed in pieces, its digest the big-endian bytes S3 encodes in base64."""

    def __init__(self, update: Any, width: int) -> None:
        self._update = update
        self._width = width
        self.value = 0

    def update(self, data: memoryview | bytes) -> None:
        self.value = self._update(data, self.value)

    def digest(self) -> bytes:
        return int(self.value).to_bytes(self._width, "big")


def new_hash(algorithm: str) -> Any:
    """A fresh hasher (``update``, ``digest``) for one of :data:`ALGORITHMS`."""
    if algorithm == "SHA256":
        return hashlib.sha256()
    if algorithm == "SHA1":
        return hashlib.sha1(usedforsecurity=False)
    if algorithm == "CRC32":
        return _Crc(zlib.crc32, 4)
    from awscrt import checksums  # imported when a CRC32C or CRC64NVME is asked for

    if algorithm == "CRC32C":
        return _Crc(checksums.crc32c, 4)
    if algorithm == "CRC64NVME":
        return _Crc(checksums.crc64nvme, 8)
    raise ValueError(f"unknown checksum algorithm {algorithm!r}")


@dataclass(frozen=True)
class Digests:
    """A file's digests by several algorithms, whole and (when asked) per part, from one read."""

    size: int
    whole: dict[str, bytes]
    parts: dict[str, tuple[bytes, ...]]

    def composite(self, algorithm: str) -> str:
        """The value S3 holds for a multipart upload with a composite checksum: the checksum of
        the parts' binary checksums, in base64, then ``-<number of parts>``."""
        parts = self.parts[algorithm]
        combined = new_hash(algorithm)
        combined.update(b"".join(parts))
        return f"{b64(combined.digest())}-{len(parts)}"


def digest_file(
    path: Path | str, algorithms: Sequence[str], part_sizes: Sequence[int] | None = None
) -> Digests:
    """Every digest of ``algorithms`` over the file (and over each part when ``part_sizes`` is
    given), reading the file once."""
    buffer = _buffer()
    whole = {algorithm: new_hash(algorithm) for algorithm in algorithms}
    parts = {a: _PartHasher(part_sizes, a) for a in algorithms} if part_sizes else {}
    size = 0
    with open(path, "rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            view = buffer[:count]
            for hasher in whole.values():
                hasher.update(view)
            for part in parts.values():
                part.update(view)
            size += count
    return Digests(
        size,
        {a: h.digest() for a, h in whole.items()},
        {a: p.digests() for a, p in parts.items()},
    )
