"""Fan-in: once every task has ended, the request gets its answer or is marked failed."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select

from dsar import i18n
from dsar.answer import storage
from dsar.answer.pdf import render_pdf
from dsar.answer.report import write_report
from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import DsarRequest, Officer, RequestEvent
from dsar.policy.lifecycle import ACCESS_TYPES, RequestStatus, TaskStatus
from dsar.transitions import record_event, transition
from dsar.work import decisions, documents, mails, objections, outcomes, plans
from dsar.work.content import (
    BASIS_UNKNOWN,
    LABELS_UNKNOWN,
    OVER_RETENTION,
    RECIPIENTS_UNKNOWN,
    answer_content,
    past_retention,
    unknown_recipients,
    without_basis,
    without_labels,
)

log = logging.getLogger(__name__)


def assemble(request_id: str) -> None:
    """The fan-in: once every task has ended, the next step of the request.

    That is the plan (erasure, rectification), what an objection stops, or the answer:
    stored, the request completed and the person owed a mail. Runs again harmlessly: a
    request that is no longer in progress is left alone.
    """
    request = db.session.get(DsarRequest, request_id)
    if request is None or request.status != RequestStatus.IN_PROGRESS:
        return
    if request.json_ready_at is not None and request.type in ACCESS_TYPES:
        return  # the answer is stored; its PDF is on its way
    failed = sorted(t.connector for t in request.tasks if t.status == TaskStatus.FAILED)
    if failed:
        request.failure_reason = "connector tasks failed: " + ", ".join(failed)
        transition(request, RequestStatus.FAILED, actor="system", note=request.failure_reason)
        tell_of_failure(request)
        return
    try:
        _next_step(request)
    except Exception as exc:  # recorded on the request for the officer, who retries it
        db.session.rollback()
        request = db.session.get(DsarRequest, request_id)
        if request is None or request.status != RequestStatus.IN_PROGRESS:
            raise
        log.exception("request_id=%s state=answer-failed", request_id)
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        request.failure_reason = f"making the answer failed: {type(exc).__name__}: {first_line}"[
            :500]
        # The trail is permanent: it gets the kind of failure, the request row the message.
        transition(request, RequestStatus.FAILED, actor="system",
                   note=f"making the answer failed: {type(exc).__name__}")
        tell_of_failure(request)


def tell_of_failure(request: DsarRequest) -> None:
    """Owes the requester word that we are on it and answer by the due date, and every
    officer an alert; commits and sends. Each goes once per request, however often it fails.
    """
    mails.owe(request, mails.MailKind.DELAYED)
    for officer in db.session.scalars(select(Officer).order_by(Officer.id)):
        mails.owe(request, mails.alert_kind(officer.email), to_address=officer.email)
    db.session.commit()
    mails.dispatch_unsent(request)


def _next_step(request: DsarRequest) -> None:
    """Makes the plan, holds the answer for review, or makes and sends the answer."""
    if plans.needs_plan(request):
        plans.make_plan(request)
        return
    if objections.needs_plan(request):
        objections.make_plan(request)
        return
    if request.type in ACCESS_TYPES:
        if decisions.review_required() and request.released_by is None:
            # Art. 15(4): the officer reads it first and may withhold third parties' data;
            # told now, before it goes, of records kept past their period (expiry).
            with i18n.for_request(request.language):
                sections = answer_content(request)[1]
                for section in sections:  # read once, which notes what is past its end
                    for found in section.found:
                        for _ in found.records():
                            pass
                _note_past_retention(request, sections)
            transition(request, RequestStatus.AWAITING_APPROVAL, actor="system",
                       note="held for review")
            db.session.commit()
            return
        rows = _store_access_json(request)
        # The person is mailed now: the PDF takes longer and may take long, in a job of its
        # own, sized to the answer, and appears on the answer's page when it is made.
        documents.deliver(request)
        documents.start(request, rows=rows)
        return
    # An outcome letter is short: its JSON and PDF are made here, and the request is
    # completed in the same commit that says the JSON is ready, so a crash in between
    # leaves the letter to be made again by the sweep.
    with i18n.for_request(request.language):
        letter = outcomes.conclude(request)
        pdf = render_pdf("report/outcome.html", report=letter)
    storage.write(request.id, "report.json",
                  json.dumps(letter, indent=2, ensure_ascii=False).encode())
    storage.write(request.id, "report.pdf", pdf)
    request.json_ready_at = request.document_ready_at = utcnow()
    documents.deliver(request)


def _store_access_json(request: DsarRequest) -> int:
    """Writes the access answer's JSON, its records streamed from the findings.

    Returns:
        How many records it holds.
    """
    request.json_ready_at = utcnow()
    with i18n.for_request(request.language):
        head, sections = answer_content(request)
        with storage.writing(request.id, "report.json") as out:
            write_report(out, head, sections)
    unknown = unknown_recipients(sections)
    if unknown:
        # The answer says plainly that they are not established; the officer must find out.
        record_event(request, RECIPIENTS_UNKNOWN, actor="system", note=", ".join(unknown))
    baseless = without_basis(sections)
    if baseless:
        # Rights that depend on the ground (an objection, portability) cannot be worked out
        # for them by program; the officer must have the system say which it is.
        record_event(request, BASIS_UNKNOWN, actor="system", note=", ".join(baseless))
    unlabelled = without_labels(sections)
    if unlabelled:
        # The answer shows them as their names in words; the system should give them labels.
        record_event(request, LABELS_UNKNOWN, actor="system", note="; ".join(unlabelled))
    _note_past_retention(request, sections)
    db.session.commit()
    return int(head["summary"]["record_count"])


def _note_past_retention(request: DsarRequest, sections: list[Any]) -> None:
    """Tells the officer, once per request, of the records the answer finds kept past their
    period: the answer shows each flagged; the shop must erase them (expiry) or justify them."""
    kept_too_long = past_retention(sections)
    told = db.session.scalar(select(RequestEvent.id).where(
        RequestEvent.request_id == request.id, RequestEvent.kind == OVER_RETENTION).limit(1))
    if kept_too_long and told is None:
        record_event(request, OVER_RETENTION, actor="system", note=kept_too_long)
