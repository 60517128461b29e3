"""Errors as the API and the pages show them: JSON under /api/, a plain page elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

#: The pages' words for the errors a customer may meet, in their language; any other
#: error shows werkzeug's English name and description.
PAGE_ERRORS = {
    400: (_l("Bad request"), _l("What was sent could not be read. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You may not open this page.")),
    404: (_l("Page not found"),
          _l("There is nothing at this address. Please check the link, or start again from "
             "the form.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too much at once"), _l("What was sent is too large. Please send less.")),
    429: (_l("Too many requests"),
          _l("You have sent many requests in a short time. Please wait a while and try "
             "again.")),
}
UNEXPECTED = _l("Something went wrong on our side. Nothing you sent was lost; please try "
                "again.")


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> tuple[Response, int]:
    """The API's one error shape: {"error": {"code", "message", "fields"}}."""
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def _wants_json() -> bool:
    """Whether the failing request was an API call."""
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Registers the handlers that turn every HTTP error into the right shape."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int]:
        """4xx and 5xx raised by Flask or the views."""
        status = exc.code or 500
        if _wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            return error_response(status, code, exc.description or exc.name)
        title, message = PAGE_ERRORS.get(status, (exc.name, exc.description))
        return render_template("error.html", status=status, title=title,
                               message=message), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response | str, int]:
        """A bug: logged with its trace, answered without details."""
        log.exception("unhandled error path=%s", request.path)
        if _wants_json():
            return error_response(500, "internal_error", str(UNEXPECTED))
        return render_template("error.html", status=500, title=_l("Internal error"),
                               message=UNEXPECTED), 500
