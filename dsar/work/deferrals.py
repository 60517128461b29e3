"""Erasures that carry on by themselves once the contract that blocked them has ended.

An erasure cannot take an order still being delivered, an active subscription, or the
account they belong to. Those records are not left for ever, nor is the person made to ask
again: each is kept here, and the periodic retention job plans it again by the same rules
once a day's data says the contract is over, carries out what the plan now says (erase,
or minimise and hold), and writes the person a short follow-up letter.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from dsar import i18n
from dsar.answer.wording import category_title, translate
from dsar.clock import utcnow
from dsar.connector import Decision, Disposition, Outcome, Record, Subject
from dsar.extensions import db
from dsar.models import DeferredErasure, DsarRequest
from dsar.policy.planner import NO_RULE, plan_erasure, reworded
from dsar.registry import current_registry
from dsar.transitions import record_event
from dsar.work import holds, mails, notices, verifying
from dsar.work.notifier import get_notifier
from dsar.work.rules import retention_rules
from dsar.work.tasks import decision_to_json

log = logging.getLogger(__name__)

#: The event of a deferred record that did not read back erased once its contract ended.
NOT_ERASED = "erasure_not_carried_out"


def defer(request: DsarRequest, connector: str, decision: Mapping[str, Any]) -> bool:
    """Keeps a blocked record of an erasure to carry on with later; the caller commits.

    Returns:
        Whether it will carry on by itself: yes for a running contract, no for data no rule
        covers (the officer decides that).
    """
    if decision["reason"] == NO_RULE:
        return False
    exists = db.session.scalar(select(DeferredErasure.id).where(
        DeferredErasure.request_id == request.id, DeferredErasure.connector == connector,
        DeferredErasure.category == decision["category"],
        DeferredErasure.record_key == decision["key"]))
    if exists is None:
        db.session.add(DeferredErasure(
            request_id=request.id, connector=connector, category=decision["category"],
            record_key=decision["key"], reason=decision["reason"]))
    return True


def resume_due(today: date | None = None) -> int:
    """Carries on every deferred erasure whose contract has ended; returns how many records
    were resolved. One request failing (a system down) leaves the others to go on."""
    today = today or utcnow().date()
    waiting = db.session.scalars(
        select(DeferredErasure).where(DeferredErasure.resolved_at.is_(None))
        .order_by(DeferredErasure.id)
    ).all()
    by_request: dict[str, list[DeferredErasure]] = defaultdict(list)
    for item in waiting:
        by_request[item.request_id].append(item)
    resolved = 0
    for request_id, items in by_request.items():
        try:
            resolved += _resume(request_id, items, today)
        except Exception:  # recorded; the next run tries again
            db.session.rollback()
            log.exception("request_id=%s state=deferred-erasure-failed", request_id)
    return resolved


def _resume(request_id: str, items: list[DeferredErasure], today: date) -> int:
    """Plans one request's deferred records again and carries out what is no longer blocked.

    Each system's erasure is committed with its holds as soon as it is done, so a system
    failing after it cannot undo the record of what the others did.
    """
    request = db.session.get(DsarRequest, request_id)
    if request is None:
        return 0
    email, held = request.email, {name: holds.held_keys(request.email, name)
                                  for name in current_registry().names}
    db.session.commit()  # no transaction is held while the systems are read
    found = _everything_of(email, held)
    # The whole of the person's records, as at the first plan: an account waits on the
    # contracts of other systems.
    decisions = plan_erasure([record for _, record in found], retention_rules(), today)
    planned = {(connector, record.category, record.key): decision
               for (connector, record), decision in zip(found, decisions, strict=True)}
    records = {(connector, record.category, record.key): record for connector, record in found}
    due: dict[str, list[tuple[DeferredErasure, Decision]]] = defaultdict(list)
    now = utcnow()
    for item in items:
        decision = planned.get((item.connector, item.category, item.record_key))
        if decision is None:  # the shop removed it meanwhile: nothing is left to erase
            item.resolved_at, item.outcome = now, "gone"
        elif decision.disposition in (Disposition.ERASE, Disposition.MINIMISE):
            due[item.connector].append((item, decision))
    db.session.commit()
    letter: list[dict[str, Any]] = []
    carried_out: list[tuple[str, Record, Outcome]] = []
    for connector_name, pairs in due.items():
        try:
            connector = current_registry().create(connector_name, current_app.config)
            decided = [decision for _, decision in pairs]
            done = {(o.category, o.key): o for o in connector.erase(Subject(email=email),
                                                                    decided)}
            # Read again: only what shows it is told to the person as done.
            left = {(item["category"], item["key"]) for item in verifying.erasure_left(
                connector, Subject(email=email), decided)}
        except Exception:  # that system stays as it was; the next run tries it again
            db.session.rollback()
            log.exception("request_id=%s connector=%s state=deferred-erasure-failed",
                          request_id, connector_name)
            continue
        for item, decision in pairs:
            if (item.category, item.record_key) in left:
                # Not resolved: the next run tries it again; the trail says so once and
                # the officers' digest lists it.
                note = f"{connector_name}: {item.category} {item.record_key}"
                if not holds.noted(request.id, NOT_ERASED, note):
                    record_event(request, NOT_ERASED, actor="system", note=note)
                continue
            result = done.get((item.category, item.record_key))
            # Whatever the connector says, the record was dealt with: never tried hourly again.
            item.resolved_at, item.outcome = now, result.done if result else "unchanged"
            if result is None or result.done not in ("erased", "minimised"):
                continue
            carried_out.append(
                (connector_name, records[(connector_name, item.category, item.record_key)],
                 result))
            if result.done == "minimised":
                holds.hold(request, connector_name, decision_to_json(decision))
            with i18n.for_request(request.language):
                letter.append(_letter_item(connector_name, item, decision, result.done))
        db.session.commit()
    if letter:
        _tell(request, letter, carried_out, now)
    resolved = sum(1 for item in items if item.resolved_at is not None)
    log.info("request_id=%s state=deferred-erasure-resumed resolved=%d", request_id, resolved)
    return resolved


def _tell(request: DsarRequest, letter: list[dict[str, Any]],
          carried_out: list[tuple[str, Record, Outcome]], now: datetime) -> None:
    """Owes the person the follow-up letter and the recipients their notices (Art. 19),
    each its own mail for this run, then sends them."""
    occasion = now.isoformat(timespec="seconds")
    owed = mails.owe(request, f"{mails.FOLLOW_UP_PREFIX}{occasion}")
    owed.payload = {"items": letter}
    record_event(request, "erasure_carried_on", actor="system",
                 note=f"{len(letter)} records, their contracts ended")
    notifier = get_notifier()
    for recipient, listed in sorted(notices.for_records(carried_out).items()):
        notifier.notify(request, recipient, {"items": listed, "occasion": occasion})
    db.session.commit()
    mails.dispatch_unsent(request)


def _everything_of(email: str, held: Mapping[str, dict[str, tuple[str, ...]]]
                   ) -> list[tuple[str, Record]]:
    """Every record of the person in every system, those kept by law found by key."""
    found: list[tuple[str, Record]] = []
    registry = current_registry()
    for name in registry.names:
        connector = registry.create(name, current_app.config)
        subject = Subject(email=email, held=held.get(name, {}))
        found.extend((name, record) for record in connector.export(subject))
    return found


def _letter_item(connector: str, item: DeferredErasure, decision: Decision,
                 outcome: str) -> dict[str, Any]:
    """One line of the follow-up letter."""
    return {
        "category": category_title(connector, item.category), "key": item.record_key,
        "done": outcome,
        "was_blocked": reworded(item.reason, translate),
        "retained_until": decision.retain_until.isoformat() if decision.retain_until else None,
        "legal_basis": translate(decision.legal_basis or "") or None,
    }
