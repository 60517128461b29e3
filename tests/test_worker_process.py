"""worker.py as production runs it: it starts afresh after --max-jobs, keeping its process
id; it waits out a Redis outage instead of exiting; and it stops when told to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from redis import Redis
from rq import Queue
from rq.job import Job

from dsar.work import queues
from tests.conftest import _free_port
from tests.faults import redis_server, wait_for
from tests.helpers import ROOT, stop


def test_a_worker_recycles_itself_in_place_and_stops_on_sigterm(app, redis, redis_url,
                                                                 database_url):
    """Five jobs, two per life: all run, in one process id, and SIGTERM still stops it."""
    queue = Queue(queues.MAINTENANCE, connection=redis)
    jobs = [queue.enqueue("os.getpid") for _ in range(5)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DSAR_ENV": "testing",
           "DSAR_REDIS_URL": redis_url, "DSAR_DATABASE_URL": database_url,
           "DSAR_SECRET_KEY": app.config["SECRET_KEY"]}
    worker = subprocess.Popen([sys.executable, str(ROOT / "worker.py"), "--max-jobs", "2"],  # noqa: S603
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(j.get_status(refresh=True) != "finished"
                                                  for j in jobs):
            time.sleep(0.2)
        assert {job.return_value() for job in jobs} == {worker.pid}
        assert worker.poll() is None, "the worker is still there after starting afresh"
    finally:
        assert stop(worker, 20) == 0, "the worker did not stop on SIGTERM"


def _ran(job: Job, seconds: float) -> bool:
    """Whether a job finished within so many seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if job.get_status(refresh=True) == "finished":
            return True
        time.sleep(0.2)
    return False


def test_a_worker_waits_out_a_redis_outage_and_carries_on(app, database_url, tmp_path):
    """Redis killed under a worker and started again, empty: the worker is still there and
    takes the next job, without anyone restarting it."""
    port = _free_port()
    server = redis_server(port, tmp_path)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DSAR_ENV": "testing",
           "DSAR_REDIS_URL": f"redis://127.0.0.1:{port}/0", "DSAR_DATABASE_URL": database_url,
           "DSAR_SECRET_KEY": app.config["SECRET_KEY"]}
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen([sys.executable, str(ROOT / "worker.py")], env=env,  # noqa: S603
                                  stdout=output, stderr=subprocess.STDOUT)
    try:
        queue = Queue(queues.MAINTENANCE, connection=Redis(port=port))
        assert _ran(queue.enqueue("os.getpid"), 30)
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        # RQ's worker says so each time it tries to reach Redis again.
        wait_for(lambda: log.read_bytes().count(b"could not connect to Redis") >= 2
                 or worker.poll() is not None, "the worker trying to reach Redis again", 30)
        assert worker.poll() is None, "the worker exited when Redis went away"
        server = redis_server(port, tmp_path)
        queue = Queue(queues.MAINTENANCE, connection=Redis(port=port))
        job = queue.enqueue("os.getpid")
        assert _ran(job, 60), "the worker did not take work after Redis came back"
        assert job.return_value() == worker.pid
    finally:
        stop(worker, 20)
        stop(server, 5)
