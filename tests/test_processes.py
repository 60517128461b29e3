"""The command of each role as production starts it: `dsar web`, `dsar worker`,
`dsar scheduler`, and `dsar db upgrade` on several machines at once. Each is a real process
of the test's own on loopback, stopped by its pid."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path
from typing import Any

from flask import Flask
from rq import Queue
from sqlalchemy import text

from dsar.app import create_app
from dsar.extensions import db
from dsar.processes.scheduler import LOCK_KEY
from dsar.upgrade_lock import ADVISORY_KEY, upgrade_lock
from dsar.work import queues
from tests.conftest import _free_port
from tests.faults import Processes, redis_server, wait_for
from tests.helpers import ROOT, stop

#: The `dsar` command, as the package installs it.
DSAR = str(Path(sys.executable).parent / "dsar")


def _get(url: str) -> tuple[int, dict[str, str], bytes] | None:
    """GETs a URL: its status, headers and body, or None while nothing listens there."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except OSError:
        return None


def _web(processes: Processes, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """`dsar web` on a free port of loopback; returns it and its address once it answers."""
    base = f"http://127.0.0.1:{_free_port()}"
    web = processes.start(DSAR, "web", "--bind", base.removeprefix("http://"), "--workers", "1",
                          env=env, name="web")
    wait_for(lambda: web.poll() is not None or _get(f"{base}/health"), "dsar web answering", 30)
    assert web.poll() is None, "dsar web exited"
    return web, base


def test_dsar_web_serves_the_form_and_its_health_and_logs_to_stdout(app, processes, tmp_path):
    """The form and /health from gunicorn in a process of its own; SIGTERM stops it with 0,
    and what it logged (the requests among it) is on standard output, nothing on errors."""
    base = f"http://127.0.0.1:{_free_port()}"
    with (tmp_path / "out.log").open("wb") as out, (tmp_path / "err.log").open("wb") as err:
        web = subprocess.Popen(  # noqa: S603
            [DSAR, "web", "--bind", base.removeprefix("http://"), "--workers", "2"],
            env=processes.env, cwd=tmp_path, stdout=out, stderr=err)
    try:
        wait_for(lambda: web.poll() is not None or _get(f"{base}/health"), "dsar web", 30)
        form = _get(f"{base}/")
        assert form is not None and form[0] == 200
        assert "Your privacy" in form[2].decode()
        status, headers, body = _get(f"{base}/health") or (0, {}, b"")
        assert status == 200
        assert json.loads(body) == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
        assert headers["Cache-Control"] == "no-store"
    finally:
        assert stop(web, 40) == 0, "dsar web did not stop cleanly on SIGTERM"
    logged = (tmp_path / "out.log").read_text()
    assert '"GET /health HTTP/1.1" 200' in logged
    assert "Booting worker" in logged
    assert "Control socket" not in logged, "a second dsar web would take over its socket"
    assert (tmp_path / "err.log").read_text() == ""


def test_health_names_redis_when_redis_is_stopped(app, processes, tmp_path):
    """Redis stopped under a running `dsar web`: /health answers 503 and names Redis."""
    port = _free_port()
    server = redis_server(port, tmp_path)
    try:
        _web_process, base = _web(processes, DSAR_REDIS_URL=f"redis://127.0.0.1:{port}/0")
        assert (_get(f"{base}/health") or (0,))[0] == 200
        stop(server, 5)
        status, headers, body = _get(f"{base}/health") or (0, {}, b"")
    finally:
        stop(server, 5)
    assert status == 503
    assert json.loads(body) == {"status": "unavailable",
                                "checks": {"database": "ok", "redis": "unreachable"}}
    assert headers["Cache-Control"] == "no-store"


def test_health_names_the_database_when_it_cannot_be_reached(app: Flask, tmp_path):
    """A database that cannot be opened: 503 naming the database, Redis still fine."""
    unreachable = create_app({**app.config,
                              "DATABASE_URL": f"sqlite:///{tmp_path / 'gone' / 'dsar.db'}"})
    response = unreachable.test_client().get("/health")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable",
                             "checks": {"database": "unreachable", "redis": "ok"}}
    with unreachable.app_context():
        db.engine.dispose()


def test_health_answers_when_the_database_server_never_replies(app: Flask):
    """A PostgreSQL address where something takes the connection and never speaks (a hung
    server): /health still answers, 503 naming the database, instead of hanging with it."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never accepts
        port = silent.getsockname()[1]
        hung = create_app({**app.config, "DATABASE_URL":
                           f"postgresql+psycopg://dsar@127.0.0.1:{port}/dsar"})
        answers: list[Any] = []
        asking = threading.Thread(target=lambda: answers.append(
            hung.test_client().get("/health")), daemon=True)
        asking.start()
        asking.join(60)
    assert answers, "/health did not answer while the database server stayed silent"
    assert answers[0].status_code == 503
    assert answers[0].json["checks"]["database"] == "unreachable"


def test_dsar_worker_finishes_its_job_on_sigterm_and_exits_0(app, processes, redis):
    """SIGTERM while a job runs: the worker finishes the job, then exits with status 0."""
    job = Queue(queues.MAINTENANCE, connection=redis).enqueue("time.sleep", 2)
    worker = processes.start(DSAR, "worker", name="worker")
    wait_for(lambda: job.get_status(refresh=True) == "started", "the worker taking the job", 30)
    os.kill(worker.pid, signal.SIGTERM)
    assert worker.wait(30) == 0
    assert job.get_status(refresh=True) == "finished"


def test_dsar_worker_takes_only_the_queues_it_is_given(app, processes, redis):
    """`--queues documents`: the PDF queue's job runs, the mail queue's waits for another."""
    document = Queue(queues.DOCUMENTS, connection=redis).enqueue("os.getpid")
    mail = Queue(queues.MAIL, connection=redis).enqueue("os.getpid")
    worker = processes.start(DSAR, "worker", "--queues", "documents", "--burst", name="worker")
    assert worker.wait(30) == 0
    assert document.get_status(refresh=True) == "finished"
    assert mail.get_status(refresh=True) == "queued"


def test_a_second_scheduler_stands_by_and_takes_over_when_the_first_stops(
    app, processes, redis
):
    """Two schedulers on one Redis: the periodic jobs are enqueued once, by the first; the
    second stands by, and takes over when the first is stopped."""
    maintenance = Queue(queues.MAINTENANCE, connection=redis)
    first = processes.start(DSAR, "scheduler", name="scheduler")
    wait_for(lambda: len(maintenance) == 3, "the first scheduler's jobs", 30)
    second = processes.start(DSAR, "scheduler", name="scheduler")
    wait_for(lambda: processes.logged("state=standing-by"), "the second standing by", 30)
    assert sorted(job.func_name for job in maintenance.get_jobs()) == [
        "dsar.work.jobs.end_retention", "dsar.work.jobs.mail_digest", "dsar.work.jobs.sweep"]
    assert redis.get(LOCK_KEY).decode().endswith(f":{first.pid}")

    assert stop(first, 20) == 0
    wait_for(lambda: processes.logged("state=scheduling") == 2, "the second taking over", 30)
    assert redis.get(LOCK_KEY).decode().endswith(f":{second.pid}")
    assert stop(second, 20) == 0
    assert redis.get(LOCK_KEY) is None, "a stopped scheduler left its lock behind"


def _waiting_for_the_upgrade_lock(app: Flask, pid: int) -> bool:
    """Whether process `pid` waits for the upgrade lock: on PostgreSQL an advisory lock not
    granted yet; on SQLite a blocked file lock of that process (Linux lists those with an
    arrow in /proc/locks)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            return bool(db.session.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND objid = :key"), {"key": ADVISORY_KEY}))
    return any("->" in line and f" {pid} " in line
               for line in Path("/proc/locks").read_text().splitlines())


def test_db_upgrade_waits_while_another_machine_upgrades(app, processes):
    """`dsar db upgrade` while another holds the upgrade lock waits for it, then finds the
    database up to date and exits 0."""
    with app.app_context(), upgrade_lock():
        upgrade = processes.start(DSAR, "db", "upgrade", name="upgrade")
        wait_for(lambda: upgrade.poll() is not None or _waiting_for_the_upgrade_lock(
            app, upgrade.pid), "the upgrade waiting for the lock", 30)
        assert upgrade.poll() is None, "the upgrade did not wait for the lock"
    assert upgrade.wait(60) == 0


def test_dsar_version_is_the_package_version():
    """`dsar --version` prints the version the package was installed with."""
    shown = subprocess.run([DSAR, "--version"], capture_output=True, text=True, check=True,  # noqa: S603
                           cwd=ROOT)
    assert shown.stdout.strip() == f"dsar {version('dsar')}"
