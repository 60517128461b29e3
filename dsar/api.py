"""The officers' JSON API under /api/v1/ (intake and verification live with their pages)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, send_from_directory

from dsar.clock import iso
from dsar.extensions import db
from dsar.models import DsarRequest, is_request_id
from dsar.officers import token_required

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/requests/<request_id>")
@token_required
def get_request(request_id: str) -> Response:
    """A request's type, status, dates and tasks."""
    dsar_request = db.session.get(DsarRequest, request_id) if is_request_id(request_id) else None
    if dsar_request is None:
        abort(404, description="No request with that id.")
    return jsonify(
        id=dsar_request.id,
        type=str(dsar_request.type),
        status=str(dsar_request.status),
        received_at=iso(dsar_request.received_at),
        due_at=iso(dsar_request.due_at),
        verified_at=iso(dsar_request.verified_at),
        answered_at=iso(dsar_request.answered_at),
        failure_reason=dsar_request.failure_reason,
        tasks=[
            {
                "connector": task.connector,
                "action": task.action,
                "status": str(task.status),
                "attempts": task.attempts,
                "error": task.error,
            }
            for task in dsar_request.tasks
        ],
    )


@bp.get("/openapi.yaml")
def openapi() -> Response:
    """The OpenAPI description of this API."""
    return send_from_directory(current_app.static_folder or "", "openapi.yaml",
                               mimetype="application/yaml")
