"""Delivery: the answer behind a signed, expiring link; never as a mail attachment."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, current_app, render_template, stream_with_context

from dsar.answer import storage
from dsar.extensions import db
from dsar.models import DsarRequest
from dsar.policy.lifecycle import RequestStatus
from dsar.tokens import Purpose, TokenError, unsign_with_expiry
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


def _answered_request(token: str) -> tuple[DsarRequest, datetime]:
    """Returns the completed request a valid report link belongs to, and when the link expires."""
    try:
        payload, expires_at = unsign_with_expiry(
            Purpose.REPORT, token, current_app.config["REPORT_LINK_MAX_AGE"])
    except TokenError as exc:
        if exc.problem == "expired":
            raise AnswerUnavailable(410, "This link has expired. Please make a new request "
                                         "to receive a fresh copy of your data.") from None
        raise AnswerUnavailable(404, "This link is not valid. Please use the link in our "
                                     "mail exactly as it is.") from None
    dsar_request = db.session.get(DsarRequest, payload.get("r", ""))
    if dsar_request is None or dsar_request.status != RequestStatus.COMPLETED:
        raise AnswerUnavailable(404, "There is no answer behind this link.")
    if dsar_request.answer_deleted_at is not None:
        raise _deleted(dsar_request)
    return dsar_request, expires_at


def _deleted(dsar_request: DsarRequest) -> AnswerUnavailable:
    """Why an answer that was stored is no longer here, and how to have one again."""
    deleted_at = dsar_request.answer_deleted_at
    when = f"{deleted_at.day} {deleted_at:%B %Y}" if deleted_at else ""
    if dsar_request.answer_deleted_reason == "erased":
        why = (f"This answer was deleted on {when}, when we erased your data at your "
               "request; we keep no copy of it.")
    else:
        why = f"This answer was deleted on {when}, when its link expired; we keep no copy of it."
    return AnswerUnavailable(410, why + " To see what we hold about you now, please make a "
                                        "new request.")


def _unavailable(exc: AnswerUnavailable) -> tuple[str, int, dict[str, str]]:
    """The page that says why there is no answer."""
    return render_template("delivery/problem.html", message=exc.message), exc.status, PRIVATE


def _missing_file() -> AnswerUnavailable:
    """The reason given when an answer's file is not where it was stored."""
    contact = current_app.config["CONTROLLER_CONTACT"]
    return AnswerUnavailable(404, f"The answer file cannot be found. Please write to {contact}.")


def human_size(size: int) -> str:
    """A file's size as a person reads it: "840 bytes", "84 KB", "1.2 MB" (1 KB = 1000 bytes)."""
    if size < 1000:
        return f"{size} bytes"
    amount = float(size)
    for unit in ("KB", "MB", "GB"):
        amount /= 1000
        # Stepping up before rounding would print "1000 KB" instead of "1.0 MB".
        if amount < 999.5 or unit == "GB":
            break
    return f"{amount:.1f} {unit}" if amount < 9.95 else f"{amount:.0f} {unit}"


def link_expiry(expires_at: datetime) -> str:
    """When a link stops working, in words: "Tuesday 1 December 2026 at 10:00 UTC".

    The seconds are dropped, never rounded up, so the time shown is never past the real end.
    """
    return f"{expires_at:%A} {expires_at.day} {expires_at:%B %Y} at {expires_at:%H:%M} UTC"


@bp.get("/reports/<token>")
def answer(token: str) -> tuple[str, int, dict[str, str]]:
    """The page that links the PDF and the JSON, with their sizes and when the link expires."""
    try:
        dsar_request, expires_at = _answered_request(token)
    except AnswerUnavailable as exc:
        return _unavailable(exc)
    # Only files that exist are offered: the PDF may follow the JSON, which the mail explains.
    sizes = {name: human_size(size)
             for name, size in storage.sizes(dsar_request.id, FILES).items()}
    if not sizes:
        for filename in FILES:
            record_event(dsar_request, "answer_missing", actor="system", note=filename)
        db.session.commit()
        return _unavailable(_missing_file())
    page = render_template("delivery/answer.html", token=token, request_=dsar_request,
                           sizes=sizes, expires=link_expiry(expires_at))
    return page, 200, PRIVATE


@bp.get("/reports/<token>/<any('report.pdf', 'report.json'):filename>")
def answer_file(token: str, filename: str) -> Response | tuple[str, int, dict[str, str]]:
    """One of the answer's files; each download is recorded on the request's timeline."""
    try:
        dsar_request, _ = _answered_request(token)
    except AnswerUnavailable as exc:
        return _unavailable(exc)
    try:
        response = stored_file(dsar_request.id, filename)
    except FileNotFoundError:
        record_event(dsar_request, "answer_missing", actor="system", note=filename)
        db.session.commit()
        return _unavailable(_missing_file())
    record_event(dsar_request, "answer_downloaded", actor="requester", note=filename)
    db.session.commit()
    response.headers.update(PRIVATE)
    return response


def stored_file(request_id: str, filename: str) -> Response:
    """A stored answer file as a download, opened chunk by chunk as it is sent.

    Raises:
        FileNotFoundError: the file is not stored.
    """
    mimetype, download_name = FILES[filename]
    size = storage.sizes(request_id, [filename]).get(filename)
    if size is None:
        raise FileNotFoundError(filename)
    body = storage.chunks(request_id, filename)
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.content_length = size
    response.headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
