"""Verification: the person proves control of the address by the signed link in the mail.

Opening the link only shows a confirm button, because mail scanners follow links; the
request is confirmed by the POST. A link works once.
"""

from __future__ import annotations

from enum import StrEnum

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from sqlalchemy import select, update

from dsar.clock import utcnow
from dsar.extensions import csrf, db, rows_changed
from dsar.i18n import use_request_language
from dsar.models import DsarRequest
from dsar.policy.lifecycle import RequestStatus
from dsar.tokens import Purpose, TokenError, unsign
from dsar.transitions import record_event, transition
from dsar.web.errors import error_response
from dsar.web.forms import ConfirmForm
from dsar.web.security import keep_private
from dsar.web.status import status_token
from dsar.work import tasks

bp = Blueprint("verification", __name__)


class LinkProblem(StrEnum):
    """Why a verification link cannot be used."""

    INVALID = "token_invalid"
    EXPIRED = "token_expired"
    USED = "token_used"


#: HTTP status and what the person reads, per problem.
PROBLEMS = {
    LinkProblem.INVALID: (400, "This link is not valid. Please use the link in our mail "
                               "exactly as it is, or make a new request."),
    LinkProblem.EXPIRED: (410, "This link has expired. Please make a new request; "
                               "nothing was done with the old one."),
    LinkProblem.USED: (409, "This request has already been confirmed. "
                            "You will receive our answer by e-mail."),
}


class VerificationError(Exception):
    """A link that cannot confirm anything."""

    def __init__(self, problem: LinkProblem) -> None:
        """Keeps the reason."""
        super().__init__(problem)
        self.problem = problem


def check(token: str) -> DsarRequest:
    """Returns the request a valid, unused link belongs to, changing nothing."""
    try:
        payload = unsign(Purpose.VERIFY, token, current_app.config["VERIFY_MAX_AGE"])
    except TokenError as exc:
        raise VerificationError(
            LinkProblem.EXPIRED if exc.problem == "expired" else LinkProblem.INVALID
        ) from None
    dsar_request = db.session.get(DsarRequest, payload.get("r", ""))
    if dsar_request is None:
        raise VerificationError(LinkProblem.INVALID)
    if dsar_request.status == RequestStatus.EXPIRED:
        raise VerificationError(LinkProblem.EXPIRED)
    if (
        dsar_request.status != RequestStatus.AWAITING_VERIFICATION
        or dsar_request.verification_nonce != payload.get("n")
    ):
        raise VerificationError(LinkProblem.USED)
    return dsar_request


def confirm(token: str) -> DsarRequest:
    """Confirms the request behind a link once, then starts its processing."""
    dsar_request = check(token)
    # Only one of two simultaneous confirmations may win: the nonce is spent atomically.
    spent = rows_changed(
        update(DsarRequest)
        .where(
            DsarRequest.id == dsar_request.id,
            DsarRequest.verification_nonce == dsar_request.verification_nonce,
        )
        .values(verification_nonce=None, verified_at=utcnow())
    )
    if not spent:
        db.session.rollback()
        raise VerificationError(LinkProblem.USED)
    db.session.refresh(dsar_request)
    already = _same_request_open(dsar_request)
    if already is not None:
        # Proven to be theirs now, so it may be said: the open request answers this one,
        # and no second set of tasks runs.
        dsar_request.joined_to_id = already.id
        transition(dsar_request, RequestStatus.JOINED, actor="requester",
                   note=f"the same request {already.id} was open")
        record_event(already, "request_joined", actor="requester", note=dsar_request.id)
        db.session.commit()
        return dsar_request
    transition(dsar_request, RequestStatus.VERIFIED, actor="requester")
    tasks.start(dsar_request, actor="system")
    db.session.commit()
    tasks.enqueue_pending(dsar_request)
    return dsar_request


#: A request in one of these is being worked on: a second of the same kind joins it.
_WORKED_ON = (RequestStatus.VERIFIED, RequestStatus.IN_PROGRESS,
              RequestStatus.AWAITING_APPROVAL, RequestStatus.FAILED)


def _same_request_open(dsar_request: DsarRequest) -> DsarRequest | None:
    """The person's open request that asks the same (type, corrections, ground, what an
    objection is aimed at), if any."""
    candidates = db.session.scalars(
        select(DsarRequest).where(
            DsarRequest.email == dsar_request.email,
            DsarRequest.type == dsar_request.type,
            DsarRequest.id != dsar_request.id,
            DsarRequest.status.in_(_WORKED_ON),
        ).order_by(DsarRequest.received_at)
    )
    for candidate in candidates:
        if (candidate.corrections, candidate.restriction_ground, candidate.objection_to) == (
                dsar_request.corrections, dsar_request.restriction_ground,
                dsar_request.objection_to):
            return candidate
    return None


def _problem_page(exc: VerificationError) -> tuple[str, int]:
    """The page that explains why a link did not work."""
    status, message = PROBLEMS[exc.problem]
    return render_template("verify/problem.html", message=message), status


bp.after_request(keep_private)


@bp.get("/verify/<token>")
def confirm_page(token: str) -> str | tuple[str, int]:
    """Shows the confirm button; following the link alone changes nothing."""
    try:
        dsar_request = check(token)
    except VerificationError as exc:
        return _problem_page(exc)
    use_request_language(dsar_request.language)
    return render_template("verify/confirm.html", form=ConfirmForm(), request_=dsar_request)


@bp.post("/verify/<token>")
def confirm_submit(token: str) -> str | tuple[str, int]:
    """Confirms the request."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("verify/problem.html",
                               message="The form expired. Please open the link again."), 400
    try:
        dsar_request = confirm(token)
    except VerificationError as exc:
        return _problem_page(exc)
    use_request_language(dsar_request.language)
    followed = dsar_request.joined_to_id or dsar_request.id
    return render_template("verify/done.html", request_=dsar_request,
                           status_token=status_token(followed))


@bp.post("/api/v1/requests/verify")
@csrf.exempt  # the signed token is the credential; no cookie is involved
def api_confirm() -> tuple[Response, int]:
    """Confirms a request for an API client: {"token": "..."}."""
    payload = request.get_json(silent=True)
    token = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token:
        return error_response(422, "invalid_request", "A token is required.",
                              {"token": "Give the token from the verification link."})
    try:
        if not token.isascii():
            # A signed token is URL-safe ASCII; other characters (a lone surrogate among
            # them) would only make the signature check fail less politely.
            raise VerificationError(LinkProblem.INVALID)
        dsar_request = confirm(token)
    except VerificationError as exc:
        status, message = PROBLEMS[exc.problem]
        return error_response(status, str(exc.problem), message, {"token": message})
    return jsonify(id=dsar_request.id, status=str(dsar_request.status)), 200
