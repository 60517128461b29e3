"""Where a request stands, as the requester's status page tells it: pure policy.

The steps a request goes through, each done, under way or still to come, from its status
and its tasks; and what happens next, in words. No Flask, no database: the page gives the
facts, this decides what they mean to the person.
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


@dataclass(frozen=True)
class Step:
    """One step of a request, as the person reads it."""

    title: str
    state: StepState
    detail: str = ""


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
    found = [
        Step("Received", StepState.DONE),
        Step("Confirmed by you", StepState.DONE if confirmed else StepState.CURRENT,
             "" if confirmed else "Please use the link in the mail we sent you."),
        Step(f"Gathering from our {facts.systems} systems" if facts.systems
             else "Gathering from our systems",
             StepState.CURRENT if gathering else StepState.DONE if answered or (
                 status == RequestStatus.AWAITING_APPROVAL) else StepState.TO_COME,
             f"{facts.systems_done} of {facts.systems} done" if gathering and facts.systems
             else ""),
    ]
    if facts.needs_officer or status == RequestStatus.AWAITING_APPROVAL:
        found.append(Step(
            "Checked by our privacy officer",
            StepState.CURRENT if status == RequestStatus.AWAITING_APPROVAL
            else StepState.DONE if answered else StepState.TO_COME))
    found.append(Step("Answer sent to you", StepState.DONE if answered else StepState.TO_COME))
    return found


def next_step(status: RequestStatus) -> str:
    """What happens next, in a sentence the person can act on."""
    return {
        RequestStatus.AWAITING_VERIFICATION:
            "Confirm your request with the link in the mail we sent you; until then we do "
            "nothing with it.",
        RequestStatus.VERIFIED: "We are starting on your request.",
        RequestStatus.IN_PROGRESS:
            "We are gathering your data. You will get an e-mail as soon as the answer is "
            "ready; there is nothing you need to do.",
        RequestStatus.AWAITING_APPROVAL:
            "Our privacy officer is checking what we found before anything is sent or "
            "changed. You will get an e-mail.",
        RequestStatus.COMPLETED:
            "Your answer was sent to you by e-mail; its link shows until when it works.",
        RequestStatus.FAILED:
            "One of our systems could not be reached. Our privacy team is seeing to it; you "
            "will have our answer by the due date.",
        RequestStatus.DENIED: "We could not act on this request; our mail to you says why.",
        RequestStatus.EXPIRED:
            "This request was never confirmed and has lapsed. You are welcome to make a new "
            "one.",
        RequestStatus.JOINED:
            "You already had the same request open with us, so this one joined it: follow "
            "that one.",
    }.get(status, "")
