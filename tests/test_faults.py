"""Faults survived: workers killed mid-task and mid-send, the mail server away for long, the
shop's database and dsar's own refusing connections.

Each test starts its own processes (workers, the scheduler, an SMTP server, a database's
network) on loopback and breaks them by pid, then checks what the requester and the
officer see. The database outages need a database server (PostgreSQL, in .ci/run's
second run); on the SQLite default they are skipped.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis
from rq.job import Job
from sqlalchemy import select

from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import ConnectorTask, DsarRequest, OutgoingMail
from dsar.web.officers import create_officer
from tests.conftest import TEST_DATABASE_URL, _free_port
from tests.faults import alive, children_of, kill, received, wait_for
from tests.helpers import console_sign_in, link_in, text_of
from tests.programs import gated_worker

pytestmark = pytest.mark.slow

#: The sweep runs every second and takes work for lost after 3 s, so that a test sees in
#: seconds what production sees within SWEEP_STALE_AFTER.
QUICK_SWEEP = {"DSAR_SWEEP_INTERVAL": "1", "DSAR_SWEEP_STALE_AFTER": "3"}
NEEDS_SERVER_DB = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="a database that can refuse connections: PostgreSQL")


def _submit(client, email):
    """Submits an access request through the API; returns its id."""
    response = client.post("/api/v1/requests", json={"email": email, "type": "access"})
    assert response.status_code == 202
    return response.json["id"]


def _confirm(client, mail):
    """Confirms a request with the token of its verification mail."""
    token = link_in(mail).rsplit("/", 1)[1]
    assert client.post("/api/v1/requests/verify", json={"token": token}).status_code == 200


def _request(app, request_id):
    """A request as stored now."""
    with app.app_context():
        found = db.session.get(DsarRequest, request_id)
        db.session.expunge_all()
        return found


def _status(app, request_id):
    """A request's status as stored now."""
    return str(_request(app, request_id).status)


def _mail(app, request_id, kind):
    """An owed mail's row as stored now."""
    with app.app_context():
        found = db.session.scalar(select(OutgoingMail).where(
            OutgoingMail.request_id == request_id, OutgoingMail.kind == kind))
        db.session.expunge_all()
        return found


def _tasks(app, request_id):
    """A request's tasks as stored now."""
    with app.app_context():
        found = db.session.scalars(select(ConnectorTask).where(
            ConnectorTask.request_id == request_id)).all()
        db.session.expunge_all()
        return found


def test_a_worker_killed_mid_task_is_replaced_within_the_stale_time(
    app, client, inbox, redis_url, processes, tmp_path
):
    """SIGKILL the worker while its connector works: the sweep trusts the task's lease,
    not RQ (which still calls the job started), and another worker finishes the request."""
    gate = tmp_path / "gate"
    gate.mkdir()
    app.extensions["dsar.connectors"] = gated_worker.registry()
    settings = {"DSAR_TEST_GATE": str(gate), **QUICK_SWEEP}
    doomed = processes.worker(gated=True, **settings)
    request_id = _submit(client, "kees@example.org")
    _confirm(client, wait_for(lambda: inbox.to("kees@example.org"), "the verification mail", 30)[0])
    started = wait_for(lambda: list(gate.glob("started-*")), "the export starting", 30)
    assert started[0].name == f"started-{doomed.pid}"
    [task] = _tasks(app, request_id)
    assert task.status == "running"
    killed_job = task.job_id

    forked = children_of(doomed.pid)  # RQ's scheduler, forked by the worker
    assert forked
    kill(doomed)
    killed_at = time.monotonic()
    wait_for(lambda: not any(alive(pid) for pid in forked),
             "the killed worker's forked processes ending with it", 10)
    (gate / "open").touch()
    processes.worker(gated=True, **settings)
    processes.scheduler(**settings)
    wait_for(lambda: _status(app, request_id) == "completed", "the request completing", 60)
    took = time.monotonic() - killed_at
    wait_for(lambda: [m for m in inbox.to("kees@example.org")
                      if m["Subject"].startswith("The answer")], "the answer mail", 30)

    [task] = _tasks(app, request_id)
    assert task.attempts == 2 and task.status == "succeeded"
    assert Job.fetch(killed_job, connection=Redis.from_url(redis_url)).get_status() == \
        "started", "RQ still calls the killed job started: the sweep did not wait for RQ"
    # The lease lapses after 3 s; RQ's own clean-up of the job would take minutes.
    assert took < 30, f"the lost task took {took:.0f} s to be run again"


def _sink_settings(port, **more):
    """Worker settings for mail through the test's own SMTP server, tried again quickly."""
    return {"DSAR_MAIL_PORT": str(port), "DSAR_MAIL_RETRY_DELAY": "1",
            "DSAR_MAIL_RETRY_MAX_DELAY": "2", "DSAR_MAIL_SEND_LEASE": "2", **QUICK_SWEEP,
            **more}


def _subjects(folder):
    """The subjects of what the SMTP server kept, oldest first."""
    return [str(m["Subject"]) for m in received(folder)]


def test_a_worker_killed_mid_send_repeats_the_mail_at_most_once_with_its_message_id(
    app, client, processes, tmp_path
):
    """SIGKILL the worker after the mail server took the answer mail, before the send was
    recorded: the mail goes once more, with the same Message-ID, and never again."""
    port, mailbox = _free_port(), tmp_path / "mailbox"
    processes.smtp_sink(port, mailbox)
    settings = _sink_settings(port)
    doomed = processes.worker(**settings)
    request_id = _submit(client, "lotte@example.org")
    wait_for(lambda: received(mailbox), "the verification mail", 30)
    (mailbox / "hang").touch()  # the server will take the next mail and never say goodbye
    _confirm(client, received(mailbox)[0])
    wait_for(lambda: len(received(mailbox)) == 2, "the answer mail reaching the server", 60)
    assert _mail(app, request_id, "answer_ready").sent_at is None, "not recorded yet"

    kill(doomed)
    (mailbox / "hang").unlink()
    processes.worker(**settings)
    processes.scheduler(**settings)
    wait_for(lambda: _mail(app, request_id, "answer_ready").sent_at, "the send recorded", 60)
    # Sweeps a second apart, past the 2 s lease: one of them would send it again.
    processes.wait_for_sweeps(4)

    answers = [m for m in received(mailbox) if str(m["Subject"]).startswith("The answer")]
    assert len(answers) == 2, _subjects(mailbox)
    first, again = (str(m["Message-ID"]).strip() for m in answers)
    assert first == again and first.startswith(f"<dsar.{request_id}.")
    assert _subjects(mailbox).count("Please confirm your privacy request") == 1
    assert _mail(app, request_id, "answer_ready").attempts == 2


def test_a_mail_server_that_stalls_after_taking_a_mail_gets_it_once(
    app, client, processes, tmp_path
):
    """The server takes the mail, then never answers QUIT: after MAIL_TIMEOUT the mail
    counts as sent, and no lease lapsing or sweep sends it again."""
    port, mailbox = _free_port(), tmp_path / "mailbox"
    processes.smtp_sink(port, mailbox)
    (mailbox / "hang").touch()
    settings = _sink_settings(port, DSAR_MAIL_TIMEOUT="2")
    processes.worker(**settings)
    processes.scheduler(**settings)
    request_id = _submit(client, "nina@example.org")
    wait_for(lambda: _mail(app, request_id, "verify").sent_at, "the send recorded", 30)
    # Sweeps a second apart, well past the 2 s leases: one of them would send it again.
    processes.wait_for_sweeps(6)
    assert len(received(mailbox)) == 1
    assert _mail(app, request_id, "verify").attempts == 1


def test_mail_is_retried_through_a_long_outage_and_the_officer_sees_it_overdue(
    app, client, processes, tmp_path
):
    """The mail server killed for longer than five tries took before: the verification mail
    is never given up, the officer sees it overdue, and it arrives once the server is back."""
    port, mailbox = _free_port(), tmp_path / "mailbox"
    server = processes.smtp_sink(port, mailbox)
    kill(server)
    processes.worker(**_sink_settings(port))
    processes.scheduler(**_sink_settings(port))
    app.config["MAIL_OVERDUE_AFTER"] = 3
    request_id = _submit(client, "maud@example.org")
    wait_for(lambda: _mail(app, request_id, "verify").attempts >= 7,
             "seven tries (the old limit was five)", 60)
    owed = _mail(app, request_id, "verify")
    assert owed.sent_at is None and owed.dropped_reason is None
    assert "Connection" in owed.last_error or "refused" in owed.last_error

    with app.app_context():
        create_officer("olga@cplus.example", "correct horse battery")
        db.session.commit()
    console_sign_in(client, "olga@cplus.example", "correct horse battery")
    dashboard = client.get("/console/dashboard").text
    assert "mails overdue" in dashboard and request_id[:8] in dashboard
    detail = client.get(f"/console/requests/{request_id}").text
    assert "1 mail is overdue" in detail and "not sent yet" in detail

    processes.smtp_sink(port, mailbox)
    [verify] = wait_for(lambda: received(mailbox), "the mail after the outage", 30)
    assert verify["Subject"] == "Please confirm your privacy request"
    _confirm(client, verify)
    wait_for(lambda: len(received(mailbox)) == 2, "the answer mail", 60)
    assert _status(app, request_id) == "completed"
    assert "Hello," in text_of(verify)


def _through(url, port):
    """A database URL that reaches the same server through a proxy on `port`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}"))


@NEEDS_SERVER_DB
def test_a_shop_outage_is_waited_out_and_every_request_completes(
    app, client, inbox, processes
):
    """The shop's database refusing connections: the requests wait for the shop, say so,
    and all complete once it is back; none fails, nobody is told of a failure."""
    port = _free_port()
    network = processes.tcp_proxy(port, urlsplit(TEST_DATABASE_URL).port or 5432)
    settings = {"DSAR_SHOP_DATABASE_URL": _through(app.config["SHOP_DATABASE_URL"], port),
                "DSAR_TASK_RETRY_DELAY": "1", "DSAR_TASK_RETRY_MAX_DELAY": "2", **QUICK_SWEEP}
    processes.worker(**settings)
    processes.worker(**settings)
    processes.scheduler(**settings)
    kill(network)
    people = [f"shopper{n}@example.org" for n in range(4)]
    ids = [_submit(client, email) for email in people]
    for email in people:
        _confirm(client, wait_for(lambda e=email: inbox.to(e), "the verification mail", 30)[0])

    def all_waiting():
        return all(any(t.waiting_since for t in _tasks(app, i)) for i in ids)

    wait_for(all_waiting, "every request waiting for the shop", 60)
    wait_for(lambda: all(max(t.attempts for t in _tasks(app, i)) >= 3 for i in ids),
             "several tries of each request, all refused", 60)
    for request_id in ids:
        assert _status(app, request_id) == "in_progress"
    with app.app_context():
        create_officer("olga@cplus.example", "correct horse battery")
        db.session.commit()
    console_sign_in(client, "olga@cplus.example", "correct horse battery")
    assert "waiting for accounts" in client.get(f"/console/requests/{ids[0]}").text

    processes.tcp_proxy(port, urlsplit(TEST_DATABASE_URL).port or 5432)
    wait_for(lambda: all(_status(app, i) == "completed" for i in ids), "every answer", 90)
    for email in people:
        # The answer is mailed by a job of its own, just after the request completes.
        wait_for(lambda e=email: any(str(m["Subject"]).startswith("The answer")
                                     for m in inbox.to(e)), "the answer mail", 60)
        subjects = [m["Subject"] for m in inbox.to(email)]
        assert "We are working on your privacy request" not in subjects
    assert inbox.to("olga@cplus.example") == [], "no officer alert for an outage ridden out"


@NEEDS_SERVER_DB
def test_workers_wait_out_an_outage_of_dsars_own_database(
    app, client, inbox, processes, database_url
):
    """dsar's database refusing the workers' connections: the workers stay up, and every
    request completes once it is back."""
    port = _free_port()
    network = processes.tcp_proxy(port, urlsplit(TEST_DATABASE_URL).port or 5432)
    settings = {"DSAR_DATABASE_URL": _through(database_url, port), **QUICK_SWEEP}
    workers = [processes.worker(**settings), processes.worker(**settings)]
    scheduler = processes.scheduler(**settings)
    people = [f"patient{n}@example.org" for n in range(3)]
    ids = [_submit(client, email) for email in people]
    mails = [wait_for(lambda e=email: inbox.to(e), "the verification mail", 30)[0]
             for email in people]

    kill(network)
    for mail in mails:
        _confirm(client, mail)  # the web app reaches the database; the workers do not
    wait_for(lambda: processes.logged("Connection refused") >= 6,
             "the workers finding the database away, again and again", 60)
    assert all(p.poll() is None for p in [*workers, scheduler]), "a process exited"
    assert all(_status(app, i) == "in_progress" for i in ids)

    processes.tcp_proxy(port, urlsplit(TEST_DATABASE_URL).port or 5432)
    wait_for(lambda: all(_status(app, i) == "completed" for i in ids), "every answer", 90)
    for email in people:
        # The answer is mailed by a job of its own, just after the request completes.
        wait_for(lambda e=email: any(str(m["Subject"]).startswith("The answer")
                                     for m in inbox.to(e)), "the answer mail", 60)


def test_a_worker_killed_mid_pdf_leaves_the_person_their_answer_and_the_pdf_follows(
    app, client, inbox, processes, seeded_shop, tmp_path
):
    """The answer mail and the JSON go out before the PDF is made. SIGKILL the worker while
    it renders: the page says the PDF is being prepared, the sweep trusts the PDF job's lease
    (not RQ), another worker makes it, and the person gets no second mail."""
    gate = tmp_path / "gate"
    gate.mkdir()
    settings = {"DSAR_TEST_GATE": str(gate), **QUICK_SWEEP}
    doomed = processes.start("-m", "tests.programs.gated_renderer", env=settings, name="worker")
    request_id = _submit(client, DEMO_EMAIL)
    _confirm(client, wait_for(lambda: inbox.to(DEMO_EMAIL), "the verification mail", 30)[0])
    started = wait_for(lambda: list(gate.glob("started-*")), "the PDF starting", 60)
    assert started[0].name == f"started-{doomed.pid}"

    [answer_mail] = [m for m in inbox.to(DEMO_EMAIL) if m["Subject"].startswith("The answer")]
    link = link_in(answer_mail)
    report = client.get(link + "/report.json")
    assert report.status_code == 200 and report.json["subject"]["email"] == DEMO_EMAIL
    page = client.get(link).text
    assert "is being prepared" in page and 'http-equiv="refresh"' in page
    assert "report.pdf" not in page

    kill(doomed)
    killed_at = time.monotonic()
    (gate / "open").touch()
    processes.start("-m", "tests.programs.gated_renderer", env=settings, name="worker")
    processes.scheduler(**settings)
    wait_for(lambda: _request(app, request_id).document_ready_at, "the PDF being made", 60)
    took = time.monotonic() - killed_at
    page = client.get(link).text
    assert "report.pdf" in page and "is being prepared" not in page
    assert client.get(link + "/report.pdf").data.startswith(b"%PDF-")
    assert _request(app, request_id).document_attempts == 2
    # Any mail is owed as a row before it is sent: none more is owed for the PDF.
    assert _mail(app, request_id, "document_ready") is None
    subjects = [m["Subject"] for m in inbox.to(DEMO_EMAIL)]
    assert subjects.count("The answer to your privacy request is ready") == 1, subjects
    assert "The document of your privacy answer is ready" not in subjects
    # The lease lapses after 3 s; RQ's own clean-up of the job would take minutes.
    assert took < 30, f"the lost PDF took {took:.0f} s to be made again"
