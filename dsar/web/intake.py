"""Intake: the web form and the JSON API through which a person makes a request.

Both answer the same whether or not the shop knows the address, so nobody can find out
who is a customer by asking.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from sqlalchemy import func, select

from dsar import i18n
from dsar.clock import utcnow
from dsar.extensions import csrf, db, limiter
from dsar.models import DsarRequest, OutgoingMail
from dsar.policy.addresses import normalise_email
from dsar.policy.deadlines import due_at
from dsar.policy.lifecycle import RequestType
from dsar.transitions import record_event
from dsar.web.errors import error_response
from dsar.web.forms import REQUEST_FIELDS, RequestForm, validate_api_payload
from dsar.work import mails

bp = Blueprint("intake", __name__)


def _intake_limit() -> str:
    """The rate limit on submissions, from the settings."""
    return str(current_app.config["RATELIMIT_INTAKE"])


def submit(values: dict[str, Any]) -> DsarRequest:
    """Stores a new request and sends the verification mail.

    Args:
        values: validated fields: email, type and the optional name, customer_number,
            details; corrections for a rectification, ground for a restriction,
            objection_to for an objection.

    Returns:
        The stored request, awaiting verification.
    """
    received = utcnow()
    dsar_request = DsarRequest(
        type=RequestType(values["type"]),
        email=normalise_email(values["email"]),
        name=values.get("name") or None,
        customer_number=values.get("customer_number") or None,
        details=values.get("details") or None,
        # Chosen in the API call, else the language the form was shown in.
        language=values.get("language") or str(get_locale() or i18n.DEFAULT),
        corrections=values.get("corrections"),
        restriction_ground=values.get("ground"),
        objection_to=values.get("objection_to"),
        received_at=received,
        due_at=due_at(received),
        verification_nonce=secrets.token_urlsafe(16),
    )
    flooded = _verify_mails_today(dsar_request.email) >= current_app.config[
        "VERIFY_MAILS_PER_ADDRESS"]
    db.session.add(dsar_request)
    record_event(dsar_request, "received", actor="requester", note=str(dsar_request.type))
    if flooded:
        # Answered like any other submission, so nobody learns from it; but the inbox of
        # the address is not flooded in the shop's name. Unconfirmed, it expires.
        record_event(dsar_request, "verification_withheld", actor="system",
                     note="the address had its verification mails for today")
        db.session.commit()
        return dsar_request
    owed = mails.owe(dsar_request, mails.MailKind.VERIFY)
    db.session.commit()
    mails.dispatch(owed)
    return dsar_request


def _verify_mails_today(email: str) -> int:
    """How many verification mails the address was owed in the last day."""
    since = utcnow() - timedelta(days=1)
    return int(db.session.scalar(
        select(func.count()).select_from(OutgoingMail)
        .join(DsarRequest, DsarRequest.id == OutgoingMail.request_id)
        .where(DsarRequest.email == email, DsarRequest.received_at >= since,
               OutgoingMail.kind == mails.MailKind.VERIFY)
    ) or 0)


@bp.get("/")
def form() -> str:
    """The request form."""
    return render_template("intake/form.html", form=RequestForm())


@bp.post("/")
@limiter.limit(_intake_limit, methods=["POST"])
def form_submit() -> ResponseReturnValue:
    """Takes the form; on an error shows it again with everything typed kept."""
    form = RequestForm()
    valid = form.validate_on_submit()
    type_values = form.type_values() if valid else None
    if type_values is None:
        return render_template("intake/form.html", form=form), 422
    submit({**{key: form[key].data for key in REQUEST_FIELDS}, **type_values})
    return redirect(url_for("intake.submitted"), code=303)


@bp.get("/submitted")
def submitted() -> str:
    """Tells the person to look for the confirmation mail."""
    hours = current_app.config["VERIFY_MAX_AGE"] // 3600
    return render_template("intake/submitted.html", hours=hours)


@bp.post("/api/v1/requests")
@csrf.exempt  # no cookies are involved, so there is no cross-site request to forge
@limiter.limit(_intake_limit)
def api_submit() -> tuple[Response, int]:
    """Takes a request as JSON; answers 202 awaiting verification, known address or not."""
    payload = request.get_json(silent=True)
    if payload is None:
        return error_response(400, "invalid_json", "The body must be JSON (application/json).")
    values, errors = validate_api_payload(payload)
    if errors:
        return error_response(422, "invalid_request", "Some fields are not valid.", errors)
    dsar_request = submit(values)
    return jsonify(id=dsar_request.id, status=str(dsar_request.status)), 202
