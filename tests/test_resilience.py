"""Nothing is lost: failing connectors, lost jobs, a dead worker, a mail server that is down."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pypdf import PdfReader
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from dsar.clock import utcnow
from dsar.connector import Connector, Record
from dsar.extensions import db
from dsar.models import ConnectorTask, DsarRequest, OutgoingMail
from dsar.policy.lifecycle import TaskStatus
from dsar.registry import ConnectorRegistry
from dsar.work import jobs, queues, tasks
from tests.conftest import OFFICER, _free_port
from tests.faults import worker_env
from tests.helpers import ROOT, download, link_in, text_of
from tests.programs.gated_worker import NOTES


class BrokenConnector(Connector):
    """A system that is down."""

    name = "broken"
    title = "Broken system"
    categories = (NOTES,)

    def export(self, subject):
        """Fails as a system that cannot be reached does."""
        raise ConnectionError("shop-archive.internal refused the connection")


class BuggyConnector(Connector):
    """A system whose connector has a bug: waiting never mends it."""

    name = "buggy"
    title = "Buggy system"
    categories = (NOTES,)

    def export(self, subject):
        """Fails as code with a bug does."""
        raise KeyError("customer_no")


class HostileConnector(Connector):
    """A system whose stored text tries to inject markup into the answer."""

    name = "hostile"
    title = "Hostile system"
    categories = (NOTES,)
    payload = ""

    def export(self, subject):
        """Returns one record with markup that would load a URL if rendered as HTML."""
        yield Record(category="notes", key="1", data={"text": self.payload})


def _use_connectors(app, *classes):
    """Makes the app run exactly these connectors."""
    app.extensions["dsar.connectors"] = ConnectorRegistry({c.name: c for c in classes})


def _confirm_via_api(client, inbox, run_jobs, email):
    """Submits and confirms a request through the API; returns its id."""
    request_id = client.post("/api/v1/requests", json={"email": email, "type": "access"}).json["id"]
    run_jobs()
    [mail] = inbox.to(email)
    token = link_in(mail).rsplit("/", 1)[1]
    assert client.post("/api/v1/requests/verify", json={"token": token}).status_code == 200
    return request_id


#: What the requester is told went wrong: only an outage waited out is a system out of reach.
OUT_OF_REACH = "One of our systems could not be reached"
WENT_WRONG = "Part of the work did not go as it should"


def _told_of_failure(app, client, inbox, email, request_id, why):
    """The requester was told we are on it, why in words that are true, and by when, in the
    mail and on the status page; the officer was alerted, once each."""
    [delayed] = [m for m in inbox.to(email) if m["Subject"] == "We are working on your "
                                                                 "privacy request"]
    with app.app_context():
        due = db.session.get(DsarRequest, request_id).due_at
    said = " ".join(text_of(delayed).split())
    assert f"You will have our answer by {due:%-d %B %Y} at the latest" in said
    assert why in said
    assert ({OUT_OF_REACH, WENT_WRONG} - {why}).pop() not in said
    [status] = re.findall(r"Where your request stands: http://dsar\.test(/status/\S+)", said)
    page = " ".join(client.get(status).text.split())
    assert ("One of our systems could not be reached" in page) is (why == OUT_OF_REACH)
    assert ("Part of the work on your request did not go as it should" in page) is (
        why == WENT_WRONG)
    [alert] = inbox.to(OFFICER)
    assert alert["Subject"] == f"Privacy request {request_id[:8]} failed and needs you"
    assert f"/console/requests/{request_id}" in text_of(alert)
    assert email not in text_of(alert), "the alert names no requester"


def test_a_lasting_connector_failure_fails_the_request_and_tells_everyone(
    app, client, inbox, run_jobs, officer_token
):
    """A connector with a bug is tried a few times, then the request says what needs
    attention, and the requester and the officer are told."""
    _use_connectors(app, BuggyConnector)
    request_id = _confirm_via_api(client, inbox, run_jobs, "anna@example.org")
    run_jobs()
    with app.app_context():
        request = db.session.get(DsarRequest, request_id)
        assert request.status == "failed"
        assert "buggy" in request.failure_reason
        [task] = request.tasks
        assert task.status == TaskStatus.FAILED
        assert task.attempts == app.config["TASK_MAX_ATTEMPTS"]
        assert "KeyError" in task.error and task.waiting_since is None
        assert any(e.kind == "task_failed" for e in request.events)
    assert not [m for m in inbox.to("anna@example.org") if "answer" in m["Subject"]]
    _told_of_failure(app, client, inbox, "anna@example.org", request_id, WENT_WRONG)


def test_a_system_that_is_down_is_waited_for_before_the_request_fails(
    app, client, inbox, run_jobs, officer_token
):
    """A refused connection is waited out with growing pauses, shown as "waiting for";
    only once the retry window has passed does the request fail."""
    _use_connectors(app, BrokenConnector)
    app.config["TASK_RETRY_DELAY"] = 60  # the next try is well after this test's checks
    request_id = _confirm_via_api(client, inbox, run_jobs, "bea@example.org")
    run_jobs()
    with app.app_context():
        request = db.session.get(DsarRequest, request_id)
        assert request.status == "in_progress"
        [task] = request.tasks
        assert task.status == TaskStatus.PENDING and task.attempts == 1
        assert "refused the connection" in task.error
        assert task.next_attempt_at > utcnow(), "the next try waits"
        assert tasks.waiting_for(request) == ["broken"]
        task_id = task.id
    assert [m["Subject"] for m in inbox.to("bea@example.org")] == [
        "Please confirm your privacy request"], "nobody is troubled yet"
    status = client.get(f"/api/v1/requests/{request_id}",
                        headers={"Authorization": f"Bearer {officer_token}"}).json
    assert status["waiting_for"] == ["broken"]
    assert status["tasks"][0]["waiting_since"] and status["tasks"][0]["next_attempt_at"]

    app.config["TASK_RETRY_WINDOW"] = 0  # hours have passed, and it is still down
    with app.app_context():
        db.session.get(ConnectorTask, task_id).next_attempt_at = utcnow()
        db.session.commit()
        jobs.run_task(task_id)
    run_jobs()
    with app.app_context():
        request = db.session.get(DsarRequest, request_id)
        assert request.status == "failed"
        assert request.tasks[0].attempts == 2
    _told_of_failure(app, client, inbox, "bea@example.org", request_id, OUT_OF_REACH)


def test_sweep_recovers_jobs_lost_with_redis(app, client, inbox, run_jobs, redis):
    """Redis forgetting every job loses nothing: the sweep finds the work in the database."""
    app.config["SWEEP_STALE_AFTER"] = 0
    client.post("/api/v1/requests", json={"email": "bram@example.org", "type": "access"})
    redis.flushdb()  # the verification mail's job is gone
    run_jobs()
    assert inbox.to("bram@example.org") == []
    jobs.sweep()
    run_jobs()
    [mail] = inbox.to("bram@example.org")
    token = link_in(mail).rsplit("/", 1)[1]
    client.post("/api/v1/requests/verify", json={"token": token})
    redis.flushdb()  # the connector tasks' jobs are gone
    jobs.sweep()
    run_jobs()
    assert len(inbox.to("bram@example.org")) == 2, "the answer arrives after all"


def test_sweep_redrives_a_task_whose_worker_died(app, client, inbox, run_jobs, redis):
    """A task left running by a killed worker runs again and the request completes."""
    request_id = _confirm_via_api(client, inbox, run_jobs, "cor@example.org")
    redis.flushdb()
    with app.app_context():
        task = db.session.scalars(select(ConnectorTask).where(
            ConnectorTask.request_id == request_id)).first()
        task.status = TaskStatus.RUNNING
        task.attempts = 1
        db.session.commit()
        stale = utcnow() - timedelta(hours=1)
        db.session.execute(
            ConnectorTask.__table__.update().where(ConnectorTask.request_id == request_id)
            .values(updated_at=stale)
        )
        db.session.commit()
    jobs.sweep()
    run_jobs()
    with app.app_context():
        request = db.session.get(DsarRequest, request_id)
        assert request.status == "completed"
        assert {t.status for t in request.tasks} == {TaskStatus.SUCCEEDED}


def test_mail_server_down_delays_the_mail_but_never_fails_the_request(
    app, client, inbox, run_jobs
):
    """Mail that cannot be sent is retried later; the request goes on; the mail goes out once."""
    mail_state = app.extensions["mail"]  # Flask-Mail reads its settings once, at start-up
    real_port = mail_state.port
    mail_state.port = _free_port()  # nothing listens there
    client.post("/api/v1/requests", json={"email": "dirk@example.org", "type": "access"})
    run_jobs()
    with app.app_context():
        owed = db.session.scalar(select(OutgoingMail))
        assert owed.sent_at is None and owed.attempts == 1
        assert "Connection" in owed.last_error or "refused" in owed.last_error
        wait = (owed.next_attempt_at - utcnow()).total_seconds()
        assert app.config["MAIL_RETRY_DELAY"] - 5 < wait <= app.config["MAIL_RETRY_DELAY"]
        owed.next_attempt_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        mail_id = owed.id
    mail_state.port = real_port
    app.config["SWEEP_STALE_AFTER"] = 0
    jobs.sweep()
    run_jobs()
    jobs.deliver_mail(mail_id)  # a duplicate job for the same mail
    run_jobs()
    assert len(inbox.to("dirk@example.org")) == 1


def test_a_retry_comes_out_of_the_schedule_no_sooner_than_it_is_due(
    app, client, run_jobs, redis
):
    """RQ keeps a scheduled time in whole seconds, cut down: a retry let out before the mail
    is due finds nothing to do, and the mail would wait for the sweep instead."""
    mail_state = app.extensions["mail"]
    real_port = mail_state.port
    mail_state.port = _free_port()  # nothing listens there
    try:
        client.post("/api/v1/requests", json={"email": "dina@example.org", "type": "access"})
        run_jobs()
    finally:
        mail_state.port = real_port
    with app.app_context():
        due = db.session.scalar(select(OutgoingMail.next_attempt_at))
    registry = ScheduledJobRegistry(queues.MAIL, connection=redis)
    [retry] = registry.get_job_ids()
    assert registry.get_scheduled_time(retry).replace(tzinfo=None) >= due


def test_requests_never_verified_expire(app, client, run_jobs):
    """A request nobody confirms leaves the queue once its link has run out."""
    request_id = client.post(
        "/api/v1/requests", json={"email": "eva@example.org", "type": "access"}
    ).json["id"]
    app.config["VERIFY_MAX_AGE"] = -1
    jobs.sweep()
    with app.app_context():
        assert db.session.get(DsarRequest, request_id).status == "expired"


class _CountingHandler(BaseHTTPRequestHandler):
    """Counts every request made to it."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        """Records the path and answers with an image-like body."""
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"x")

    def log_message(self, *args):
        """Stays quiet."""


@pytest.fixture
def listener():
    """An HTTP server on loopback that records whether anything contacts it."""
    _CountingHandler.hits = []
    server = HTTPServer(("127.0.0.1", _free_port()), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_markup_from_a_connector_is_shown_as_text_and_fetches_nothing(
    app, client, inbox, run_jobs, listener
):
    """A stored value with HTML is escaped in the PDF, and no URL in it is ever loaded."""
    port = listener.server_address[1]
    HostileConnector.payload = (
        f'<img src="http://127.0.0.1:{port}/leak.png"><link rel="stylesheet" '
        f'href="http://127.0.0.1:{port}/leak.css"><b>bold</b> &amp; file:///etc/passwd'
    )
    _use_connectors(app, HostileConnector)
    _confirm_via_api(client, inbox, run_jobs, "fenna@example.org")
    run_jobs()
    [_, answer] = inbox.to("fenna@example.org")
    pdf = download(client, link_in(answer) + "/report.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "<b>bold</b>" in text.replace("\n", "")
    assert f"http://127.0.0.1:{port}/leak.png" in text.replace("\n", "")
    assert listener.RequestHandlerClass.hits == []


def test_worker_script_runs_the_queued_jobs(app, client, inbox, database_url, redis_url, tmp_path):
    """worker.py, as production starts it, processes the jobs waiting in Redis."""
    client.post("/api/v1/requests", json={"email": "gijs@example.org", "type": "access"})
    env = worker_env(app, database_url, redis_url)
    subprocess.run([sys.executable, str(ROOT / "worker.py"), "--burst"], env=env, check=True,
                   timeout=120, capture_output=True)
    [mail] = inbox.to("gijs@example.org")
    assert link_in(mail).startswith("/verify/")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 1
