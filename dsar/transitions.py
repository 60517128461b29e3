"""The one place a request's status changes: the lifecycle is checked and an event written."""

from __future__ import annotations

import logging

from dsar import audit
from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import DsarRequest, RequestEvent
from dsar.policy.lifecycle import RequestStatus, check_transition

log = logging.getLogger(__name__)


def transition(
    request: DsarRequest, target: RequestStatus, *, actor: str, note: str | None = None
) -> None:
    """Moves a request to `target` and records who did it and why; the caller commits.

    Raises:
        InvalidTransition: the lifecycle does not allow the move.
    """
    current = RequestStatus(request.status)
    check_transition(current, target)
    request.status = target
    record_event(request, "status", actor=actor, note=note, from_status=current, to_status=target)
    log.info("request_id=%s from=%s to=%s actor=%s", request.id, current, target, _role(actor))


def record_event(
    request: DsarRequest,
    kind: str,
    *,
    actor: str,
    note: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> None:
    """Adds an event to the request's timeline and the audit trail; the caller commits."""
    db.session.flush()  # the request row exists before an entry refers to it
    audit.append(
        RequestEvent(
            request_id=request.id,
            kind=kind,
            actor=actor,
            note=note,
            from_status=from_status,
            to_status=to_status,
            at=utcnow(),
        )
    )


def _role(actor: str) -> str:
    """What may be logged of an actor: never an officer's address."""
    return "officer" if "@" in actor else actor
