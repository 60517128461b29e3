"""Delivery: the answer behind a signed, expiring link; never as a mail attachment."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, send_file

from dsar.answer.storage import answer_path
from dsar.extensions import db
from dsar.models import DsarRequest
from dsar.policy.lifecycle import RequestStatus
from dsar.tokens import Purpose, TokenError, unsign
from dsar.transitions import record_event

bp = Blueprint("delivery", __name__)

#: The answer holds personal data: no cache, no index, no referrer anywhere on the way.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}

FILES = {
    "report.pdf": ("application/pdf", "privacy-answer.pdf"),
    "report.json": ("application/json", "privacy-answer.json"),
}


class AnswerUnavailable(Exception):
    """The link does not lead to an answer, with the reason the person reads."""

    def __init__(self, status: int, message: str) -> None:
        """Keeps the status and message."""
        super().__init__(message)
        self.status = status
        self.message = message


def _answered_request(token: str) -> DsarRequest:
    """Returns the completed request a valid report link belongs to."""
    try:
        payload = unsign(Purpose.REPORT, token, current_app.config["REPORT_LINK_MAX_AGE"])
    except TokenError as exc:
        if exc.problem == "expired":
            raise AnswerUnavailable(410, "This link has expired. Please make a new request "
                                         "to receive a fresh copy of your data.") from None
        raise AnswerUnavailable(404, "This link is not valid. Please use the link in our "
                                     "mail exactly as it is.") from None
    dsar_request = db.session.get(DsarRequest, payload.get("r", ""))
    if dsar_request is None or dsar_request.status != RequestStatus.COMPLETED:
        raise AnswerUnavailable(404, "There is no answer behind this link.")
    return dsar_request


def _unavailable(exc: AnswerUnavailable) -> tuple[str, int, dict[str, str]]:
    """The page that says why there is no answer."""
    return render_template("delivery/problem.html", message=exc.message), exc.status, PRIVATE


@bp.get("/reports/<token>")
def answer(token: str) -> tuple[str, int, dict[str, str]]:
    """The page that links the PDF and the JSON."""
    try:
        dsar_request = _answered_request(token)
    except AnswerUnavailable as exc:
        return _unavailable(exc)
    page = render_template("delivery/answer.html", token=token, request_=dsar_request)
    return page, 200, PRIVATE


@bp.get("/reports/<token>/<any('report.pdf', 'report.json'):filename>")
def answer_file(token: str, filename: str) -> Response | tuple[str, int, dict[str, str]]:
    """One of the answer's files; each download is recorded on the request's timeline."""
    try:
        dsar_request = _answered_request(token)
    except AnswerUnavailable as exc:
        return _unavailable(exc)
    mimetype, download_name = FILES[filename]
    path = answer_path(dsar_request.id, filename)
    if not path.is_file():
        record_event(dsar_request, "answer_missing", actor="system", note=filename)
        db.session.commit()
        contact = current_app.config["CONTROLLER_CONTACT"]
        return _unavailable(AnswerUnavailable(
            404, f"The answer file cannot be found. Please write to {contact}."))
    record_event(dsar_request, "answer_downloaded", actor="requester", note=filename)
    db.session.commit()
    response = send_file(path, mimetype=mimetype, download_name=download_name, max_age=0)
    response.headers.update(PRIVATE)
    return response
