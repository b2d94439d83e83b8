"""Request and response bodies of the API (the OpenAPI document is generated from these).

Separate from the row models of ``patronus.models``; routes map between them explicitly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from patronus.access import Relation, Rights
from patronus.models import (
    AuditEventRow,
    DocumentRow,
    DocumentStatus,
    DossierRow,
    DossierStatus,
    GranteeType,
    GrantRow,
    Permission,
    PersonRow,
)

PublicId = Annotated[
    str, Field(pattern=r"^[0-9a-f]{32}$", description="Public identifier (32 hex characters)")
]
Reference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="Unique business reference, e.g. DOS-2024-0042",
    ),
]


def _utc(value: datetime) -> datetime:
    """Times are stored as naive UTC; the API states the zone, as RFC 3339 date-time requires."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Title = Annotated[str, Field(min_length=1, max_length=200)]
Unit = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A unit: the Cognito group of a team, named <prefix><name> (e.g. unit-litigation)",
    ),
]
Description = Annotated[str, Field(max_length=10_000)]


def _no_control_characters(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


class _Model(BaseModel):
    # Validators are built on first use, not at import: a cold start that serves one route
    # builds only the models that route needs.
    model_config = ConfigDict(defer_build=True)


class _Input(_Model):
    # Strict: a number sent as a string, or a boolean as a number, is refused as the documented
    # schema says, not coerced.
    model_config = ConfigDict(defer_build=True, extra="forbid", str_strip_whitespace=True, strict=True)


class DossierCreate(_Input):
    reference: Reference
    title: Title
    description: Description | None = None
    unit: Unit | None = Field(
        default=None,
        description="The unit the dossier belongs to; defaults to the creator's unit when they have "
        "exactly one. Editors create in their own units, admins in any.",
    )

    @field_validator("title", "description")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return None if value is None else _no_control_characters(value)


class DossierUpdate(_Input):
    # At least one field, as the validator below requires: documented so that clients and
    # generated requests know an empty object is refused.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    title: Title | None = None
    description: Description | None = None
    status: Literal["open", "closed"] | None = Field(
        default=None, description="open or closed; archiving is DELETE /v1/dossiers/{id}"
    )
    unit: Unit | None = Field(default=None, description="Move the dossier to another unit (admins)")

    @field_validator("title", "description")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return None if value is None else _no_control_characters(value)

    @model_validator(mode="after")
    def _something_to_change(self) -> DossierUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of title, description, status, unit")
        for name in ("title", "status", "unit"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class RightsOut(_Model):
    """What the caller may do with this dossier, so that a front end shows only what will work."""

    read: bool = Field(description="See the dossier, its documents and history, download")
    edit: bool = Field(description="Change title, description and status; add documents")
    share: bool = Field(description="Change its grants (editors of its unit, admins)")
    move: bool = Field(description="Move it to another unit (admins)")
    archive: bool = Field(description="Archive it (admins)")
    delete_documents: bool = Field(description="Delete its documents (admins)")
    relation: Relation = Field(
        description="How the caller reaches it: admin, unit (member of its unit) or grant"
    )

    @classmethod
    def of(cls, rights: Rights) -> RightsOut:
        return cls(
            read=rights.read,
            edit=rights.edit,
            share=rights.share,
            move=rights.move,
            archive=rights.archive,
            delete_documents=rights.delete_documents,
            relation=rights.relation,
        )


class DossierOut(_Model):
    id: PublicId
    reference: str
    title: str
    description: str | None
    status: DossierStatus
    unit: str = Field(description="The unit the dossier belongs to")
    owner: str
    version: int
    created_at: datetime
    updated_at: datetime
    rights: RightsOut = Field(description="The caller's effective rights on this dossier")

    @classmethod
    def of(cls, row: DossierRow, rights: Rights) -> DossierOut:
        return cls(
            id=row.public_id,
            reference=row.reference,
            title=row.title,
            description=row.description,
            status=row.status,
            unit=row.unit,
            owner=row.owner,
            version=row.version,
            created_at=_utc(row.created_at),
            updated_at=_utc(row.updated_at),
            rights=RightsOut.of(rights),
        )


class GrantIn(_Input):
    # Enums from JSON strings: strict mode would want enum instances.
    grantee_type: GranteeType = Field(
        strict=False, description="user (a user's subject) or unit (a unit's group)"
    )
    grantee: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
    permission: Permission = Field(
        strict=False, description="reader or editor; never more than the grantee's global role allows"
    )


class GrantOut(_Model):
    grantee_type: GranteeType
    grantee: str
    permission: Permission
    granted_by: str
    granted_at: datetime
    grantee_name: str | None = Field(
        default=None,
        description="For a person who has signed in (PUT /v1/people/me), how their token names them",
    )

    @classmethod
    def of(cls, row: GrantRow) -> GrantOut:
        return cls(
            grantee_type=row.grantee_type,
            grantee=row.grantee,
            permission=row.permission,
            granted_by=row.granted_by,
            granted_at=_utc(row.granted_at),
            grantee_name=row.grantee_name,
        )


class GrantList(_Model):
    items: list[GrantOut]


class PersonOut(_Model):
    subject: str = Field(description="The identifier grants name (the Cognito subject)")
    name: str
    email: str | None

    @classmethod
    def of(cls, row: PersonRow) -> PersonOut:
        return cls(subject=row.subject, name=row.name, email=row.email)


class PersonList(_Model):
    items: list[PersonOut]


class PersonName(_Model):
    subject: str
    name: str


class PersonNames(_Model):
    items: list[PersonName]


class UnitList(_Model):
    items: list[Unit] = Field(description="Unit names (the Cognito groups), sorted")


class DossierPage(_Model):
    items: list[DossierOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page"
    )


class DocumentCreate(_Input):
    filename: Annotated[
        str,
        Field(min_length=1, max_length=1024, description="Original file name, kept as given for download"),
    ]
    content_type: Annotated[
        str,
        Field(
            max_length=255,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$",
            description="MIME type, e.g. application/pdf",
        ),
    ] = "application/octet-stream"
    size_bytes: Annotated[int, Field(ge=0, description="Exact size; S3 refuses an upload of another size")]
    sha256: Annotated[str | None, Field(pattern=r"^[0-9a-f]{64}$")] = None

    @field_validator("filename")
    @classmethod
    def _usable_name(cls, value: str) -> str:
        if not value.strip(". /\\\x00"):
            raise ValueError("file name has no usable characters")
        return value


class DocumentOut(_Model):
    id: PublicId
    dossier_id: PublicId
    filename: str
    content_type: str
    size_bytes: int
    sha256: str | None
    status: DocumentStatus
    etag: str | None
    uploaded_by: str
    legacy_path: str | None = Field(description="Where the file was on the old share (admins only)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: DocumentRow, *, admin: bool) -> DocumentOut:
        return cls(
            id=row.public_id,
            dossier_id=row.dossier_public_id,
            filename=row.filename,
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            status=row.status,
            etag=row.etag,
            uploaded_by=row.uploaded_by,
            legacy_path=row.legacy_path if admin else None,
            created_at=_utc(row.created_at),
            updated_at=_utc(row.updated_at),
        )


class DocumentPage(_Model):
    items: list[DocumentOut]
    next_cursor: str | None


class UploadPart(_Model):
    part_number: int
    url: str


class UploadInstructions(_Model):
    method: Literal["POST", "MULTIPART"] = Field(
        description="POST: send a multipart/form-data POST to `url` with `fields` then the file. "
        "MULTIPART: PUT each part to its URL with exactly its length (part_size bytes, the last one "
        "the remainder: the URL signs the length, S3 refuses another), fetch the URLs of parts "
        "`next_part` and after from GET /v1/documents/{id}/parts?from=N, then call "
        "POST /v1/documents/{id}/complete. An expired URL is signed again by the same route."
    )
    url: str | None = None
    fields: dict[str, str] | None = None
    upload_id: str | None = None
    part_size: int | None = None
    part_count: int | None = Field(default=None, description="MULTIPART: how many parts the file has")
    parts: list[UploadPart] | None = Field(
        default=None, description="MULTIPART: the URLs of the first parts (at most 100)"
    )
    next_part: int | None = Field(
        default=None, description="MULTIPART: the first part whose URL is not in `parts` (none: all are)"
    )
    expires_in: int


class PartPageOut(_Model):
    """URLs of some parts of a pending multipart upload."""

    upload_id: str
    part_size: int
    part_count: int
    parts: list[UploadPart]
    next_part: int | None = Field(description="The part after the last one listed; none when it was the last")
    expires_in: int


class DocumentCreated(_Model):
    document: DocumentOut
    upload: UploadInstructions


class DownloadOut(_Model):
    url: str
    expires_in: int
    filename: str


class AuditEventOut(_Model):
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    details: dict[str, object] | None

    @classmethod
    def of(cls, row: AuditEventRow) -> AuditEventOut:
        return cls(
            occurred_at=_utc(row.occurred_at),
            actor=row.actor,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            details=json.loads(row.details) if row.details else None,
        )


class HistoryPage(_Model):
    items: list[AuditEventOut]
    next_cursor: str | None


class HealthOut(_Model):
    status: Literal["ok"]
    database: Literal["ok"]


class ErrorDetail(_Model):
    field: str
    issue: str


class ErrorInfo(_Model):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorBody(_Model):
    error: ErrorInfo


class GatewayError(_Model):
    """The body API Gateway itself answers with (e.g. 401 from the Cognito authorizer)."""

    message: str
