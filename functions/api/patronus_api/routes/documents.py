"""Documents: presigned upload, completion, listing, download, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.metrics import MetricUnit

from patronus.models import MAX_PARTS, PART_PAGE, Role
from patronus.observability import metrics
from patronus_api import cursors
from patronus_api.access import requires
from patronus_api.routes import caller, responses
from patronus_api.runtime import runtime
from patronus_api.schemas import (
    DocumentCreate,
    DocumentCreated,
    DocumentOut,
    DocumentPage,
    DownloadOut,
    PartPageOut,
    UploadInstructions,
    UploadPart,
)

if TYPE_CHECKING:
    from patronus.services.documents import NewUpload, PartPage

router = APIGatewayRouter()
TAGS = ["documents"]

DossierId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Dossier id")]
DocumentId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Document id")]


@router.post(
    "/v1/dossiers/<dossier_id>/documents",
    tags=TAGS,
    summary="Register a document and get where to upload it",
    status_code=201,
    responses=responses(201, "Registered; upload the bytes as `upload` says", 404, 409, 415),
    **requires(Role.EDITOR),
)
def create_document(dossier_id: DossierId, body: DocumentCreate) -> DocumentCreated:
    principal = caller(router)
    upload = runtime.documents.create(
        principal,
        dossier_id,
        filename=body.filename,
        content_type=body.content_type,
        size_bytes=body.size_bytes,
        sha256=body.sha256,
    )
    metrics.add_metric(name="UploadRequested", unit=MetricUnit.Count, value=1)
    return DocumentCreated(
        document=DocumentOut.of(upload.document, admin=principal.is_admin), upload=_instructions(upload)
    )


def _instructions(upload: NewUpload) -> UploadInstructions:
    ttl = runtime.settings.storage.upload_url_ttl
    multipart = upload.multipart
    if multipart is not None:
        listed = len(multipart.parts)
        return UploadInstructions(
            method="MULTIPART",
            upload_id=multipart.upload_id,
            part_size=multipart.part_size,
            part_count=multipart.part_count,
            parts=[UploadPart(part_number=p.part_number, url=p.url) for p in multipart.parts],
            next_part=listed + 1 if listed < multipart.part_count else None,
            expires_in=ttl,
        )
    assert upload.post is not None
    return UploadInstructions(method="POST", url=upload.post.url, fields=upload.post.fields, expires_in=ttl)


def _part_page(page: PartPage) -> PartPageOut:
    return PartPageOut(
        upload_id=page.upload_id,
        part_size=page.part_size,
        part_count=page.part_count,
        parts=[UploadPart(part_number=p.part_number, url=p.url) for p in page.parts],
        next_part=page.next_part,
        expires_in=runtime.settings.storage.upload_url_ttl,
    )


@router.get(
    "/v1/documents/<document_id>/parts",
    tags=TAGS,
    summary="URLs of the parts of a pending multipart upload, from part `from` on (next page, or again)",
    responses=responses(200, "At most `limit` part URLs", 400, 404, 409),
    **requires(Role.EDITOR),
)
def list_part_urls(
    document_id: DocumentId,
    from_part: Annotated[int, Query(alias="from", ge=1, le=MAX_PARTS)] = 1,
    limit: Annotated[int, Query(ge=1, le=PART_PAGE)] = PART_PAGE,
) -> PartPageOut:
    return _part_page(runtime.documents.part_urls(caller(router), document_id, first=from_part, limit=limit))


@router.post(
    "/v1/documents/<document_id>/upload",
    tags=TAGS,
    summary="Start a pending document's upload again (after a discarded upload, or a lost one)",
    responses=responses(200, "Where to upload the bytes, as when the document was registered", 404, 409),
    **requires(Role.EDITOR),
)
def restart_upload(document_id: DocumentId) -> UploadInstructions:
    upload = runtime.documents.restart_upload(caller(router), document_id)
    metrics.add_metric(name="UploadRestarted", unit=MetricUnit.Count, value=1)
    return _instructions(upload)


@router.delete(
    "/v1/documents/<document_id>/upload",
    tags=TAGS,
    summary="Abandon a pending upload: the document becomes expired, its stored parts are removed",
    status_code=204,
    responses=responses(204, "Abandoned (or already)", 404, 409, content=False),
    **requires(Role.EDITOR),
)
def abandon_upload(document_id: DocumentId) -> Response[None]:
    runtime.documents.abandon_upload(caller(router), document_id)
    metrics.add_metric(name="UploadAbandoned", unit=MetricUnit.Count, value=1)
    return Response(status_code=204, body=None)


@router.get(
    "/v1/dossiers/<dossier_id>/documents",
    tags=TAGS,
    summary="Documents of a dossier (newest first)",
    responses=responses(200, "One page", 404),
    **requires(Role.READER),
)
def list_documents(
    dossier_id: DossierId,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> DocumentPage:
    principal = caller(router)
    rows, last = runtime.documents.list_for_dossier(
        principal, dossier_id, after_id=cursors.decode(cursor), limit=limit
    )
    return DocumentPage(
        items=[DocumentOut.of(r, admin=principal.is_admin) for r in rows], next_cursor=cursors.encode(last)
    )


@router.get(
    "/v1/documents/<document_id>",
    tags=TAGS,
    summary="Get a document",
    responses=responses(200, "The document", 404),
    **requires(Role.READER),
)
def get_document(document_id: DocumentId) -> DocumentOut:
    principal = caller(router)
    return DocumentOut.of(runtime.documents.get(principal, document_id), admin=principal.is_admin)


@router.post(
    "/v1/documents/<document_id>/complete",
    tags=TAGS,
    summary="Confirm an upload (completes a multipart upload; checks the stored size and checksum)",
    responses=responses(200, "The document: available, or scanning where malware scanning is on", 404, 409),
    **requires(Role.EDITOR),
)
def complete_document(document_id: DocumentId) -> DocumentOut:
    principal = caller(router)
    return DocumentOut.of(runtime.documents.complete(principal, document_id), admin=principal.is_admin)


@router.get(
    "/v1/documents/<document_id>/download",
    tags=TAGS,
    summary="A short-lived download URL (each download is recorded in the dossier's history)",
    responses=responses(200, "A presigned GET URL", 404, 409),
    **requires(Role.READER),
)
def download_document(document_id: DocumentId) -> DownloadOut:
    document, url = runtime.documents.download_url(caller(router), document_id)
    return DownloadOut(
        url=url, expires_in=runtime.settings.storage.download_url_ttl, filename=document.filename
    )


@router.delete(
    "/v1/documents/<document_id>",
    tags=TAGS,
    summary="Delete a document (admins)",
    status_code=204,
    responses=responses(
        204, "Deleted (the stored bytes stay as a noncurrent version)", 404, 409, content=False
    ),
    **requires(Role.ADMIN),
)
def delete_document(document_id: DocumentId) -> Response[None]:
    runtime.documents.delete(caller(router), document_id)
    return Response(status_code=204, body=None)
