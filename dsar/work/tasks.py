"""Carrying out a verified request: one task per connector (fan-out), one answer (fan-in).

The database is the truth: a task row says what each connector has done. Jobs carry only
ids, and every step may run twice without harm, because each first looks at the rows.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from dsar.answer import findings
from dsar.clock import utcnow
from dsar.connector import (
    ActionNotSupported,
    Change,
    Connector,
    Decision,
    Disposition,
    Subject,
)
from dsar.extensions import db, rows_changed
from dsar.models import ConnectorTask, DsarRequest
from dsar.policy.backoff import retry_delay
from dsar.policy.lifecycle import TASK_ENDS, RequestStatus, RequestType, TaskStatus
from dsar.registry import current_registry
from dsar.transitions import record_event, transition
from dsar.work import holds, leases, queues, verifying
from dsar.work.transient import is_temporary

log = logging.getLogger(__name__)

#: The connector action that starts each request type. Erasure, rectification and
#: objection first find what there is (export, preview), then act on the approved plan
#: (erase, rectify) or on what the objection stops (dsar.work.objections).
FIRST_ACTION = {
    RequestType.ACCESS: "export",
    RequestType.PORTABILITY: "export",
    RequestType.ERASURE: "export",
    RequestType.RECTIFICATION: "preview",
    RequestType.RESTRICTION: "restrict",
    RequestType.OBJECTION: "export",
}

#: The connector method behind each task action.
METHODS = {"preview": "rectify", "rectify": "rectify"}


def start(request: DsarRequest, *, actor: str) -> None:
    """Moves a verified request into progress and creates its tasks; the caller commits.

    Call `enqueue_pending(request)` after the commit: a job must never run before the
    rows it reads exist.
    """
    transition(request, RequestStatus.IN_PROGRESS, actor=actor)
    action = FIRST_ACTION[RequestType(request.type)]
    add_tasks(request, action, {name: None for name in current_registry().names})


def add_tasks(
    request: DsarRequest, action: str, plans: dict[str, list[dict[str, Any]] | None]
) -> None:
    """Adds one task per connector for an action, each with its part of the plan."""
    existing = {(t.connector, t.action) for t in request.tasks}
    for name, plan in plans.items():
        if (name, action) not in existing:
            request.tasks.append(ConnectorTask(connector=name, action=action, plan=plan))


def enqueue_pending(request: DsarRequest) -> None:
    """Enqueues a job for each pending task, or the answer when there is nothing to run."""
    pending = [t for t in request.tasks if t.status == TaskStatus.PENDING]
    for task in pending:
        task.job_id = queues.enqueue(queues.CONNECTORS, queues.RUN_TASK, task.id)
    db.session.commit()
    if not pending:  # nothing to run in this phase: go straight to the fan-in
        claim_assembly(request.id)


def run_task(task_id: int) -> None:
    """Runs one connector task, records its outcome, and starts the answer if it was last."""
    token = leases.take(task_id)
    if token is None:
        return  # done, not yet due, or another run holds it
    task = _task(task_id)
    request = task.request
    connector_name, request_id, action = task.connector, request.id, task.action
    subject = Subject(email=request.email, name=request.name,
                      held=holds.held_keys(request.email, connector_name))
    work: dict[str, Any] = {"plan": task.plan or [], "corrections": request.corrections or {},
                            "request_id": request.id, "task_id": task.id}
    planned: list[Any] = (
        [decision_from_json(item) for item in work["plan"]] if action == "erase"
        else [_change(item) for item in work["plan"]] if action == "rectify" else [])
    # The connector reaches another system: hold no transaction open while it does.
    db.session.close()

    try:
        with leases.heartbeat(lambda: leases.task_beat(task_id, token), f"task-{task_id}"):
            connector = current_registry().create(connector_name, current_app.config)
            result = perform(connector, action, subject, work)
            # Whatever it reported, what it acted on is read again (verifying).
            shortfall = verifying.check(connector, action, subject, planned, result)
    except ActionNotSupported as exc:
        db.session.rollback()
        if leases.held(_task(task_id), token):
            _hand_to_officer(task_id, str(exc))
        return
    except Exception as exc:  # a connector may fail in any way; it is recorded, not hidden
        db.session.rollback()
        if not leases.held(_task(task_id), token):
            return
        _record_failure(task_id, exc)
    else:
        if shortfall:
            # Read again, the records do not show what the connector reported: the
            # officer has it tried again, does it by hand or refuses it (verifying).
            result = {**result, "not_carried_out": shortfall.items,
                      # Nothing to read back: only the officer can settle it, not a retry.
                      **({"unprovable": True} if shortfall.unprovable else {})}
        # Kept only while the lease is this run's, in one statement: the sweep may have
        # taken this run for dead and started another, whose result then counts.
        kept = rows_changed(
            update(ConnectorTask)
            .where(ConnectorTask.id == task_id, ConnectorTask.status == TaskStatus.RUNNING,
                   ConnectorTask.attempts == token)
            .values(result=result,
                    status=TaskStatus.MANUAL if shortfall else TaskStatus.SUCCEEDED,
                    error=shortfall.said(connector.title) if shortfall else None,
                    waiting_since=None, next_attempt_at=None,
                    finished_at=None if shortfall else utcnow())
        )
        db.session.commit()
        if not kept:
            log.warning("request_id=%s connector=%s state=lease-lost", request_id,
                        connector_name)
            return
        task = _task(task_id)
        if shortfall:
            record_event(task.request, "not_carried_out", actor="system",
                         note=f"{connector_name}: {len(shortfall.items) or 'unprovable'}")
            db.session.commit()
            log.warning("request_id=%s connector=%s state=not-carried-out records=%d",
                        request_id, connector_name, len(shortfall.items))
            return
        log.info("request_id=%s connector=%s state=succeeded", request_id, connector_name)
        if task.request.status == RequestStatus.DENIED:
            findings.discard(request_id)  # denied while this export ran: nothing to keep
            db.session.commit()
    claim_assembly(request_id)


def _task(task_id: int) -> ConnectorTask:
    """Returns a task that is known to exist."""
    task = db.session.get(ConnectorTask, task_id)
    if task is None:
        raise LookupError(f"connector task {task_id} is gone")
    return task


def perform(
    connector: Connector, action: str, subject: Subject, work: dict[str, Any]
) -> dict[str, Any]:
    """Does one action with a connector and returns what it found or did, as JSON data.

    Raises:
        ActionNotSupported: the connector cannot do it; an officer must.
    """
    if action == "export":
        # Records go to files as they come; the task row keeps only their counts.
        return findings.store(work["request_id"], work["task_id"], connector.export(subject),
                              connector.categories)
    if action in {"preview", "rectify"}:
        changes = [asdict(change) for change in
                   connector.rectify(subject, work["corrections"], apply=action == "rectify")]
        if action == "rectify":
            for change in changes:
                change.pop("record")  # the plan holds who received it; keep no more
        return {"changes": changes}
    if action == "erase":
        decisions = [decision_from_json(item) for item in work["plan"]]
        return {"outcomes": [asdict(o) for o in connector.erase(subject, decisions)]}
    if action == "restrict":
        return {"outcomes": [asdict(o) for o in connector.restrict(subject)]}
    if action == "withdraw_consent":
        return {"outcomes": [asdict(o) for o in connector.withdraw_consent(subject)]}
    raise ValueError(f"unknown task action {action!r}")


def decision_to_json(decision: Decision) -> dict[str, Any]:
    """A planner decision as stored in a plan."""
    data = asdict(decision)
    data["disposition"] = str(decision.disposition)
    data["keep_fields"] = list(decision.keep_fields)
    data["retain_until"] = decision.retain_until.isoformat() if decision.retain_until else None
    return data


def _change(item: dict[str, Any]) -> Change:
    """An approved correction as stored in a plan (which adds who received it)."""
    return Change(category=item["category"], key=item["key"], field=item["field"],
                  old=item["old"], new=item["new"])


def decision_from_json(data: dict[str, Any]) -> Decision:
    """A stored plan item as the decision a connector carries out."""
    until = data.get("retain_until")
    return Decision(
        category=data["category"],
        key=data["key"],
        disposition=Disposition(data["disposition"]),
        keep_fields=tuple(data.get("keep_fields") or ()),
        retain_until=date.fromisoformat(until) if until else None,
        legal_basis=data.get("legal_basis"),
        reason=data.get("reason", ""),
    )


def _hand_to_officer(task_id: int, why: str) -> None:
    """Turns a task the connector cannot do into a manual task for the officer."""
    task = _task(task_id)
    task.status = TaskStatus.MANUAL
    task.error = why
    record_event(task.request, "manual_task", actor="system", note=f"{task.connector}: {why}")
    db.session.commit()
    log.info("request_id=%s connector=%s state=manual", task.request_id, task.connector)


def complete_manual_task(task: ConnectorTask, *, actor: str, note: str,
                         refused: bool = False) -> bool:
    """Records that an officer did a manual task, or refused the part of it the connector
    did not carry out (`refused`, the note then the reasons the person reads), and goes on
    with the request.

    Returns:
        Whether it was settled here: of two officers settling one task at once, one wins.
    """
    result = task.result
    if verifying.fell_short(task):
        result = verifying.resolved(task, how=verifying.REFUSED if refused
                                    else verifying.BY_HAND, actor=actor, reason=note)
    elif refused:
        raise ValueError("only what a connector did not carry out can be refused")
    settled = rows_changed(
        update(ConnectorTask)
        .where(ConnectorTask.id == task.id, ConnectorTask.status == TaskStatus.MANUAL)
        .values(status=TaskStatus.SUCCEEDED, note=note, result=result, finished_at=utcnow()))
    if not settled:
        db.session.rollback()
        return False
    db.session.expire(task)
    record_event(task.request, "part_refused" if refused else "manual_task_done", actor=actor,
                 note=f"{task.connector}: {note}")
    db.session.commit()
    claim_assembly(task.request_id)
    return True


def try_again(task: ConnectorTask, *, actor: str) -> bool:
    """Runs again a task whose records were not carried out: every action is idempotent,
    and its records are read again afterwards as the first time.

    Its attempts count on, so a run given up for dead can never take the new run's lease.

    Returns:
        Whether it was started here (another officer may have settled it meanwhile).
    """
    if not verifying.fell_short(task):
        raise ValueError("only a task with records not carried out is tried again")
    result = {k: v for k, v in (task.result or {}).items()
              if k not in ("not_carried_out", "resolution")}
    started = rows_changed(
        update(ConnectorTask)
        .where(ConnectorTask.id == task.id, ConnectorTask.status == TaskStatus.MANUAL)
        .values(status=TaskStatus.PENDING, error=None, result=result))
    if not started:
        db.session.rollback()
        return False
    db.session.expire(task)
    record_event(task.request, "task_retried", actor=actor, note=task.connector)
    db.session.commit()
    task.job_id = queues.enqueue(queues.CONNECTORS, queues.RUN_TASK, task.id)
    db.session.commit()
    return True


def _record_failure(task_id: int, exc: Exception) -> None:
    """Records why a task failed and whether it runs again.

    A failure that may pass (the system is down, a timeout, a lock) is waited out with
    growing pauses for TASK_RETRY_WINDOW; any other is tried TASK_MAX_ATTEMPTS times.
    """
    task = _task(task_id)
    # The exception's type and first line: enough to act on, short of dumping query values.
    task.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
    config = current_app.config
    now = utcnow()
    temporary = is_temporary(exc)
    if temporary:
        if task.waiting_since is None:
            task.waiting_since = now
            record_event(task.request, "waiting_for_system", actor="system",
                         note=f"{task.connector}: {type(exc).__name__}")
        again = now - task.waiting_since < timedelta(seconds=config["TASK_RETRY_WINDOW"])
    else:
        task.waiting_since = None  # no longer an outage being waited out
        again = task.attempts < config["TASK_MAX_ATTEMPTS"]
    log.warning(
        "request_id=%s connector=%s state=error attempt=%d temporary=%s again=%s error_type=%s",
        task.request_id, task.connector, task.attempts, temporary, again, type(exc).__name__,
    )
    if again:
        # Waiting out an outage has no end in attempts, so never a zero pause; a lasting
        # failure has its few attempts, each a little later.
        delay = (retry_delay(task.attempts, config["TASK_RETRY_DELAY"],
                             config["TASK_RETRY_MAX_DELAY"]) if temporary
                 else config["TASK_RETRY_DELAY"] * task.attempts)
        task.status = TaskStatus.PENDING
        task.next_attempt_at = now + timedelta(seconds=delay)
        db.session.commit()
        task.job_id = queues.enqueue(queues.CONNECTORS, queues.RUN_TASK, task.id, delay=delay)
    else:
        task.status = TaskStatus.FAILED
        task.finished_at = now
        note = f"{task.connector}: {task.error}"
        record_event(task.request, "task_failed", actor="system", note=note)
    db.session.commit()


#: The error of a task whose worker died under it (killed, out of memory, its machine gone).
WORKER_LOST = "the worker running this task stopped before it finished"


def stayed_away(request: DsarRequest) -> bool:
    """Whether the request failed only because systems could not be reached: some task
    failed, and each that did had been waiting out an outage until the retry window closed.

    Anything else (a bug, a refused query, bad data, a task that kept killing its workers)
    is no system out of reach, and the person is not told it was.
    """
    failed = [task for task in request.tasks if task.status == TaskStatus.FAILED]
    return bool(failed) and all(task.waiting_since is not None and task.error != WORKER_LOST
                                for task in failed)


def worker_lost(task_id: int, stale_before: datetime) -> None:
    """For the sweep: a running task whose lease lapsed runs again at once.

    Its worker died (killed, out of memory, its machine gone); that may well not happen
    again. A task that keeps killing its workers is paced by the sweep and given up once
    TASK_RETRY_WINDOW has passed, like a system that stays down. The task is taken back
    only if it is still the run the sweep saw lapse: one that ended or beat meanwhile is
    left alone.
    """
    task = _task(task_id)
    now = utcnow()
    since = task.waiting_since or now
    window = timedelta(seconds=current_app.config["TASK_RETRY_WINDOW"])
    give_up = now - since >= window and task.waiting_since is not None
    error = WORKER_LOST
    taken = rows_changed(
        update(ConnectorTask)
        .where(
            ConnectorTask.id == task_id,
            ConnectorTask.status == TaskStatus.RUNNING,
            ConnectorTask.attempts == task.attempts,
            func.coalesce(ConnectorTask.heartbeat_at, ConnectorTask.updated_at) < stale_before,
        )
        .values(status=TaskStatus.FAILED if give_up else TaskStatus.PENDING, error=error,
                waiting_since=since, next_attempt_at=None,
                finished_at=now if give_up else None)
    )
    db.session.commit()
    if not taken:
        return
    task = _task(task_id)
    log.warning("request_id=%s connector=%s state=worker-lost attempt=%d gave_up=%s",
                task.request_id, task.connector, task.attempts, give_up)
    if give_up:
        record_event(task.request, "task_failed", actor="system",
                     note=f"{task.connector}: {error}")
        db.session.commit()
        claim_assembly(task.request_id)
        return
    task.job_id = queues.enqueue(queues.CONNECTORS, queues.RUN_TASK, task.id)
    db.session.commit()


def waiting_for(request: DsarRequest) -> list[str]:
    """The connectors whose systems the request is waiting for, after a failure that may
    pass."""
    return sorted({t.connector for t in request.tasks
                   if t.status == TaskStatus.PENDING and t.waiting_since is not None})


def claim_assembly(request_id: str) -> bool:
    """Enqueues the answer once every task has ended; of racing callers, exactly one wins.

    Returns:
        Whether this call enqueued it.
    """
    open_tasks = db.session.scalar(
        select(db.func.count())
        .select_from(ConnectorTask)
        .where(ConnectorTask.request_id == request_id, ConnectorTask.status.not_in(TASK_ENDS))
    )
    if open_tasks:
        return False
    claimed = rows_changed(
        update(DsarRequest)
        .where(DsarRequest.id == request_id, DsarRequest.assembly_started_at.is_(None))
        .values(assembly_started_at=utcnow())
    )
    db.session.commit()
    if claimed:
        queues.enqueue(queues.ANSWERS, queues.ASSEMBLE_ANSWER, request_id)
    return bool(claimed)
