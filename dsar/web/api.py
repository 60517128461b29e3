"""The officers' JSON API under /api/v1/ (intake and verification live with their pages)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    request,
    send_from_directory,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from dsar.clock import iso, utcnow
from dsar.extensions import csrf, db
from dsar.models import ConnectorTask, DsarRequest, OutgoingMail, request_or_404
from dsar.policy.lifecycle import OPEN_STATUSES, RequestStatus, RequestType, TaskStatus
from dsar.transitions import record_event
from dsar.web.errors import error_response
from dsar.web.listing import PAGE_SIZE, queue_query
from dsar.web.officers import token_required
from dsar.work import decisions, expiry, mails, suppression, tasks, verifying

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Officers' API calls carry a bearer token, never a cookie: there is nothing to forge.
csrf.exempt(bp)

MAX_SUPPRESSION_CHECK = 1000
#: The highest page asked for that is still counted: its offset must fit the database's integer.
MAX_PAGE = (2**63 - 1) // PAGE_SIZE
#: Half of a UTF-16 pair (JSON can carry one): such text can be neither hashed, stored nor
#: mailed. Control characters other than tab and line breaks are never meant, and PostgreSQL
#: refuses NUL outright. Text the API keeps or searches for holds neither: a 422, not a 500.
_BROKEN = re.compile(r"[\ud800-\udfff]")
_UNUSABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
UNUSABLE_MESSAGE = "Remove the invisible control characters (or broken characters) from this."


def _unusable(value: object) -> bool:
    """Whether a value is text the API can neither keep nor search for."""
    return isinstance(value, str) and _UNUSABLE.search(value) is not None


def _broken(value: object) -> bool:
    """Whether a value is text with half a UTF-16 pair in it."""
    return isinstance(value, str) and _BROKEN.search(value) is not None


@bp.get("/requests/<request_id>")
@token_required
def get_request(request_id: str) -> Response:
    """A request's type, status, dates and tasks."""
    dsar_request = request_or_404(request_id)
    return jsonify(
        id=dsar_request.id,
        type=str(dsar_request.type),
        status=str(dsar_request.status),
        received_at=iso(dsar_request.received_at),
        due_at=iso(dsar_request.due_at),
        verified_at=iso(dsar_request.verified_at),
        answered_at=iso(dsar_request.answered_at),
        failure_reason=dsar_request.failure_reason,
        corrections=dsar_request.corrections,
        restriction_ground=dsar_request.restriction_ground,
        objection_to=dsar_request.objection_to,
        waiting_for=tasks.waiting_for(dsar_request),
        mails_overdue=db.session.scalar(select(func.count()).select_from(OutgoingMail).where(
            OutgoingMail.request_id == dsar_request.id, mails.overdue_filter())),
        answer_deleted_at=iso(dsar_request.answer_deleted_at),
        tasks=[
            {
                "id": task.id,
                "connector": task.connector,
                "action": task.action,
                "status": str(task.status),
                "attempts": task.attempts,
                "error": task.error,
                "waiting_since": iso(task.waiting_since),
                "next_attempt_at": iso(task.next_attempt_at),
            }
            for task in dsar_request.tasks
        ],
    )


@bp.get("/openapi.yaml")
def openapi() -> Response:
    """The OpenAPI description of this API."""
    return send_from_directory(current_app.static_folder or "", "openapi.yaml",
                               mimetype="application/yaml")


@bp.get("/schemas/<name>.schema.json")
def schema(name: str) -> Response:
    """A published JSON Schema, e.g. of the access answer (cplus-dsar-report-1)."""
    # A breaking change gets a new file beside the old, so a reader's URL keeps its meaning.
    folder = Path(current_app.static_folder or "") / "schemas"
    return send_from_directory(folder, f"{name}.schema.json", mimetype="application/schema+json")


def _officer() -> str:
    """The acting officer's address, for the timeline."""
    return str(g.officer.email)


@bp.get("/requests/<request_id>/plan")
@token_required
def get_plan(request_id: str) -> ResponseReturnValue:
    """What an erasure or rectification will do, per connector and record."""
    dsar_request = request_or_404(request_id)
    if dsar_request.plan is None:
        return error_response(409, "no_plan", "This request has no plan (yet).",
                              {"status": str(dsar_request.status)})
    return jsonify(id=dsar_request.id, type=str(dsar_request.type),
                   status=str(dsar_request.status), **dsar_request.plan)


@bp.post("/requests/<request_id>/<any(approve, deny, extend, retry):action>")
@token_required
def decide(request_id: str, action: str) -> ResponseReturnValue:
    """approve (a plan, an access answer held for review, or an objection on grounds of the
    person's situation, with {"categories": {"connector.category": "erase"|"restrict"}}),
    deny and extend (with {"reason"}, extend also {"months": 1|2}), retry (the failed
    tasks, or a missing PDF)."""
    dsar_request = request_or_404(request_id)
    payload = request.get_json(silent=True) or {}
    reason = payload.get("reason") if isinstance(payload, dict) else None
    if action in {"deny", "extend"} and _unusable(reason):
        return error_response(422, "invalid_request", "The reason cannot be kept as it is.",
                              {"reason": UNUSABLE_MESSAGE})
    try:
        if action == "approve":
            decisions.approve(dsar_request, officer=_officer(), choices=payload.get(
                "categories") if isinstance(payload, dict) else None)
        elif action == "deny":
            decisions.deny(dsar_request, officer=_officer(), reason=_text(reason))
        elif action == "extend":
            months = payload.get("months", 2) if isinstance(payload, dict) else 2
            decisions.extend(dsar_request, officer=_officer(), reason=_text(reason),
                             months=months if isinstance(months, int) else 0)
        else:
            decisions.retry(dsar_request, officer=_officer())
    except decisions.DecisionRefused as refused:
        db.session.rollback()
        return error_response(409, "decision_refused", str(refused),
                              {"status": str(dsar_request.status)})
    return jsonify(id=dsar_request.id, status=str(dsar_request.status),
                   due_at=iso(dsar_request.due_at)), 202


def _text(value: object) -> str | None:
    """A JSON value that should be text, or None."""
    return value if isinstance(value, str) else None


@bp.get("/requests")
@token_required
def list_requests() -> ResponseReturnValue:
    """The queue: ?status=&type=&overdue=1&q=&page=, most urgent first, 50 a page."""
    args = request.args
    unusable = {name: UNUSABLE_MESSAGE for name in ("status", "type", "q")
                if _unusable(args.get(name))}
    if unusable:
        return error_response(422, "invalid_request", "A filter no request can match.", unusable)
    query = queue_query(status=args.get("status", "all"), kind=args.get("type", ""),
                        overdue=args.get("overdue") in {"1", "true"}, search=args.get("q", ""))
    number = min(max(args.get("page", 1, type=int), 1), MAX_PAGE)
    page = db.paginate(query, page=number, per_page=PAGE_SIZE, max_per_page=PAGE_SIZE,
                       error_out=False)
    return jsonify(
        page=page.page, pages=page.pages, total=page.total,
        requests=[{
            "id": r.id, "type": str(r.type), "status": str(r.status),
            "received_at": iso(r.received_at), "due_at": iso(r.due_at),
            "extended": r.extended_at is not None,
            "overdue": r.due_at < utcnow() and r.status in OPEN_STATUSES,
        } for r in page.items],
    )


@bp.post("/requests/<request_id>/tasks/<int:task_id>/complete")
@token_required
def complete_task(request_id: str, task_id: int) -> ResponseReturnValue:
    """Records that the officer did a manual task: {"note": "what was done"}."""
    dsar_request = request_or_404(request_id)
    task = _task_or_404(dsar_request, task_id)
    if task.status != TaskStatus.MANUAL:
        return _not_manual(task)
    payload = request.get_json(silent=True)
    note = payload.get("note") if isinstance(payload, dict) else None
    if not isinstance(note, str) or not note.strip():
        return error_response(422, "invalid_request", "Say what was done.",
                              {"note": "Describe what was done in the system, for the record."})
    if _unusable(note):
        return error_response(422, "invalid_request", "The note cannot be kept as it is.",
                              {"note": UNUSABLE_MESSAGE})
    refused = isinstance(payload, dict) and payload.get("refused") is True
    if refused and not verifying.fell_short(task):
        return error_response(409, "not_refusable",
                              "Only what a system did not carry out can be refused.",
                              {"refused": "This task has nothing a system left undone."})
    if not tasks.complete_manual_task(task, actor=_officer(), note=note.strip()[:2000],
                                      refused=refused):
        return _not_manual(task)
    return jsonify(id=dsar_request.id, task=task.id, status=str(task.status))


@bp.post("/requests/<request_id>/tasks/<int:task_id>/again")
@token_required
def try_task_again(request_id: str, task_id: int) -> ResponseReturnValue:
    """Runs again a task whose records did not read back as done."""
    dsar_request = request_or_404(request_id)
    task = _task_or_404(dsar_request, task_id)
    if (task.status != TaskStatus.MANUAL or not verifying.fell_short(task)
            or (task.result or {}).get("unprovable")):
        return error_response(409, "not_retryable",
                              "Only a task whose records a system did not carry out is tried "
                              "again.", {"status": str(task.status)})
    if not tasks.try_again(task, actor=_officer()):
        return _not_manual(task)
    return jsonify(id=dsar_request.id, task=task.id, status=str(task.status)), 202


def _task_or_404(dsar_request: DsarRequest, task_id: int) -> ConnectorTask:
    """The request's task of that id; a 404 for any other."""
    task = next((t for t in dsar_request.tasks if t.id == task_id), None)
    if task is None:
        abort(404, description="No such task on this request.")
    return task


def _not_manual(task: ConnectorTask) -> ResponseReturnValue:
    """The reply when a task is no longer waiting for the officer."""
    return error_response(409, "not_manual", "Only a manual task can be completed by hand.",
                          {"status": str(task.status)})


@bp.post("/requests/<request_id>/erase-past-period")
@token_required
def erase_past_period(request_id: str) -> ResponseReturnValue:
    """Erases the records this access answer found kept past their period (Art. 5(1)(e))."""
    dsar_request = request_or_404(request_id)
    try:
        expiry.ask(dsar_request, officer=_officer())
    except expiry.ExpiryRefused as refused:
        db.session.rollback()
        return error_response(409, "nothing_past_its_period", str(refused), {})
    return jsonify(id=dsar_request.id, status=str(dsar_request.status)), 202


@bp.post("/requests/<request_id>/lift-restriction")
@token_required
def lift_restriction(request_id: str) -> ResponseReturnValue:
    """Tells the person first (Art. 18(3)), then records the restriction as lifted."""
    dsar_request = request_or_404(request_id)
    restricted = dsar_request.status == RequestStatus.COMPLETED
    if dsar_request.type != RequestType.RESTRICTION or not restricted:
        return error_response(409, "not_restricted",
                              "Only a carried-out restriction can be lifted.")
    payload = request.get_json(silent=True)
    reason = payload.get("reason") if isinstance(payload, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        return error_response(422, "invalid_request", "Give the reason the person will read.",
                              {"reason": "Why the restriction ends."})
    if _unusable(reason):
        return error_response(422, "invalid_request", "The reason cannot be kept as it is.",
                              {"reason": UNUSABLE_MESSAGE})
    if dsar_request.restriction_lifted_at is None:
        owed = mails.owe(dsar_request, mails.MailKind.RESTRICTION_LIFTING)
        owed.payload = {"reason": reason.strip()[:2000]}
        dsar_request.restriction_lifted_at = utcnow()
        record_event(dsar_request, "restriction_lifted", actor=_officer(), note=reason.strip())
        db.session.commit()
        mails.dispatch(owed)
    lifted = iso(dsar_request.restriction_lifted_at)
    return jsonify(id=dsar_request.id, restriction_lifted_at=lifted)


@bp.post("/suppressions/check")
@token_required
def check_suppressions() -> ResponseReturnValue:
    """Which of the addresses must get no offers: {"emails": [...]} (at most 1,000)."""
    payload = request.get_json(silent=True)
    emails = payload.get("emails") if isinstance(payload, dict) else None
    if not (
        isinstance(emails, list)
        and 0 < len(emails) <= MAX_SUPPRESSION_CHECK
        and all(isinstance(e, str) and not _broken(e) for e in emails)
    ):
        return error_response(422, "invalid_request", "Give a list of e-mail addresses.",
                              {"emails": f"A list of 1 to {MAX_SUPPRESSION_CHECK} addresses."})
    return jsonify(suppressed=suppression.suppressed(emails))


@bp.post("/suppressions/lift")
@token_required
def lift_suppression() -> ResponseReturnValue:
    """The person opted in anew (in the shop): {"email": ...} may get offers again."""
    payload = request.get_json(silent=True)
    email = payload.get("email") if isinstance(payload, dict) else None
    if not isinstance(email, str) or "@" not in email or _broken(email):
        return error_response(422, "invalid_request", "Give the address that opted in anew.",
                              {"email": "An e-mail address."})
    lifted = suppression.lift(email)
    db.session.commit()
    return jsonify(lifted=lifted)
