"""The people who have signed in: recorded by the web application each time it opens, from the
caller's own verified claims, looked up by name or address to share a dossier with someone.

Only the caller's own entry is ever written, and only from their ID token: nobody can add or
rename someone else. Looking people up is for those who may share (editors and admins).
"""

from __future__ import annotations

from patronus.db import Database
from patronus.errors import BadRequest
from patronus.models import NAMES_PER_REQUEST, PersonRow, Principal, Role
from patronus.repositories import people
from patronus.services import require, utcnow

NAME_MAX = 200
EMAIL_MAX = 254
SEARCH_LIMIT = 20


class PeopleService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record_self(self, principal: Principal, *, name: str, email: str | None) -> PersonRow:
        """Record the caller as their token names them (every role may; a user without one has
        nothing to be shared)."""
        require(principal, Role.READER)
        shown = " ".join(name.split())[:NAME_MAX] or principal.subject[:NAME_MAX]
        address = email.strip() if email and "@" in email and len(email.strip()) <= EMAIL_MAX else None
        with self.db.transaction() as cursor:
            people.record(cursor, subject=principal.subject, name=shown, email=address, now=utcnow())
        return PersonRow(subject=principal.subject, name=shown, email=address)

    def names(self, principal: Principal, subjects: list[str]) -> dict[str, str]:
        """How the recorded people among ``subjects`` are named, for anyone who reads: the
        screens show who created, uploaded, shared or changed something by name, not by
        identifier (a Cognito subject is a UUID). Addresses are not given here."""
        require(principal, Role.READER)
        wanted = sorted(set(subjects))
        if len(wanted) > NAMES_PER_REQUEST:
            issue = f"at most {NAMES_PER_REQUEST} identifiers"
            raise BadRequest("too many identifiers", details=[{"field": "query.subject", "issue": issue}])
        with self.db.reading() as cursor:
            return {row.subject: row.name for row in people.named(cursor, wanted)}

    def search(self, principal: Principal, text: str, *, limit: int = SEARCH_LIMIT) -> list[PersonRow]:
        require(principal, Role.EDITOR)
        text = text.strip()
        if not text:
            issue = "a name, an address or an identifier"
            raise BadRequest("say whom to look for", details=[{"field": "query.q", "issue": issue}])
        with self.db.reading() as cursor:
            return people.search(cursor, text, limit=limit)
