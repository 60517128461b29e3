"""Starts an RQ worker for dsar's queues, or with --cron the scheduler of periodic jobs.

Runs on any machine pointed at the same database and Redis (DSAR_DATABASE_URL,
DSAR_REDIS_URL); start as many as the load needs, and one scheduler.

The worker runs jobs in its own process (RQ's SimpleWorker) rather than forking a child
for each: most jobs are a few milliseconds of work, and a fork cost more than the job.
Isolation stays where memory is at stake: a long answer's PDF is rendered by child
processes, part by part (dsar.answer.document). After --max-jobs jobs the worker starts
itself afresh in the same process id, so whatever memory a long run gathered goes back.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.job import Job

from dsar.app import create_app
from dsar.work import jobcontext, jobs, queues

#: How often the sweep looks for lost work, in seconds.
SWEEP_INTERVAL = 60
#: Jobs a worker runs before it starts afresh.
MAX_JOBS = 1000


class CountingWorker(SimpleWorker):
    """A worker that counts the jobs it ran, to tell having run its share from a stop."""

    jobs_run = 0

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Runs a job, counting it."""
        self.jobs_run += 1
        super().execute_job(job, queue)


def main(argv: list[str] | None = None) -> None:
    """Parses the arguments and runs a worker or the scheduler until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--cron", action="store_true", help="run the periodic-job scheduler")
    parser.add_argument("--max-jobs", type=int, default=MAX_JOBS,
                        help="start afresh after this many jobs (0: never)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    app = create_app()
    jobcontext.bind(app)
    with app.app_context():
        connection = queues.redis_connection()
    if args.cron:
        scheduler = CronScheduler(connection=connection)
        scheduler.register(jobs.sweep, queue_name=queues.MAINTENANCE, interval=SWEEP_INTERVAL)
        scheduler.register(jobs.end_retention, queue_name=queues.MAINTENANCE,
                           interval=app.config["RETENTION_SWEEP_INTERVAL"])
        scheduler.register(jobs.mail_digest, queue_name=queues.MAINTENANCE,
                           interval=app.config["DIGEST_INTERVAL"])
        scheduler.start()
        return
    worker = CountingWorker(list(queues.ALL_QUEUES), connection=connection)
    worker.work(burst=args.burst, with_scheduler=True, max_jobs=args.max_jobs or None)
    recycle = args.max_jobs and worker.jobs_run >= args.max_jobs
    if recycle and not args.burst and not worker._stop_requested:
        # The same process id, so `dsar run` and service managers see no worker stop.
        os.execv(sys.executable, [sys.executable, *sys.argv])  # noqa: S606


if __name__ == "__main__":
    main()
