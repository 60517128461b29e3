"""Errors as the API and the pages show them: JSON under /api/, a plain page elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


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
        return render_template("error.html", status=status, title=exc.name,
                               message=exc.description), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response | str, int]:
        """A bug: logged with its trace, answered without details."""
        log.exception("unhandled error path=%s", request.path)
        message = "Something went wrong on our side. Nothing you sent was lost; please try again."
        if _wants_json():
            return error_response(500, "internal_error", message)
        return render_template("error.html", status=500, title="Internal error",
                               message=message), 500
