"""Where a request stands, as the requester's status page tells it: pure policy.

The steps a request goes through, each done, under way or still to come, from its status
and its tasks. No Flask, no database, no words: the page gives the facts, this decides what
they mean, and the template says it in the request's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dsar.policy.lifecycle import RequestStatus


class StepState(StrEnum):
    """How far a step is."""

    DONE = "done"
    CURRENT = "current"
    TO_COME = "to_come"


class StepKind(StrEnum):
    """The steps a request goes through."""

    RECEIVED = "received"
    CONFIRMED = "confirmed"
    GATHERING = "gathering"
    CHECKED = "checked"  # by the officer, for the types that wait for one
    ANSWERED = "answered"


@dataclass(frozen=True)
class Step:
    """One step of a request, with how far it is; `systems` and `done` for gathering."""

    kind: StepKind
    state: StepState
    systems: int = 0
    done: int = 0


@dataclass(frozen=True)
class Facts:
    """What the status page knows of a request."""

    status: RequestStatus
    systems: int  # the systems its current phase reaches
    systems_done: int
    needs_officer: bool  # the request type waits for an officer's approval or review


#: The statuses in which the request is still being worked on; the page refreshes itself.
UNDER_WAY = frozenset({RequestStatus.AWAITING_VERIFICATION, RequestStatus.VERIFIED,
                       RequestStatus.IN_PROGRESS, RequestStatus.AWAITING_APPROVAL})


def steps(facts: Facts) -> list[Step]:
    """The steps from receipt to answer, each with how far it is."""
    status = facts.status
    confirmed = status != RequestStatus.AWAITING_VERIFICATION
    answered = status == RequestStatus.COMPLETED
    gathering = status in (RequestStatus.VERIFIED, RequestStatus.IN_PROGRESS)
    gathered = answered or status == RequestStatus.AWAITING_APPROVAL
    found = [
        Step(StepKind.RECEIVED, StepState.DONE),
        Step(StepKind.CONFIRMED, StepState.DONE if confirmed else StepState.CURRENT),
        Step(StepKind.GATHERING,
             StepState.CURRENT if gathering else StepState.DONE if gathered
             else StepState.TO_COME,
             systems=facts.systems, done=facts.systems_done),
    ]
    if facts.needs_officer or status == RequestStatus.AWAITING_APPROVAL:
        found.append(Step(
            StepKind.CHECKED,
            StepState.CURRENT if status == RequestStatus.AWAITING_APPROVAL
            else StepState.DONE if answered else StepState.TO_COME))
    found.append(Step(StepKind.ANSWERED, StepState.DONE if answered else StepState.TO_COME))
    return found
