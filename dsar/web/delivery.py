"""Delivery: the answer behind a signed, expiring link; never as a mail attachment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask import Blueprint, Response, current_app, render_template, stream_with_context
from flask_babel import get_locale, gettext

from dsar.answer import storage
from dsar.answer.spreadsheet import DOWNLOAD_NAME, needs_zip64, spreadsheets
from dsar.answer.wording import described
from dsar.extensions import db
from dsar.i18n import day, for_request, use_request_language
from dsar.models import DsarRequest
from dsar.policy.lifecycle import RequestStatus
from dsar.tokens import Purpose, TokenError, unsign_with_expiry
from dsar.transitions import record_event
from dsar.web.security import PRIVATE

bp = Blueprint("delivery", __name__)


FILES = {
    "report.pdf": ("application/pdf", "privacy-answer.pdf"),
    "report.json": ("application/json", "privacy-answer.json"),
}
#: The spreadsheet copy, as the timeline names its downloads: made from report.json as it
#: is sent, never stored.
SPREADSHEETS = "report-csv.zip"

#: Seconds after which the answer page looks again while its PDF is being made.
REFRESH_SECONDS = 5


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
            raise AnswerUnavailable(410, gettext(
                "This link has expired. Please make a new request to receive a fresh copy "
                "of your data.")) from None
        raise AnswerUnavailable(404, gettext(
            "This link is not valid. Please use the link in our mail exactly as it is."
        )) from None
    dsar_request = db.session.get(DsarRequest, payload.get("r", ""))
    if dsar_request is None or dsar_request.status != RequestStatus.COMPLETED:
        raise AnswerUnavailable(404, gettext("There is no answer behind this link."))
    # From here on the page is about this request: in its language.
    use_request_language(dsar_request.language)
    if dsar_request.answer_deleted_at is not None:
        raise _deleted(dsar_request)
    return dsar_request, expires_at


def _deleted(dsar_request: DsarRequest) -> AnswerUnavailable:
    """Why an answer that was stored is no longer here, and how to have one again."""
    deleted_at = dsar_request.answer_deleted_at
    when = day(deleted_at) if deleted_at else ""
    if dsar_request.answer_deleted_reason == "erased":
        why = gettext("This answer was deleted on %(when)s, when we erased your data at your "
                      "request; we keep no copy of it.", when=when)
    else:
        why = gettext("This answer was deleted on %(when)s, when its link expired; we keep no "
                      "copy of it.", when=when)
    return AnswerUnavailable(410, why + " " + gettext(
        "To see what we hold about you now, please make a new request."))


def _unavailable(exc: AnswerUnavailable) -> tuple[str, int, dict[str, str]]:
    """The page that says why there is no answer."""
    return render_template("delivery/problem.html", message=exc.message), exc.status, PRIVATE


def _missing_file() -> AnswerUnavailable:
    """The reason given when an answer's file is not where it was stored."""
    contact = current_app.config["CONTROLLER_CONTACT"]
    return AnswerUnavailable(404, gettext(
        "The answer file cannot be found. Please write to %(contact)s.", contact=contact))


def human_size(size: int, locale: str = "en") -> str:
    """A file's size as a person reads it: "840 bytes", "84 KB", "1.2 MB" (1 KB = 1000 bytes),
    the decimal sign as the language writes it ("1,2 MB" in Dutch)."""
    if size < 1000:
        return f"{size} bytes"  # the word is the same in Dutch
    amount = float(size)
    for unit in ("KB", "MB", "GB"):
        amount /= 1000
        # Stepping up before rounding would print "1000 KB" instead of "1.0 MB".
        if amount < 999.5 or unit == "GB":
            break
    shown = format_decimal(round(amount, 1) if amount < 9.95 else round(amount),
                           "0.0" if amount < 9.95 else "0", locale=locale)
    return f"{shown} {unit}"


#: When a link stops working, as a Babel date pattern; translated with the page's words.
EXPIRY_PATTERN = "EEEE d MMMM y 'at' HH:mm"


def link_expiry(expires_at: datetime, locale: str = "en", pattern: str = EXPIRY_PATTERN) -> str:
    """When a link stops working, in words: "Tuesday 1 December 2026 at 10:00 UTC".

    The seconds are dropped, never rounded up, so the time shown is never past the real end.
    """
    return f"{format_datetime(expires_at, pattern, tzinfo=UTC, locale=locale)} UTC"


@bp.get("/reports/<token>")
def answer(token: str) -> tuple[str, int, dict[str, str]]:
    """The page that links the PDF and the JSON, with their sizes and when the link expires."""
    try:
        dsar_request, expires_at = _answered_request(token)
    except AnswerUnavailable as exc:
        return _unavailable(exc)
    # Only files that exist are offered: the PDF follows the JSON, as the mail explains.
    locale = str(get_locale())
    sizes = {name: human_size(size, locale)
             for name, size in storage.sizes(dsar_request.id, FILES).items()}
    if not sizes:
        for filename in FILES:
            record_event(dsar_request, "answer_missing", actor="system", note=filename)
        db.session.commit()
        return _unavailable(_missing_file())
    preparing = ("report.pdf" not in sizes and dsar_request.document_ready_at is None
                 and dsar_request.document_error is None)
    page = render_template("delivery/answer.html", token=token, request_=dsar_request,
                           sizes=sizes, preparing=preparing, refresh_seconds=REFRESH_SECONDS,
                           expires=link_expiry(
                               expires_at, locale,
                               # Translators: a Babel date pattern; words in 'quotes'.
                               gettext("EEEE d MMMM y 'at' HH:mm")))
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
    return response


@bp.get("/reports/<token>/report-csv.zip")
def answer_spreadsheets(token: str) -> Response | tuple[str, int, dict[str, str]]:
    """An access answer's records as spreadsheets, a CSV file per category in one ZIP file;
    each download is recorded on the request's timeline, as the files' are."""
    try:
        dsar_request, _ = _answered_request(token)
    except AnswerUnavailable as exc:
        return _unavailable(exc)
    if not dsar_request.asks_for_data:
        # An outcome letter's JSON says what was done; it holds no records to tabulate.
        return _unavailable(AnswerUnavailable(404, gettext("There is no answer behind this link.")))
    try:
        size, body = storage.opened(dsar_request.id, "report.json")
    except FileNotFoundError:
        record_event(dsar_request, "answer_missing", actor="system", note="report.json")
        db.session.commit()
        return _unavailable(_missing_file())
    language = dsar_request.language
    record_event(dsar_request, "answer_downloaded", actor="requester", note=SPREADSHEETS)
    db.session.commit()

    def made() -> Iterator[bytes]:
        """The ZIP file, made from the stored JSON as the response is sent."""
        with storage.as_text(body) as report, for_request(language):
            yield from spreadsheets(report, language, described, zip64=needs_zip64(size))

    response = Response(stream_with_context(made()), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{DOWNLOAD_NAME}"'
    response.headers.update(PRIVATE)
    return response


def stored_file(request_id: str, filename: str) -> Response:
    """A stored answer file as a download, opened chunk by chunk as it is sent.

    Raises:
        FileNotFoundError: the file is not stored.
    """
    mimetype, download_name = FILES[filename]
    size, body = storage.opened(request_id, filename)
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.content_length = size
    response.headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    response.headers.update(PRIVATE)
    return response
