"""Domain records as the repositories return them (row models), and the caller's identity."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# S3's limit of parts in one multipart upload.
MAX_PARTS = 10_000
# Part URLs handed out per answer: the create response carries the first page, the parts route
# the others (10,000 URLs would be megabytes of JSON and seconds of signing). Here rather than in
# patronus.storage so that the API's routes can name them without loading the storage module.
PART_PAGE = 100
# Identifiers whose names one request may ask for (GET /v1/people/names).
NAMES_PER_REQUEST = 100


class DossierStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class DocumentStatus(StrEnum):
    """A document's life: ``pending`` until its bytes are stored; ``scanning`` while the
    malware scan runs (where scanning is on); ``available`` once stored (and scanned clean);
    ``quarantined`` when the scan found a threat (never downloadable); ``expired`` when the
    upload was abandoned and cleaned up; ``deleted`` by an administrator."""

    PENDING = "pending"
    SCANNING = "scanning"
    AVAILABLE = "available"
    QUARANTINED = "quarantined"
    EXPIRED = "expired"
    DELETED = "deleted"


class Role(StrEnum):
    READER = "readers"
    EDITOR = "editors"
    ADMIN = "admins"


_RANK = {Role.READER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


class Principal(BaseModel):
    """Who is calling, from the Cognito claims the API Gateway authorizer verified: ``groups``
    say what they may do (roles), ``units`` (their unit groups) where."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    subject: Annotated[str, Field(min_length=1, max_length=128)]
    groups: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()

    @property
    def rank(self) -> int:
        return max((_RANK[Role(g)] for g in self.groups if g in Role._value2member_map_), default=0)

    def has(self, role: Role) -> bool:
        """Roles are cumulative: admins may do what editors may, editors what readers may."""
        return self.rank >= _RANK[role]

    @property
    def is_admin(self) -> bool:
        return self.has(Role.ADMIN)


class Permission(StrEnum):
    """What a grant gives (never more than the grantee's global role allows)."""

    READER = "reader"
    EDITOR = "editor"


class GranteeType(StrEnum):
    USER = "user"
    UNIT = "unit"


class DossierRow(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    public_id: str
    reference: str
    title: str
    description: str | None
    status: DossierStatus
    unit: str
    owner: str
    version: int
    created_at: datetime
    updated_at: datetime
    # The best permission the caller holds through grants (0 none, 1 reader, 2 editor), computed
    # by the query that read the row for that caller; 0 when read without a caller.
    grant_level: int = 0


class GrantRow(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    grantee_type: GranteeType
    grantee: str
    permission: Permission
    granted_by: str
    granted_at: datetime
    grantee_name: str | None = None  # a person who has signed in, as their token names them


class PersonRow(BaseModel):
    """Someone who signed in: their subject (what grants name), and how their ID token names them."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    subject: str
    name: str
    email: str | None = None


class DocumentRow(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    public_id: str
    dossier_id: int
    dossier_public_id: str
    dossier_unit: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str | None
    declared_sha256: str | None = None
    storage_key: str
    status: DocumentStatus
    etag: str | None
    version_id: str | None = None
    upload_id: str | None
    uploaded_by: str
    legacy_path: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class AuditEventRow(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    details: str | None
