"""The requester's status page: where their request stands, behind a signed link of its own.

Reached from the confirmation page and from the mails. It shows the steps, the due date and
any extension, and what happens next; it refreshes itself while work runs, with no
JavaScript. Without a valid link it reveals nothing, not even whether a request exists.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from dsar.answer.wording import connector_title
from dsar.extensions import db
from dsar.i18n import use_request_language
from dsar.models import DsarRequest
from dsar.policy.lifecycle import ACCESS_TYPES, TASK_ENDS, RequestType, TaskStatus
from dsar.policy.objections import ObjectionTo
from dsar.policy.progress import UNDER_WAY, Facts, steps
from dsar.tokens import Purpose, TokenError, sign, unsign
from dsar.web.security import keep_private
from dsar.work import tasks

bp = Blueprint("status", __name__)

#: Seconds between the page's own refreshes while the request is under way.
REFRESH_SECONDS = 15


def status_token(request_id: str) -> str:
    """The token of a request's status page."""
    return sign(Purpose.STATUS, {"r": request_id})


bp.after_request(keep_private)


@bp.get("/status/<token>")
def page(token: str) -> str | tuple[str, int]:
    """Where the request stands, step by step."""
    try:
        payload = unsign(Purpose.STATUS, token, current_app.config["STATUS_LINK_MAX_AGE"])
    except TokenError:
        return render_template("status/problem.html"), 404
    found = db.session.get(DsarRequest, payload.get("r", ""))
    if found is None:
        return render_template("status/problem.html"), 404
    systems = _systems_done(found)
    facts = Facts(
        status=found.status,
        systems=len(systems),
        systems_done=sum(systems.values()),
        needs_officer=_needs_officer(found),
    )
    use_request_language(found.language)
    return render_template(
        "status/page.html", request_=found, steps=steps(facts),
        stayed_away=tasks.stayed_away(found),
        weighing=found.objection_to == ObjectionTo.LEGITIMATE_INTERESTS,
        by_hand=sorted({connector_title(t.connector) for t in found.tasks
                        if t.status == TaskStatus.MANUAL}),
        refresh=REFRESH_SECONDS if found.status in UNDER_WAY else None,
    )


def _systems_done(found: DsarRequest) -> dict[str, bool]:
    """Each system the request reaches, and whether its part is done so far.

    A person counts systems, not tasks: an erasure gives each system an export and then
    an erasure, and "our 10 systems" for a shop with five would not be true.
    """
    done: dict[str, bool] = {}
    for task in found.tasks:
        done[task.connector] = done.get(task.connector, True) and task.status in TASK_ENDS
    return done


def _needs_officer(found: DsarRequest) -> bool:
    """Whether the request waits for an officer before its answer or its action."""
    kind = RequestType(found.type)
    config = current_app.config
    if kind is RequestType.ERASURE:
        return bool(config["ERASURE_REQUIRES_APPROVAL"])
    if kind in ACCESS_TYPES:
        return bool(config["REVIEW_ACCESS_REPORTS"])
    if kind is RequestType.OBJECTION:
        # One on grounds of the person's situation is weighed by the officer.
        return found.objection_to == ObjectionTo.LEGITIMATE_INTERESTS
    return kind is RequestType.RECTIFICATION
