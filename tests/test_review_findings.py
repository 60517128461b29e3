"""Edges of the lifecycle and intake: no request stuck, none carried out after a denial."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dsar.app import create_app
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import DsarRequest, OutgoingMail, RequestEvent
from dsar.settings import load as load_settings
from dsar.work import decisions, suppression
from tests.helpers import confirm_request


def _status(app, request_id):
    """A request's status."""
    with app.app_context():
        return str(db.session.get(DsarRequest, request_id).status)


def test_an_erasure_with_nothing_to_erase_completes(app, client, inbox, run_jobs, officer_token):
    """An unknown address's erasure is approved and answered, not sent back for approval."""
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": "nobody@example.org", "type": "erasure"})
    assert _status(app, request_id) == "awaiting_approval"
    client.post(f"/api/v1/requests/{request_id}/approve",
                headers={"Authorization": f"Bearer {officer_token}"})
    run_jobs()
    assert _status(app, request_id) == "completed"


def test_an_erasure_without_approval_and_nothing_to_erase_ends(app, client, inbox, run_jobs):
    """With approval off, an empty plan ends at once instead of looping."""
    app.config["ERASURE_REQUIRES_APPROVAL"] = False
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": "nobody@example.org", "type": "erasure"})
    assert _status(app, request_id) == "completed"
    with app.app_context():
        events = db.session.scalars(select(RequestEvent).where(
            RequestEvent.request_id == request_id)).all()
    assert len(events) < 15


def test_an_approved_erasure_can_no_longer_be_denied(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """Once the plan is being carried out, a denial is refused and changes nothing."""
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    auth = {"Authorization": f"Bearer {officer_token}"}
    client.post(f"/api/v1/requests/{request_id}/approve", headers=auth)
    denied = client.post(f"/api/v1/requests/{request_id}/deny", headers=auth,
                         json={"reason": "changed my mind"})
    assert denied.status_code == 409
    assert "carried out already" in denied.json["error"]["message"]
    run_jobs()
    assert _status(app, request_id) == "completed"


def test_a_failure_while_making_the_answer_fails_the_request_and_retry_mends_it(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """A notifier that is not installed fails the request visibly; after the fix, retry
    ends it."""
    app.config["RECIPIENT_NOTIFIER"] = "carrier-pigeon"
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    auth = {"Authorization": f"Bearer {officer_token}"}
    client.post(f"/api/v1/requests/{request_id}/approve", headers=auth)
    run_jobs()
    status = client.get(f"/api/v1/requests/{request_id}", headers=auth).json
    assert status["status"] == "failed"
    assert "no notifier called 'carrier-pigeon'" in status["failure_reason"]
    app.config["RECIPIENT_NOTIFIER"] = "mail"
    assert client.post(f"/api/v1/requests/{request_id}/retry", headers=auth).status_code == 202
    run_jobs()
    assert _status(app, request_id) == "completed"


def test_every_spelling_of_a_suppressed_address_is_reported(app):
    """Two spellings of one suppressed address are both suppressed."""
    with app.app_context():
        suppression.suppress("sanne@example.nl", reason="objection")
        db.session.commit()
        found = suppression.suppressed(["Sanne@Example.nl", "sanne@example.nl", "x@example.nl"])
    assert found == ["Sanne@Example.nl", "sanne@example.nl"]


def test_a_ground_that_is_not_text_is_a_field_error(client):
    """A list as ground is a 422 naming the field, not a 500."""
    response = client.post("/api/v1/requests", json={
        "email": "a@example.nl", "type": "restriction", "ground": []})
    assert response.status_code == 422
    assert "ground" in response.json["error"]["fields"]


def test_intake_works_while_redis_is_down(app):
    """With Redis unreachable, rate limit and queue both, the request is still stored."""
    settings = {name: app.config[name] for name in load_settings()}
    down = create_app({**settings, "REDIS_URL": "redis://127.0.0.1:1/0",
                       "RATELIMIT_ENABLED": True})
    response = down.test_client().post("/api/v1/requests",
                                       json={"email": "a@example.nl", "type": "access"})
    assert response.status_code == 202
    with down.app_context():
        owed = db.session.scalars(select(OutgoingMail)).all()
        assert len(owed) == 1 and owed[0].sent_at is None, "the sweep sends it later"
        db.session.close()  # return the connection before the pool is closed
        db.engine.dispose()


def test_a_denial_is_refused_without_reasons(app, client, inbox, run_jobs):
    """Reasons are required: the person will read them."""
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": "b@example.org", "type": "erasure"})
    with app.app_context():
        found = db.session.get(DsarRequest, request_id)
        with pytest.raises(decisions.DecisionRefused, match="reasons"):
            decisions.deny(found, officer="o@cplus.example", reason="  ")
    assert _status(app, request_id) == "awaiting_approval"
