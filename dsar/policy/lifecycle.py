"""The lifecycle of a request: its statuses and the transitions allowed between them.

Pure policy: no Flask, no database. `dsar.transitions` applies it to a stored request.
"""

from __future__ import annotations

from enum import StrEnum


class RequestType(StrEnum):
    """What the person asks for, by GDPR article."""

    ACCESS = "access"  # Art. 15
    PORTABILITY = "portability"  # Art. 20
    RECTIFICATION = "rectification"  # Art. 16
    ERASURE = "erasure"  # Art. 17
    RESTRICTION = "restriction"  # Art. 18
    OBJECTION = "objection"  # Art. 21


#: The requests answered with the access report (Art. 15, and Art. 20 in the same form);
#: the others are answered with an outcome letter.
ACCESS_TYPES = frozenset({RequestType.ACCESS, RequestType.PORTABILITY})


class RequestStatus(StrEnum):
    """Where a request stands."""

    AWAITING_VERIFICATION = "awaiting_verification"
    VERIFIED = "verified"
    AWAITING_APPROVAL = "awaiting_approval"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DENIED = "denied"
    FAILED = "failed"
    EXPIRED = "expired"
    # Confirmed while the same person already had the same request open: answered there.
    JOINED = "joined"


class TaskStatus(StrEnum):
    """Where one connector's part of a request stands."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    MANUAL = "manual"  # the connector cannot do it: an officer must, then completes the task


#: Statuses a task ends in; a request assembles its answer once every task is in one.
TASK_ENDS = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED})

_S = RequestStatus
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    _S.AWAITING_VERIFICATION: frozenset({_S.VERIFIED, _S.EXPIRED, _S.JOINED}),
    _S.VERIFIED: frozenset({_S.AWAITING_APPROVAL, _S.IN_PROGRESS, _S.DENIED}),
    _S.AWAITING_APPROVAL: frozenset({_S.IN_PROGRESS, _S.DENIED}),
    # Erasure and rectification gather first, then wait for the officer's approval.
    _S.IN_PROGRESS: frozenset({_S.AWAITING_APPROVAL, _S.COMPLETED, _S.FAILED, _S.DENIED}),
    # A failed request is retried by the officer once its cause is mended.
    _S.FAILED: frozenset({_S.IN_PROGRESS}),
    _S.COMPLETED: frozenset(),
    _S.DENIED: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.JOINED: frozenset(),
}


class InvalidTransition(Exception):
    """A status change the lifecycle does not allow."""


def check_transition(current: RequestStatus, target: RequestStatus) -> None:
    """Raises InvalidTransition unless a request may go from `current` to `target`."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"a request cannot go from {current} to {target}")


#: Statuses a request ends in for good.
CLOSED_STATUSES = frozenset(s for s, onward in TRANSITIONS.items() if not onward)

#: Statuses that still need work, failed ones included: the queue and the digest show these.
OPEN_STATUSES = frozenset(RequestStatus) - CLOSED_STATUSES
