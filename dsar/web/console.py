"""The privacy officer's console: the queue with its deadlines, a request's page, decisions.

Server-rendered, and every action is a plain form POST with a CSRF token, so the console
works without JavaScript.
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from dsar import audit
from dsar.answer import storage
from dsar.answer.report import REDACTION_FLAGS
from dsar.clock import utcnow
from dsar.extensions import db
from dsar.i18n import DEFAULT, use_request_language
from dsar.models import DsarRequest, Officer, OutgoingMail, RequestEvent, request_or_404
from dsar.policy.deadlines import days_left
from dsar.policy.lifecycle import (
    ACCESS_TYPES,
    OPEN_STATUSES,
    RequestStatus,
    RequestType,
    TaskStatus,
)
from dsar.transitions import record_event
from dsar.web import figures
from dsar.web.auth import ROLES, officer_required
from dsar.web.delivery import stored_file
from dsar.web.listing import PAGE_SIZE, queue_query
from dsar.web.officers import OfficerError, create_officer
from dsar.work import decisions, expiry, mails, sign_in_alerts, tasks, verifying
from dsar.work.content import (
    BASIS_UNKNOWN,
    LABELS_UNKNOWN,
    OVER_RETENTION,
    RECIPIENTS_UNKNOWN,
    found_records,
)
from dsar.work.notices import RECIPIENTS_UNPLACED

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.before_request
def _in_english() -> None:
    """The console is English, whatever the officer's browser asks for: a record's texts
    in review read as the officers' own documentation does."""
    use_request_language(DEFAULT)


WEEKS_SHOWN = 12
CHART_HEIGHT = 120
#: How long a throttled sign-in stays on the queue page.
THROTTLES_SHOWN_FOR = timedelta(days=7)


@bp.get("/")
@officer_required()
def queue() -> ResponseReturnValue:
    """All requests with their deadlines, filtered and paginated."""
    args = request.args
    query = queue_query(
        status=args.get("status", "open"),
        kind=args.get("type", ""),
        overdue=args.get("overdue") == "1",
        mine=current_user.id if args.get("mine") == "1" else None,
        search=args.get("q", ""),
    )
    page = db.paginate(query, per_page=PAGE_SIZE, max_per_page=PAGE_SIZE, error_out=False)
    now = utcnow()
    overdue_count = db.session.scalar(
        select(func.count()).select_from(DsarRequest)
        .where(DsarRequest.status.in_(OPEN_STATUSES), DsarRequest.due_at < now)
    )
    # An officer sees the throttles of their own account; an admin those of every account.
    throttles = sign_in_alerts.throttles_since(
        now - THROTTLES_SHOWN_FOR, None if current_user.role == "admin" else current_user.email)
    return render_template(
        "console/queue.html", page=page, now=now, days_left=days_left, args=args,
        statuses=list(RequestStatus), types=list(RequestType), overdue_count=overdue_count,
        filter_args={k: v for k, v in args.items() if k != "page"}, throttles=throttles,
    )


@bp.get("/requests/<request_id>")
@officer_required()
def detail(request_id: str) -> ResponseReturnValue:
    """Everything about one request: who, what, tasks, plan, timeline, answer."""
    found = request_or_404(request_id)
    events = db.session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == found.id).order_by(RequestEvent.id)
    ).all()
    officers = db.session.scalars(select(Officer).order_by(Officer.email)).all()
    answer_ready = found.status == RequestStatus.COMPLETED and storage.exists(
        found.id, "report.pdf")
    return render_template(
        "console/request.html", req=found, events=events, officers=officers,
        days_left=days_left(found.due_at, utcnow()), answer_ready=answer_ready,
        TaskStatus=TaskStatus, review=_review_records(found), mails=mails.owed_mails(found),
        kept_too_long=[e.note for e in events if e.kind == OVER_RETENTION],
        recipients_unknown=[e.note for e in events if e.kind == RECIPIENTS_UNKNOWN],
        recipients_unplaced=[e.note for e in events if e.kind == RECIPIENTS_UNPLACED],
        basis_unknown=[e.note for e in events if e.kind == BASIS_UNKNOWN],
        labels_unknown=[e.note for e in events if e.kind == LABELS_UNKNOWN],
        overdue_mail_ids=set(db.session.scalars(select(OutgoingMail.id).where(
            OutgoingMail.request_id == found.id, mails.overdue_filter()))),
    )


def _review_records(found: DsarRequest) -> list[dict[str, object]]:
    """The free-text records of an access answer held for review, third parties flagged first."""
    if found.status != RequestStatus.AWAITING_APPROVAL or found.type not in ACCESS_TYPES:
        return []
    rows = []
    for connector in sorted({task.connector for task in found.tasks}):
        for category, record in found_records(found, connector):
            texts = {k: v for k, v in record["data"].items()
                     if isinstance(v, str) and len(v) > 40}
            if texts:
                rows.append({"connector": connector, "category": category,
                             "key": record["key"], "texts": texts,
                             # Others' data found in it, not its keeping: that is below.
                             "flagged": bool(REDACTION_FLAGS.intersection(record["flags"]))})
    return sorted(rows, key=lambda row: not row["flagged"])


def _decide(request_id: str, action: str) -> ResponseReturnValue:
    """Carries out one decision from a form and returns to the request's page."""
    found = request_or_404(request_id)
    form = request.form
    officer = current_user.email
    try:
        if action == "approve":
            # An objection on legitimate interests: per category, "stop:<category>" says how.
            choices = {name[len("stop:"):]: how for name, how in form.items()
                       if name.startswith("stop:")}
            decisions.approve(found, officer=officer, choices=choices)
        elif action == "deny":
            decisions.deny(found, officer=officer, reason=form.get("reason"))
        elif action == "extend":
            months = int(form.get("months", "0")) if form.get("months", "").isdigit() else 0
            decisions.extend(found, officer=officer, reason=form.get("reason"), months=months)
        elif action == "retry":
            decisions.retry(found, officer=officer)
        elif action == "assign":
            to_id = form.get("officer", "")
            to = db.session.get(Officer, int(to_id)) if to_id.isdigit() else None
            decisions.assign(found, officer=officer, to=to)
        elif action == "expire":
            expiry.ask(found, officer=officer)
        elif action == "redact":
            decisions.redact(found, officer=officer, connector=form.get("connector", ""),
                             category=form.get("category", ""), key=form.get("key", ""),
                             field=form.get("field", ""), passage=form.get("passage", ""),
                             reason=form.get("reason"))
        else:
            abort(404)
    except (decisions.DecisionRefused, expiry.ExpiryRefused) as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        flash(f"Done: {action}.", "ok")
    return redirect(url_for("console.detail", request_id=found.id), code=303)


@bp.post(
    "/requests/<request_id>/<any(approve, deny, extend, retry, assign, redact, expire):action>")
@officer_required()
def decide(request_id: str, action: str) -> ResponseReturnValue:
    """One decision, posted from the request's page."""
    return _decide(request_id, action)


@bp.post("/requests/<request_id>/tasks/<int:task_id>/<any(complete, refuse, again):step>")
@officer_required()
def settle_task(request_id: str, task_id: int, step: str) -> ResponseReturnValue:
    """The officer settles a manual task: did it by hand (and says what), refuses the part a
    connector did not carry out (with the reasons the person reads), or has it tried again."""
    found = request_or_404(request_id)
    task = next((t for t in found.tasks if t.id == task_id), None)
    note = request.form.get("note", "").strip()
    unverified = task is not None and verifying.fell_short(task)
    if task is None or task.status != TaskStatus.MANUAL:
        flash("That task is not waiting for you.", "error")
    elif step != "complete" and not unverified:
        flash("Only what a system did not carry out can be refused or tried again.", "error")
    elif step == "again" and (task.result or {}).get("unprovable"):
        flash("The system cannot show it: check it there, then complete or refuse it.", "error")
    elif step == "again":
        if tasks.try_again(task, actor=current_user.email):
            flash("Trying it again.", "ok")
        else:
            flash("That task is not waiting for you.", "error")
    elif not note:
        flash("Say what you did, for the record." if step == "complete"
              else "Give the reasons; the person will read them.", "error")
    elif tasks.complete_manual_task(task, actor=current_user.email, note=note[:2000],
                                    refused=step == "refuse"):
        flash("Part refused." if step == "refuse" else "Task completed.", "ok")
    else:
        flash("That task is not waiting for you.", "error")
    return redirect(url_for("console.detail", request_id=found.id), code=303)


@bp.get("/requests/<request_id>/answer/<any('report.pdf', 'report.json'):filename>")
@officer_required()
def answer_file(request_id: str, filename: str) -> ResponseReturnValue:
    """The answer as the person received it; the officer's download is recorded."""
    found = request_or_404(request_id)
    try:
        response = stored_file(found.id, filename)
    except FileNotFoundError:
        abort(404)
    record_event(found, "answer_downloaded", actor=current_user.email, note=filename)
    db.session.commit()
    return response


@bp.get("/requests/<request_id>/audit.csv")
@officer_required()
def audit_csv(request_id: str) -> Response:
    """The request's audit trail as CSV."""
    found = request_or_404(request_id)
    body = audit.to_csv(audit.entries(request_id=found.id))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="audit-{found.id}.csv"',
        "Cache-Control": "no-store",
    })


@bp.route("/officers", methods=["GET", "POST"])
@officer_required("admin")
def officers() -> ResponseReturnValue:
    """Admins see and add officers."""
    if request.method == "POST":
        role = request.form.get("role", "officer")
        try:
            if role not in ROLES:
                raise OfficerError("choose a role")
            made = create_officer(request.form.get("email", ""), request.form.get("password", ""),
                                  role)
            db.session.flush()
            audit.append(RequestEvent(request_id=None, kind="officer_created",
                                      actor=current_user.email, note=made.email, at=utcnow()))
            db.session.commit()
            flash(f"Added {made.email} as {role}.", "ok")
        except OfficerError as exc:
            db.session.rollback()
            flash(f"Not added: {exc}.", "error")
        return redirect(url_for("console.officers"), code=303)
    everyone = db.session.scalars(select(Officer).order_by(Officer.email)).all()
    return render_template("console/officers.html", officers=everyone, roles=ROLES)


@bp.get("/dashboard")
@officer_required()
def dashboard() -> ResponseReturnValue:
    """Open requests by status and type, what is due, how fast answers go out, per week."""
    now = utcnow()
    open_filter = DsarRequest.status.in_(OPEN_STATUSES)
    by_status = dict(db.session.execute(
        select(DsarRequest.status, func.count()).where(open_filter).group_by(DsarRequest.status)
    ).all())
    by_type = dict(db.session.execute(
        select(DsarRequest.type, func.count()).where(open_filter).group_by(DsarRequest.type)
    ).all())
    due_this_week = db.session.scalar(select(func.count()).select_from(DsarRequest).where(
        open_filter, DsarRequest.due_at >= now, DsarRequest.due_at < now + timedelta(days=7)))
    overdue = db.session.scalar(select(func.count()).select_from(DsarRequest).where(
        open_filter, DsarRequest.due_at < now))
    answered = db.session.execute(select(DsarRequest.received_at, DsarRequest.answered_at).where(
        DsarRequest.answered_at >= now - timedelta(days=90))).all()
    weeks = figures.weekly_counts(
        db.session.scalars(select(DsarRequest.received_at).where(
            DsarRequest.received_at >= now - timedelta(weeks=WEEKS_SHOWN))),
        WEEKS_SHOWN, now.date())
    stuck_mails = db.session.execute(
        select(OutgoingMail.request_id, func.count(), func.min(OutgoingMail.created_at))
        .where(mails.overdue_filter()).group_by(OutgoingMail.request_id)
        .order_by(func.min(OutgoingMail.created_at))
    ).all()
    return render_template(
        "console/dashboard.html", by_status=by_status, by_type=by_type,
        due_this_week=due_this_week, overdue=overdue, stuck_mails=stuck_mails,
        median=figures.median_days((r, a) for r, a in answered if a is not None),
        weeks=weeks, heights=figures.bar_heights(weeks, CHART_HEIGHT), chart_height=CHART_HEIGHT,
    )
