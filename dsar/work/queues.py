"""The Redis connection and RQ queues; jobs carry ids only, the database holds the state."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

log = logging.getLogger(__name__)

#: Queues by kind of work, so a slow connector cannot hold up mail or the sweep.
CONNECTORS = "dsar-connectors"
ANSWERS = "dsar-answers"
DOCUMENTS = "dsar-documents"
MAIL = "dsar-mail"
MAINTENANCE = "dsar-maintenance"
#: The order a worker takes work in: short jobs first, so that in a burst the PDFs of the
#: first requests never hold up the connectors and JSON answers of the later ones.
ALL_QUEUES = (MAIL, CONNECTORS, ANSWERS, MAINTENANCE, DOCUMENTS)

#: Jobs by dotted name, so that nothing but the worker imports the job module.
RUN_TASK = "dsar.work.jobs.run_task"
ASSEMBLE_ANSWER = "dsar.work.jobs.assemble_answer"
DELIVER_MAIL = "dsar.work.jobs.deliver_mail"
RENDER_DOCUMENT = "dsar.work.jobs.render_document"


def redis_connection() -> Redis:
    """Returns the app's Redis connection, made once per app."""
    conn = current_app.extensions.get("dsar.redis")
    if conn is None:
        url = current_app.config["REDIS_URL"]
        if not url:
            raise RuntimeError("DSAR_REDIS_URL is not set; `dsar run` starts an embedded Redis")
        conn = Redis.from_url(url)
        current_app.extensions["dsar.redis"] = conn
    return conn


def get_queue(name: str) -> Queue:
    """Returns the RQ queue of that name on the app's Redis."""
    return Queue(name, connection=redis_connection())


def enqueue(
    queue_name: str, job_name: str, *args: Any, delay: int = 0, timeout: int | None = None,
    job_id: str | None = None,
) -> str | None:
    """Puts a job on a queue after the caller has committed the rows it reads.

    Returns the job id, or None when Redis cannot be reached: the rows stay as they are
    and the periodic sweep drives them again, so nothing is lost.
    """
    try:
        queue = get_queue(queue_name)
        if delay > 0:
            # RQ keeps a scheduled time in whole seconds, cut down: a job due at 12.4 s would
            # come out at 12 s, before the row it reads is due, find nothing to do, and leave
            # the retry to the sweep. A second more brings it out on time or just after.
            job = queue.enqueue_in(timedelta(seconds=delay + 1), job_name, *args,
                                   job_timeout=timeout, job_id=job_id)
        else:
            job = queue.enqueue(job_name, *args, job_timeout=timeout, job_id=job_id)
    except RedisError as exc:
        log.warning("queue=%s job=%s state=not-enqueued error=%s", queue_name, job_name, exc)
        return None
    return str(job.id)
