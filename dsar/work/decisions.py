"""The officer's decisions on a request: deny, extend, retry, assign, release.

Each checks that the request may take it, records who decided and why in the audit trail,
and owes the person the mail the law asks for (Art. 12(3) and 12(4)).
"""

from __future__ import annotations

import re

from flask import current_app

from dsar.answer import findings
from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import DsarRequest, Officer
from dsar.policy.deadlines import add_months
from dsar.policy.lifecycle import ACCESS_TYPES, RequestStatus, TaskStatus
from dsar.transitions import record_event, transition
from dsar.work import documents, mails, objections, plans
from dsar.work.content import forget_findings
from dsar.work.tasks import claim_assembly, enqueue_pending

MAX_EXTENSION_MONTHS = 2
#: Task actions that only look; once any other action ran, the request is being carried out.
GATHERING = frozenset({"export", "preview"})
MAX_REASON = 4000


class DecisionRefused(Exception):
    """The request cannot take this decision now; the message says why."""


def _reason(reason: str | None) -> str:
    """A reason as stored: given, trimmed, not endless."""
    text = (reason or "").strip()
    if not text:
        raise DecisionRefused("Give the reasons; the person will read them.")
    return text[:MAX_REASON]


def deny(request: DsarRequest, *, officer: str, reason: str | None) -> None:
    """Refuses the request with reasons; the person gets the Art. 12(4) letter.

    An objection on grounds of the person's situation that waits for the officer is
    rejected instead: the reasons are the compelling legitimate grounds, which the outcome
    letter gives with the complaint route.
    """
    text = _reason(reason)
    if objections.awaits_officer(request):
        objections.reject(request, officer=officer, grounds=text)
        return
    if RequestStatus(request.status) not in {
        RequestStatus.VERIFIED, RequestStatus.AWAITING_APPROVAL, RequestStatus.IN_PROGRESS
    }:
        raise DecisionRefused(f"A request that is {request.status} cannot be denied.")
    if any(task.action not in GATHERING for task in request.tasks) or request.json_ready_at:
        raise DecisionRefused("The request is being carried out already; it can no longer "
                              "be denied.")
    request.denial_reason = text
    transition(request, RequestStatus.DENIED, actor=officer, note=text)
    owed = mails.owe(request, mails.MailKind.DENIED)
    forget_findings(request)  # what the connectors found is not to be kept for nothing
    db.session.commit()
    mails.dispatch(owed)


def extend(request: DsarRequest, *, officer: str, reason: str | None, months: int) -> None:
    """Extends the deadline once, by up to two months, before the first month ends (Art. 12(3))."""
    text = _reason(reason)
    if request.extended_at is not None:
        raise DecisionRefused("The deadline was extended already; the law allows it once.")
    if utcnow() >= request.due_at:
        raise DecisionRefused("The first month has ended; it is too late to extend.")
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise DecisionRefused(f"Extend by 1 to {MAX_EXTENSION_MONTHS} months.")
    if RequestStatus(request.status) in {
        RequestStatus.COMPLETED, RequestStatus.DENIED, RequestStatus.EXPIRED
    }:
        raise DecisionRefused(f"A request that is {request.status} needs no more time.")
    old_due = request.due_at
    request.due_at = add_months(request.due_at, months)
    request.extended_at = utcnow()
    request.extension_reason = text
    record_event(request, "extended", actor=officer,
                 note=f"{old_due.date()} -> {request.due_at.date()}: {text}")
    owed = mails.owe(request, mails.MailKind.EXTENDED)
    db.session.commit()
    mails.dispatch(owed)


def retry(request: DsarRequest, *, officer: str) -> None:
    """Runs the failed tasks of a failed request again, from the first attempt.

    For an answer that went out without its PDF, makes the PDF again.
    """
    if request.status == RequestStatus.COMPLETED and request.document_error:
        record_event(request, "document_retry", actor=officer)
        request.document_attempts = 0
        documents.start(request)
        return
    if request.status != RequestStatus.FAILED:
        raise DecisionRefused("Only a failed request, or an answer without its PDF, can be "
                              "retried.")
    transition(request, RequestStatus.IN_PROGRESS, actor=officer, note="retry")
    for task in request.tasks:
        if task.status == TaskStatus.FAILED:
            task.status = TaskStatus.PENDING
            task.attempts = 0
            task.error = None
            task.finished_at = None
    request.failure_reason = None
    request.assembly_started_at = None
    db.session.commit()
    enqueue_pending(request)


def assign(request: DsarRequest, *, officer: str, to: Officer | None) -> None:
    """Gives the request to an officer (or to nobody)."""
    request.assigned_to = to
    record_event(request, "assigned", actor=officer, note=to.email if to else "nobody")
    db.session.commit()


def approve(request: DsarRequest, *, officer: str, choices: object = None) -> None:
    """Approves an erasure's or correction's plan, releases a reviewed access answer, or
    upholds an objection on grounds of the person's situation.

    Args:
        choices: for an objection, per category ("connector.category") the officer stops,
            "erase" or "restrict".
    """
    if request.status != RequestStatus.AWAITING_APPROVAL:
        raise DecisionRefused(f"The request is {request.status}; nothing awaits approval.")
    if request.type in ACCESS_TYPES:
        release(request, officer=officer)
    elif objections.awaits_officer(request):
        problem = objections.refusal(request, choices)
        if problem:
            raise DecisionRefused(problem)
        objections.uphold(request, officer=officer,
                          choices=choices if isinstance(choices, dict) else {})
    else:
        plans.approve(request, actor=officer)


def release(request: DsarRequest, *, officer: str) -> None:
    """Releases an access answer held for review; it is built with the redactions made."""
    transition(request, RequestStatus.IN_PROGRESS, actor=officer, note="answer released")
    request.released_by = officer
    request.assembly_started_at = None
    db.session.commit()
    claim_assembly(request.id)


def redact(request: DsarRequest, *, officer: str, connector: str, category: str, key: str,
           field: str, passage: str, reason: str | None) -> None:
    """Withholds a passage of an access answer held for review (Art. 15(4)), with a reason."""
    text = _reason(reason)
    if request.status != RequestStatus.AWAITING_APPROVAL or request.type not in ACCESS_TYPES:
        raise DecisionRefused("Only an access answer held for review can be redacted.")
    if not passage.strip():
        raise DecisionRefused("Give the passage to withhold, exactly as it stands.")
    found = _passage_in(request, connector, category, key, field, passage)
    if found is None:
        raise DecisionRefused("That passage is not in the text; copy it from the page as it is.")
    request.redactions = [*(request.redactions or []), {
        "connector": connector, "category": category, "key": key, "field": field,
        "passage": found, "reason": text,
    }]
    record_event(request, "redacted", actor=officer,
                 note=f"{connector}/{category}/{key}/{field}: {text}")
    db.session.commit()


def review_required() -> bool:
    """Whether access answers wait for the officer before they go out."""
    return bool(current_app.config["REVIEW_ACCESS_REPORTS"])


def _passage_in(
    request: DsarRequest, connector: str, category: str, key: str, field: str, passage: str
) -> str | None:
    """The passage as it stands in the record's field, or None when it is not there.

    A page shows runs of spaces and line breaks as one space, so the officer's copy is
    matched with any whitespace between its words.
    """
    pattern = r"\s+".join(re.escape(word) for word in passage.split())
    for task in request.tasks:
        if task.connector != connector or category not in findings.counts(task.result):
            continue
        for record in findings.records(request.id, task.id, category):
            value = record["data"].get(field)
            if record["key"] == key and isinstance(value, str):
                match = re.search(pattern, value)
                if match:
                    return match.group(0)
    return None
