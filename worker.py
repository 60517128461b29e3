"""Starts an RQ worker for dsar's queues, or with --cron the scheduler of periodic jobs.

Runs on any machine pointed at the same database and Redis (DSAR_DATABASE_URL,
DSAR_REDIS_URL); start as many as the load needs, and one scheduler.

The worker runs jobs in its own process (RQ's SimpleWorker) rather than forking a child
for each: most jobs are a few milliseconds of work, and a fork cost more than the job.
Isolation stays where memory is at stake: a long answer's PDF is rendered by child
processes, part by part (dsar.answer.document). After --max-jobs jobs the worker starts
itself afresh in the same process id, so whatever memory a long run gathered goes back.
A worker (or the scheduler) that loses Redis waits until it answers again and then starts
afresh the same way, instead of exiting: the sweep drives again whatever the outage lost.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import sys
import time
from types import FrameType

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.cron import CronScheduler
from rq.job import Job

from dsar.app import create_app
from dsar.work import jobcontext, jobs, queues
from dsar.work.worker import Worker

#: Jobs a worker runs before it starts afresh.
MAX_JOBS = 1000
#: The longest pause, in seconds, between two tries to reach a Redis that went away.
REDIS_RETRY_CAP = 30

log = logging.getLogger("dsar.worker")

#: Linux's prctl option that sends a child a signal when the thread that forked it dies.
PR_SET_PDEATHSIG = 1


#: Whether a job is running in this process now (jobs run in the main thread).
_in_job = False


def die_with_parent() -> None:
    """In a process this worker forks between jobs (RQ's scheduler): be killed when the
    worker dies. A worker killed with SIGKILL gets no chance to stop it, and the scheduler
    would otherwise live on alone, holding its lock, for as long as the machine.

    Not for what a job forks (the PDF renderers' pool): Linux ties the signal to the thread
    that forked, the pool forks replacement workers from a thread of its own, and a worker
    killed when that thread ends may hold the pool's queue lock and hang the job.
    """
    if sys.platform == "linux" and not _in_job:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class RecyclingWorker(Worker):
    """A worker that knows whether it was asked to stop, and counts the jobs it ran."""

    jobs_run = 0
    stopping = False

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Runs a job, counting it."""
        global _in_job
        self.jobs_run += 1
        _in_job = True
        try:
            super().execute_job(job, queue)
        finally:
            _in_job = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Notes a SIGTERM or SIGINT, then stops as RQ does (after the job at hand)."""
        self.stopping = True
        super().request_stop(signum, frame)


def wait_for_redis(connection: Redis) -> None:
    """Waits, as long as it takes, until Redis answers again; SIGTERM still ends the wait."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    pause = 1.0
    while True:
        try:
            connection.ping()
            return
        except RedisError:
            time.sleep(pause)
            pause = min(pause * 2, REDIS_RETRY_CAP)


def start_afresh() -> None:
    """Replaces this process with a new run of the same command, keeping its process id."""
    os.execv(sys.executable, [sys.executable, *sys.argv])  # noqa: S606


def main(argv: list[str] | None = None) -> None:
    """Parses the arguments and runs a worker or the scheduler until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--cron", action="store_true", help="run the periodic-job scheduler")
    parser.add_argument("--max-jobs", type=int, default=MAX_JOBS,
                        help="start afresh after this many jobs (0: never)")
    args = parser.parse_args(argv)
    os.register_at_fork(after_in_child=die_with_parent)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    app = create_app()
    jobcontext.bind(app)
    with app.app_context():
        connection = queues.redis_connection()
    if args.cron:
        scheduler = CronScheduler(connection=connection)
        scheduler.register(jobs.sweep, queue_name=queues.MAINTENANCE,
                           interval=app.config["SWEEP_INTERVAL"])
        scheduler.register(jobs.end_retention, queue_name=queues.MAINTENANCE,
                           interval=app.config["RETENTION_SWEEP_INTERVAL"])
        scheduler.register(jobs.mail_digest, queue_name=queues.MAINTENANCE,
                           interval=app.config["DIGEST_INTERVAL"])
        try:
            scheduler.start()
        except RedisError as exc:
            log.warning("process=scheduler state=redis-lost error_type=%s", type(exc).__name__)
            wait_for_redis(connection)
            start_afresh()
        return
    worker = RecyclingWorker(list(queues.ALL_QUEUES), connection=connection)
    try:
        worker.work(burst=args.burst, with_scheduler=True, max_jobs=args.max_jobs or None)
    except RedisError as exc:
        log.warning("process=worker state=redis-lost error_type=%s", type(exc).__name__)
    if args.burst or worker.stopping:
        return
    # Not asked to stop: it ran its share of jobs, or it lost Redis. It starts afresh once
    # Redis answers, in the same process id, so `dsar run` and service managers see no
    # stop, and the jobs the sweep drives again are taken as soon as Redis is back.
    wait_for_redis(connection)
    start_afresh()


if __name__ == "__main__":
    main()
