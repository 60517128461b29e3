"""The request list's filters, shared by the officers' console and the API."""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from dsar.clock import utcnow
from dsar.models import DsarRequest, is_request_id
from dsar.policy.addresses import normalise_email
from dsar.policy.lifecycle import OPEN_STATUSES

PAGE_SIZE = 50


def queue_query(
    *, status: str = "", kind: str = "", overdue: bool = False, mine: int | None = None,
    search: str = "",
) -> Select[tuple[DsarRequest]]:
    """The requests matching the filters, the most urgent first.

    Args:
        status: a status, "open" (the default: everything that still needs work) or "all".
        kind: a request type, or empty for any.
        overdue: only requests whose deadline has passed.
        mine: only requests assigned to this officer id.
        search: a request id (or its start) or an e-mail address.
    """
    query = select(DsarRequest).order_by(DsarRequest.due_at, DsarRequest.id)
    if status == "open" or not status:
        query = query.where(DsarRequest.status.in_(OPEN_STATUSES))
    elif status != "all":
        query = query.where(DsarRequest.status == status)
    if kind:
        query = query.where(DsarRequest.type == kind)
    if overdue:
        query = query.where(DsarRequest.due_at < utcnow())
    if mine is not None:
        query = query.where(DsarRequest.assigned_to_id == mine)
    if search:
        term = search.strip()
        if is_request_id(term.lower()):
            query = query.where(DsarRequest.id == term.lower())
        else:
            query = query.where(or_(DsarRequest.email == normalise_email(term),
                                    DsarRequest.id.startswith(term.lower())))
    return query
