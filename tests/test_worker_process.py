"""worker.py as production runs it: it starts afresh after --max-jobs, keeping its process
id, and stops when told to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from rq import Queue

from dsar.app import ROOT
from dsar.work import queues


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
        os.kill(worker.pid, signal.SIGTERM)
        try:
            assert worker.wait(timeout=20) == 0
        finally:
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
