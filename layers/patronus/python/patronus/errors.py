"""Domain exceptions. The API maps each one to its HTTP status in exactly one place."""

from __future__ import annotations


class PatronusError(Exception):
    """Base class of every error the API turns into a clean response."""

    code = "error"

    def __init__(self, message: str, *, details: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class BadRequest(PatronusError):
    code = "bad_request"


class Unauthorized(PatronusError):
    code = "unauthorized"


class Forbidden(PatronusError):
    code = "forbidden"


class NotFound(PatronusError):
    code = "not_found"


class Conflict(PatronusError):
    code = "conflict"


class PreconditionFailed(PatronusError):
    code = "precondition_failed"


class PreconditionRequired(PatronusError):
    code = "precondition_required"


class Unavailable(PatronusError):
    """A dependency (database, object storage) cannot be reached right now."""

    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after
