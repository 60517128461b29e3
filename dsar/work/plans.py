"""Plans and approval: erasure and rectification show the officer what they will do first.

After the connectors have found what there is, the plan is made (the retention planner's
decisions, or the corrections per record) and the request waits for approval. Approval
creates one action task per connector that has something to do.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from dsar.answer import findings
from dsar.clock import iso, utcnow
from dsar.connector import Disposition, Record
from dsar.extensions import db
from dsar.models import DsarRequest
from dsar.policy.lifecycle import RequestStatus, RequestType
from dsar.policy.planner import plan_erasure
from dsar.transitions import transition
from dsar.work.content import forget_findings
from dsar.work.notices import flag_unplaced, receivers_of
from dsar.work.rules import retention_rules
from dsar.work.tasks import add_tasks, decision_to_json, enqueue_pending

#: The action that carries out an approved plan, per request type.
PLAN_ACTION = {RequestType.ERASURE: "erase", RequestType.RECTIFICATION: "rectify"}

#: Dispositions that need the connector to do something.
ACTING = {str(Disposition.ERASE), str(Disposition.MINIMISE)}


def needs_plan(request: DsarRequest) -> bool:
    """Whether the request has gathered its facts and still waits for a plan."""
    return RequestType(request.type) in PLAN_ACTION and request.plan is None


def make_plan(request: DsarRequest) -> None:
    """Makes the plan from the tasks' findings and waits for approval (or approves)."""
    if request.type == RequestType.ERASURE:
        connectors = _erasure_plan(request)
    else:
        connectors = _rectification_plan(request)
    request.plan = {"made_at": iso(utcnow()), "connectors": connectors}
    # The plan holds what is needed to act; the data the connectors found may go.
    forget_findings(request)
    transition(request, RequestStatus.AWAITING_APPROVAL, actor="system")
    db.session.commit()
    if request.type == RequestType.ERASURE and not current_app.config["ERASURE_REQUIRES_APPROVAL"]:
        approve(request, actor="system")


def _erasure_plan(request: DsarRequest) -> dict[str, list[dict[str, Any]]]:
    """The retention planner's decisions, per connector.

    All connectors' records are planned together: an account is blocked by a running
    contract that another connector holds.
    """
    found = [
        (task.connector, Record(category, item["key"], item["data"]))
        for task in request.tasks
        for category in findings.counts(task.result)
        for item in findings.records(request.id, task.id, category)
    ]
    decisions = plan_erasure([record for _, record in found], retention_rules(), utcnow().date())
    plan: dict[str, list[dict[str, Any]]] = {task.connector: [] for task in request.tasks}
    for (connector, record), decision in zip(found, decisions, strict=True):
        # Who had the record, and knows it by what: the notices need it after it is gone.
        plan[connector].append({**decision_to_json(decision),
                                "receivers": receivers_of(connector, record.category,
                                                          record.data)})
    # A blocked record is erased once its contract ends, and its recipients told then.
    flag_unplaced(request, [(connector, record.category, record.key, record.data)
                            for (connector, record), decision in zip(found, decisions,
                                                                     strict=True)
                            if decision.disposition is not Disposition.RETAIN])
    return plan


def _rectification_plan(request: DsarRequest) -> dict[str, list[dict[str, Any]]]:
    """The corrections the connectors would make, per connector.

    A correction given with its record (`Change.record`) is kept with who received that
    record and how they know it, as an erasure's is; the record itself is not kept.
    """
    plan: dict[str, list[dict[str, Any]]] = {}
    records = []
    for task in request.tasks:
        plan[task.connector] = []
        for change in (task.result or {}).get("changes", []):
            record = change.pop("record", None)
            if record is not None:
                change["receivers"] = receivers_of(task.connector, change["category"], record)
                records.append((task.connector, change["category"], change["key"], record))
            plan[task.connector].append(change)
    flag_unplaced(request, records)
    return plan


def approve(request: DsarRequest, *, actor: str) -> None:
    """Carries out the approved plan: one task per connector with something to do."""
    transition(request, RequestStatus.IN_PROGRESS, actor=actor, note="plan approved")
    request.approved_at = utcnow()
    request.approved_by = actor
    action = PLAN_ACTION[RequestType(request.type)]
    connectors = (request.plan or {}).get("connectors", {})
    plans = {
        name: [item for item in items if action != "erase" or item["disposition"] in ACTING]
        for name, items in connectors.items()
    }
    add_tasks(request, action, {name: items for name, items in plans.items() if items})
    # A new phase: its tasks end in a new fan-in.
    request.assembly_started_at = None
    db.session.commit()
    enqueue_pending(request)
