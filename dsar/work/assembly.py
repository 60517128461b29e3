"""Fan-in: once every task has ended, the request gets its answer or is marked failed."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import current_app

from dsar.answer.pdf import render_pdf
from dsar.answer.report import build_report
from dsar.answer.storage import answer_path, write_atomically
from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import DsarRequest
from dsar.policy.lifecycle import RequestStatus, RequestType, TaskStatus
from dsar.registry import current_registry
from dsar.transitions import transition
from dsar.work import decisions, documents, outcomes, plans

log = logging.getLogger(__name__)


def assemble(request_id: str) -> None:
    """The fan-in: once every task has ended, the next step of the request.

    That is the plan (erasure, rectification), or the answer: stored, the request completed
    and the person owed a mail. Runs again harmlessly: a request that is no longer in
    progress is left alone.
    """
    request = db.session.get(DsarRequest, request_id)
    if request is None or request.status != RequestStatus.IN_PROGRESS:
        return
    if request.json_ready_at is not None:  # the answer is stored; its PDF is on its way
        return
    failed = sorted(t.connector for t in request.tasks if t.status == TaskStatus.FAILED)
    if failed:
        request.failure_reason = "connector tasks failed: " + ", ".join(failed)
        transition(request, RequestStatus.FAILED, actor="system", note=request.failure_reason)
        db.session.commit()
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
        db.session.commit()


def _next_step(request: DsarRequest) -> None:
    """Makes the plan, holds the answer for review, or makes and sends the answer."""
    if plans.needs_plan(request):
        plans.make_plan(request)
        return
    if request.type in {RequestType.ACCESS, RequestType.PORTABILITY}:
        if decisions.review_required() and request.released_by is None:
            # Art. 15(4): the officer reads it first and may withhold third parties' data.
            transition(request, RequestStatus.AWAITING_APPROVAL, actor="system",
                       note="held for review")
            db.session.commit()
            return
        report = _access_report(request)
        _store_json(request, report)
        # The PDF takes longer and may take long: a job of its own, sized to the answer.
        documents.start(request, rows=report["summary"]["record_count"])
        return
    letter = outcomes.conclude(request)
    _store_json(request, letter)
    write_atomically(answer_path(request.id, "report.pdf"),
                     render_pdf("report/outcome.html", report=letter))
    documents.deliver(request)


def _store_json(request: DsarRequest, answer: dict[str, Any]) -> None:
    """Stores the JSON answer, the complete one, and notes when it was ready."""
    write_atomically(
        answer_path(request.id, "report.json"),
        json.dumps(answer, indent=2, ensure_ascii=False).encode(),
    )
    request.json_ready_at = utcnow()
    db.session.commit()


def _access_report(request: DsarRequest) -> dict[str, Any]:
    """The access report from the export tasks' results."""
    return build_report(
        request={
            "id": request.id,
            "type": request.type,
            "email": request.email,
            "received_at": request.received_at,
            "due_at": request.due_at,
            "verified_at": request.verified_at,
        },
        sections=_sections(request),
        controller={
            "name": current_app.config["CONTROLLER_NAME"],
            "contact": current_app.config["CONTROLLER_CONTACT"],
        },
        generated_at=utcnow(),
    )


def _sections(request: DsarRequest) -> list[tuple[str, str, tuple[Any, ...], dict[str, Any]]]:
    """Per succeeded task its connector's name, title, categories and result."""
    reg = current_registry()
    sections = []
    for task in request.tasks:
        cls = reg.get_class(task.connector)
        result = redacted(task.connector, task.result or {}, request.redactions or [])
        sections.append((cls.name, cls.title, cls.categories, result))
    return sections


def redacted(
    connector: str, result: dict[str, Any], redactions: list[dict[str, str]]
) -> dict[str, Any]:
    """A task's result with the passages the officer withheld replaced by the reason."""
    if not redactions:
        return result
    result = json.loads(json.dumps(result))  # a deep copy: the stored findings stay as found
    for cut in redactions:
        if cut["connector"] != connector:
            continue
        for record in result.get("categories", {}).get(cut["category"], []):
            value = record["data"].get(cut["field"])
            if record["key"] == cut["key"] and isinstance(value, str):
                record["data"][cut["field"]] = value.replace(
                    cut["passage"], f"[withheld: {cut['reason']}]"
                )
                if "withheld_by_officer" not in record["flags"]:
                    record["flags"].append("withheld_by_officer")
    return result
