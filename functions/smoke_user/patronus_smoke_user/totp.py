"""Time-based one-time passwords (RFC 6238, SHA-1, 30 s, 6 digits: what Cognito software tokens use).

Used where the smoke-test user's TOTP device is enrolled (the deployment's custom resource) and
where the user signs in (``scripts/operator_tools/smoke.py``, which imports this module).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6


def totp(secret: str, at: float | None = None, *, digits: int = TOTP_DIGITS) -> str:
    """The time-based one-time password of a base32 ``secret`` at time ``at`` (default: now)."""
    cleaned = secret.strip().replace(" ", "").upper()
    key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    counter = int((time.time() if at is None else at) // TOTP_STEP_SECONDS)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)
