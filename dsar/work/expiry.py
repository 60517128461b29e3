"""Storage limitation (Art. 5(1)(e)): records kept past their period, erased on the
officer's word.

An access answer that finds records past the period their retention rule gives them tells
the officer (`over_retention`). The officer can have them erased in one audited step: every
system is read afresh, each record past its period is erased, or, where a legal duty still
keeps part of it, minimised to that part and held until the duty ends
(`RetentionRule.past`); each is read back like any erasure (`verifying`), and the recipients
that had it are told (Art. 19). A pending answer still lists what was held when the request
came in, with the day each such record was erased (`DsarRequest.erased_past_period`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

from flask import current_app
from sqlalchemy import select

from dsar.clock import utcnow
from dsar.connector import Decision, Disposition, Outcome, Record, Subject
from dsar.extensions import db
from dsar.models import DsarRequest, RequestEvent
from dsar.policy.lifecycle import ACCESS_TYPES
from dsar.policy.retention import RetentionRule
from dsar.registry import current_registry
from dsar.transitions import record_event
from dsar.work import holds, mails, notices, queues, verifying
from dsar.work.content import OVER_RETENTION
from dsar.work.notifier import get_notifier
from dsar.work.rules import retention_rules
from dsar.work.tasks import decision_to_json

log = logging.getLogger(__name__)

ERASE_PAST_PERIOD = "dsar.work.jobs.erase_past_period"
#: The events of the step: asked for by the officer, done per system, not read back.
ASKED = "past_period_erasure"
DONE = "past_period_erased"
NOT_DONE = "past_period_not_carried_out"


class ExpiryRefused(Exception):
    """The step cannot be taken now; the message says why."""


def ask(request: DsarRequest, *, officer: str) -> None:
    """Has the records an access answer found past their period erased, in a job."""
    if request.type not in ACCESS_TYPES:
        raise ExpiryRefused("Only an access answer finds records past their period.")
    found = db.session.scalar(select(RequestEvent.id).where(
        RequestEvent.request_id == request.id, RequestEvent.kind == OVER_RETENTION).limit(1))
    if found is None:
        raise ExpiryRefused("This request's answer found no records past their period.")
    record_event(request, ASKED, actor=officer)
    db.session.commit()
    if queues.enqueue(queues.MAINTENANCE, ERASE_PAST_PERIOD, request.id) is None:
        raise ExpiryRefused("The job queue cannot be reached: nothing was erased; try again "
                            "in a moment.")


def erase_past_period(request_id: str) -> int:
    """Erases, system by system, the person's records past their period; returns how many
    were erased or minimised and read back so. Runs again harmlessly: a record erased
    before is no longer found, one minimised before is no longer past its period."""
    request = db.session.get(DsarRequest, request_id)
    if request is None:
        return 0
    email, today, rules = request.email, utcnow().date(), retention_rules()
    held = {name: holds.held_keys(email, name) for name in current_registry().names}
    db.session.commit()  # no transaction is held while the systems are read
    carried_out: list[tuple[str, Record, Outcome]] = []
    erased: list[dict[str, str]] = []
    # Everything is read before anything is erased: an account erased first would hide
    # the subscriptions found through it.
    found: dict[str, list[Record]] = {}
    for name in current_registry().names:
        try:
            connector = current_registry().create(name, current_app.config)
            found[name] = list(connector.export(Subject(email=email, held=held[name])))
        except Exception:  # that system stays as it was; the officer may ask again
            log.exception("request_id=%s connector=%s state=past-period-read-failed",
                          request_id, name)
            record_event(request, NOT_DONE, actor="system", note=f"{name}: failed")
            db.session.commit()
    for name, records in found.items():
        decided = [(record, decision) for record in records
                   if (decision := _decision(record, rules, today, held[name]))]
        if not decided:
            continue
        try:
            connector = current_registry().create(name, current_app.config)
            decisions = [decision for _, decision in decided]
            reported = {(o.category, o.key): o
                        for o in connector.erase(Subject(email=email), decisions)}
            left = {(item["category"], item["key"])
                    for item in verifying.erasure_left(connector, Subject(email=email),
                                                       decisions)}
        except Exception:  # that system stays as it was; the officer may ask again
            db.session.rollback()
            log.exception("request_id=%s connector=%s state=past-period-erasure-failed",
                          request_id, name)
            record_event(request, NOT_DONE, actor="system", note=f"{name}: failed")
            db.session.commit()
            continue
        before = len(erased)
        for record, decision in decided:
            identity = (record.category, record.key)
            if identity in left:
                record_event(request, NOT_DONE, actor="system",
                             note=f"{name}: {record.category} {record.key}")
                continue
            minimised = decision.disposition is Disposition.MINIMISE
            carried_out.append((name, record, reported.get(identity) or Outcome(
                record.category, record.key, "minimised" if minimised else "erased")))
            if minimised:
                holds.hold(request, name, decision_to_json(decision))
            erased.append({"connector": name, "category": record.category, "key": record.key,
                           "on": today.isoformat()})
        record_event(request, DONE, actor="system", note=f"{name}: {len(erased) - before} records")
        db.session.commit()
    _remember(request, erased)
    _tell(request, carried_out)
    db.session.commit()
    mails.dispatch_unsent(request)
    log.info("request_id=%s state=past-period-erased records=%d", request_id, len(erased))
    return len(erased)


def _decision(record: Record, rules: Mapping[str, RetentionRule], today: date,
              held: Mapping[str, tuple[str, ...]]) -> Decision | None:
    """What becomes of one record past its period; None for one kept as its rule says, or
    already held by law after an erasure (that hold ends by itself)."""
    rule = rules.get(record.category)
    if rule is None or record.key in held.get(record.category, ()):
        return None
    stage = rule.past(record.data, today)
    if stage is None:
        return None
    if not stage.fields:
        return Decision(record.category, record.key, Disposition.ERASE,
                        reason="Its retention period has ended.")
    return Decision(record.category, record.key, Disposition.MINIMISE,
                    keep_fields=stage.fields, retain_until=stage.end,
                    legal_basis=stage.legal_basis,
                    reason="Its retention period has ended; the law keeps part of it.")


def _remember(request: DsarRequest, erased: list[dict[str, str]]) -> None:
    """Notes on the request what was erased, for its pending answer; each record once."""
    known = {(i["connector"], i["category"], i["key"]) for i in request.erased_past_period or []}
    request.erased_past_period = [*(request.erased_past_period or []), *(
        item for item in erased
        if (item["connector"], item["category"], item["key"]) not in known)]


def _tell(request: DsarRequest, carried_out: list[tuple[str, Record, Outcome]]) -> None:
    """Owes each recipient that had an erased or minimised record a notice (Art. 19)."""
    occasion = f"past-period-{utcnow().isoformat(timespec='seconds')}"
    notifier = get_notifier()
    for recipient, listed in sorted(notices.for_records(carried_out).items()):
        notifier.notify(request, recipient, {"items": listed, "occasion": occasion})
