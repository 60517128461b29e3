"""`dsar worker`: an RQ worker over dsar's queues, or some of them.

The worker runs jobs in its own process (RQ's SimpleWorker) rather than forking a child for
each: most jobs are a few milliseconds of work, and a fork cost more than the job. Isolation
stays where memory is at stake: a long answer's PDF is rendered by child processes, part by
part (dsar.answer.document). After `max_jobs` jobs the worker starts itself afresh in the same
process id, so whatever memory a long run gathered goes back. A worker that loses Redis waits
until it answers again and then starts afresh the same way, instead of exiting: the sweep
drives again whatever the outage lost. SIGTERM stops it after the job at hand.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Sequence
from types import FrameType

from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job

from dsar.app import create_app
from dsar.processes import logs, restart
from dsar.work import jobcontext, queues
from dsar.work.worker import Worker

#: Jobs a worker runs before it starts afresh.
MAX_JOBS = 1000
#: The queues by the kind of work they carry, as `--queues` names them.
KINDS = {name.removeprefix("dsar-"): name for name in queues.ALL_QUEUES}

log = logging.getLogger("dsar.worker")


class RecyclingWorker(Worker):
    """A worker that knows whether it was asked to stop, and counts the jobs it ran."""

    jobs_run = 0
    stopping = False

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Runs a job, counting it."""
        self.jobs_run += 1
        restart.in_job = True
        try:
            super().execute_job(job, queue)
        finally:
            restart.in_job = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Notes a SIGTERM or SIGINT, then stops as RQ does (after the job at hand)."""
        self.stopping = True
        super().request_stop(signum, frame)


def queue_names(kinds: Sequence[str] = ()) -> list[str]:
    """The queues a worker takes work from, in the house order (short jobs first), for the
    kinds given, or all of them.

    Raises:
        ValueError: a kind that is no queue of dsar's.
    """
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"no such queue: {', '.join(unknown)} (the queues are "
                         f"{', '.join(KINDS)})")
    return [name for kind, name in KINDS.items() if not kinds or kind in kinds]


def _warm() -> None:
    """Loads what every job needs before the first one (the jobs and, through them, the PDF
    renderer), then moves everything loaded so far out of the garbage collector's sight.

    The first job no longer pays for the imports, the collector no longer walks the tens of
    thousands of objects a warm worker holds for good (10-13 % of a typical answer's time),
    and forked renderer children keep sharing those pages with the worker instead of copying
    them when the collector touches them.
    """
    from dsar.work import jobs  # noqa: F401  (loaded for what it brings in)

    gc.collect()
    gc.freeze()


def run(names: Sequence[str] = queues.ALL_QUEUES, *, burst: bool = False,
        max_jobs: int = MAX_JOBS) -> None:
    """Takes jobs from the named queues until stopped (or, in a burst, until they are empty).

    Args:
        names: the queues, in the order to take work from them.
        burst: stop when the queues are empty.
        max_jobs: start afresh after this many jobs; 0 never.
    """
    os.register_at_fork(after_in_child=restart.die_with_parent)
    logs.to_stdout()
    app = create_app()
    jobcontext.bind(app)
    with app.app_context():
        connection = queues.redis_connection()
    _warm()
    worker = RecyclingWorker(list(names), connection=connection)
    try:
        worker.work(burst=burst, with_scheduler=True, max_jobs=max_jobs or None)
    except RedisError as exc:
        log.warning("process=worker state=redis-lost error_type=%s", type(exc).__name__)
    if burst or worker.stopping:
        return
    # Not asked to stop: it ran its share of jobs, or it lost Redis. It starts afresh once
    # Redis answers, in the same process id, so `dsar run` and service managers see no
    # stop, and the jobs the sweep drives again are taken as soon as Redis is back.
    restart.wait_for_redis(connection)
    restart.start_afresh()
