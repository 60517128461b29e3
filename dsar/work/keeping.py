"""How long a stored answer lives: until its last link expires, or the person's erasure.

An answer holds a copy of the person's data. It is kept only while a link to it can still
be used, and an erasure removes the copies too: once the same person's erasure completes,
every earlier answer of theirs is deleted at once, whatever its link says. The request
keeps when and why, so the answer page can say it is gone and how to ask again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from dsar.answer import storage
from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import DsarRequest, StoredFile
from dsar.policy.lifecycle import RequestStatus
from dsar.transitions import record_event

log = logging.getLogger(__name__)

EXPIRED = "expired"
ERASED = "erased"


def link_sent(request: DsarRequest, sent_at: datetime) -> None:
    """A mail with a link to the answer went out: the answer lives as long as that link.

    The link is signed just before sending, so it never outlives this time. The caller
    commits.
    """
    ends = sent_at + timedelta(seconds=current_app.config["REPORT_LINK_MAX_AGE"])
    if request.answer_expires_at is None or request.answer_expires_at < ends:
        request.answer_expires_at = ends


def delete_expired() -> int:
    """Deletes the answers whose last link has expired; returns how many. Commits."""
    due = db.session.scalars(
        select(DsarRequest).where(
            DsarRequest.answer_expires_at < utcnow(),
            DsarRequest.answer_deleted_at.is_(None),
        )
    ).all()
    for request in due:
        _delete(request, EXPIRED)
    db.session.commit()
    return len(due)


def delete_for_erasure(erasure: DsarRequest) -> int:
    """Deletes every earlier answer of the person whose erasure this is; the caller commits.

    Returns:
        How many answers were deleted.
    """
    earlier = db.session.scalars(
        select(DsarRequest).where(
            DsarRequest.email == erasure.email,
            DsarRequest.id != erasure.id,
            # Answered requests: one still being answered keeps what it is made from.
            DsarRequest.status == RequestStatus.COMPLETED,
            DsarRequest.answer_deleted_at.is_(None),
            DsarRequest.id.in_(select(StoredFile.request_id)),
        )
    ).all()
    for request in earlier:
        _delete(request, ERASED, note=f"erased with request {erasure.id}")
    return len(earlier)


def _delete(request: DsarRequest, reason: str, note: str | None = None) -> None:
    """Deletes a request's stored files and records when and why."""
    removed = storage.delete(request.id)
    request.answer_deleted_at = utcnow()
    request.answer_deleted_reason = reason
    record_event(request, "answer_deleted", actor="system", note=note or reason)
    log.info("request_id=%s state=answer-deleted reason=%s files=%d", request.id, reason,
             removed)
