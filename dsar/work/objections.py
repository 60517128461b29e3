"""Objections (Art. 21): what an objection stops, once the connectors have found what there is.

An objection exports first, as an erasure does, so the officer and the letter know what was
there. Then:

- one to **direct marketing** (Art. 21(2)-(3), Art. 7(3)) needs nobody's approval: every
  system holding the person's marketing data gets a task to stop the offers
  (`withdraw_consent`, or a manual task saying what to do there), a system that holds their
  data without saying on which ground gets a manual "check this system" task, and each
  recipient in the register that receives marketing data is told to stop (an Art. 21
  notice). The request completes only when every one of those tasks is done.
- one on grounds of the person's **particular situation** (Art. 21(1)) waits for the officer,
  who sees the categories resting on legitimate interests. Upheld, each is erased (through
  the retention planner, minimised where a legal duty applies) or restricted, as the officer
  chooses; rejected, the letter gives the officer's compelling legitimate grounds and the
  complaint route. Meanwhile the person is told they may ask for restriction (Art. 18(1)(d)).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from dsar.answer import findings
from dsar.answer.wording import category_title, connector_title, translate
from dsar.clock import iso, utcnow
from dsar.connector import Connector, LegalBasis, Record
from dsar.extensions import db
from dsar.models import ConnectorTask, DsarRequest
from dsar.policy.lifecycle import RequestStatus, RequestType, TaskStatus
from dsar.policy.objections import OBJECTION_TARGETS, ObjectionTo, Stop, choice_problem
from dsar.policy.planner import plan_erasure
from dsar.registry import current_registry
from dsar.transitions import record_event, transition
from dsar.work import mails, verifying
from dsar.work.content import BASIS_UNKNOWN, forget_findings
from dsar.work.notices import Notices, flag_unplaced, receivers_of
from dsar.work.notifier import get_notifier
from dsar.work.plans import ACTING
from dsar.work.rules import retention_rules
from dsar.work.tasks import add_tasks, decision_to_json, enqueue_pending

#: A notice's `about` for an Art. 21 notice (the others are Art. 19 notices).
DIRECT_MARKETING_NOTICE = "direct_marketing"


def objection_to(request: DsarRequest) -> ObjectionTo:
    """What an objection is aimed at; one made before there was a choice is one to direct
    marketing."""
    return ObjectionTo(request.objection_to or ObjectionTo.DIRECT_MARKETING)


def needs_plan(request: DsarRequest) -> bool:
    """Whether an objection has gathered what there is and its next step is still to be
    decided."""
    return request.type == RequestType.OBJECTION and request.plan is None


def make_plan(request: DsarRequest) -> None:
    """After the export: stops the offers, or puts the objection to the officer."""
    if objection_to(request) is ObjectionTo.DIRECT_MARKETING:
        _stop_offers(request)
    else:
        _put_to_officer(request)


def _connector(name: str) -> type[Connector] | None:
    """The installed connector of that name, or None when it is gone."""
    try:
        return current_registry().get_class(name)
    except KeyError:
        return None


def _found(request: DsarRequest) -> list[tuple[ConnectorTask, type[Connector], dict[str, int]]]:
    """Each export task with its connector and the categories it found records of."""
    found = []
    for task in request.tasks:
        cls = _connector(task.connector)
        if task.action == "export" and cls is not None:
            counts = {name: int(summary["count"])
                      for name, summary in findings.counts(task.result).items()}
            found.append((task, cls, counts))
    return found


def _stop_offers(request: DsarRequest) -> None:
    """Gives every system that holds the person's marketing data its task, a manual "check"
    task to every one that does not say on which ground it holds their data, and owes the
    recipients of marketing data their notices once it is all done."""
    withdraw: dict[str, list[dict[str, Any]] | None] = {}
    offers: list[dict[str, Any]] = []
    notices: Notices = defaultdict(list)
    checks: dict[str, list[str]] = {}
    for task, cls, counts in _found(request):
        declared = {category.name: category for category in cls.categories}
        marketing = [name for name in counts
                     if name in declared and declared[name].direct_marketing]
        baseless = [name for name in counts if name not in declared or not declared[name].basis]
        # A connector that can withdraw consent is always asked: it is harmless where
        # there is nothing, and finds a consent an export may not show.
        if marketing or cls.supports("withdraw_consent"):
            withdraw[task.connector] = None
        if baseless:
            checks[task.connector] = baseless
        for category in marketing:
            offers.append({"connector": task.connector, "category": category,
                           "records": counts[category]})
            for item in findings.records(request.id, task.id, category):
                _tell_of_objection(notices, task.connector, category, item["data"])
    request.plan = {"made_at": iso(utcnow()), "connectors": {}, "objection": {
        "to": str(ObjectionTo.DIRECT_MARKETING), "offers": offers, "notices": dict(notices)}}
    forget_findings(request)
    add_tasks(request, "withdraw_consent", withdraw)
    for name, baseless in checks.items():
        checked = _connector(name)
        titles = ", ".join(checked.category_title(category) for category in baseless
                           ) if checked else ""
        add_manual_task(
            request, name, "check",
            f"{checked.title if checked else name} holds this person's {titles} without saying "
            "on which ground of Art. 6(1) (Category.basis): check whether any of it is used "
            "for offers or other direct marketing, stop that by hand, then complete this task")
    # A new phase: its tasks end in a new fan-in.
    request.assembly_started_at = None
    db.session.commit()
    enqueue_pending(request)


def _tell_of_objection(notices: Notices, connector: str, category: str,
                       data: Mapping[str, Any]) -> None:
    """Adds a marketing record to the Art. 21 notices of the recipients that received it."""
    for receiver in receivers_of(connector, category, data):
        item = {"connector": connector, "category": category, "known": receiver["known"],
                "fields": []}
        if item not in notices[receiver["name"]]:
            notices[receiver["name"]].append(item)


def _put_to_officer(request: DsarRequest) -> None:
    """Lists the person's categories that rest on legitimate interests, with the retention
    planner's decisions were they erased, and waits for the officer; tells the person they
    may ask for restriction meanwhile."""
    categories, unknown = [], []
    held: dict[str, list[str]] = {}
    records: list[tuple[str, Record]] = []
    for task, cls, counts in _found(request):
        declared = {category.name: category for category in cls.categories}
        held[task.connector] = sorted(counts)
        for name, count in counts.items():
            category = declared.get(name)
            if category is None or not category.basis:
                unknown.append(f"{task.connector}.{name}")
            if category is None or LegalBasis.LEGITIMATE_INTERESTS not in category.basis:
                continue
            categories.append({"connector": task.connector, "category": name,
                               "records": count})
            records.extend((task.connector, Record(name, item["key"], item["data"]))
                           for item in findings.records(request.id, task.id, name))
    decisions = plan_erasure([record for _, record in records], retention_rules(),
                             utcnow().date())
    connectors: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (connector, record), decision in zip(records, decisions, strict=True):
        connectors[connector].append({**decision_to_json(decision), "receivers": receivers_of(
            connector, record.category, record.data)})
    flag_unplaced(request, [(connector, record.category, record.key, record.data)
                            for connector, record in records])
    request.plan = {"made_at": iso(utcnow()), "connectors": dict(connectors), "objection": {
        "to": str(ObjectionTo.LEGITIMATE_INTERESTS), "categories": categories, "held": held}}
    forget_findings(request)
    if unknown:
        # Whether the person may object to these cannot be worked out: the officer must.
        record_event(request, BASIS_UNKNOWN, actor="system", note=", ".join(unknown))
    transition(request, RequestStatus.AWAITING_APPROVAL, actor="system",
               note="an objection on grounds of the person's situation, for the officer")
    owed = mails.owe(request, mails.MailKind.OBJECTION_WEIGHED)
    db.session.commit()
    mails.dispatch(owed)


def add_manual_task(request: DsarRequest, connector: str, action: str, why: str) -> None:
    """Adds a task only the officer can do, saying what; the caller commits."""
    if any((t.connector, t.action) == (connector, action) for t in request.tasks):
        return
    request.tasks.append(ConnectorTask(connector=connector, action=action,
                                       status=TaskStatus.MANUAL, error=why))
    record_event(request, "manual_task", actor="system", note=f"{connector}: {why}")


def awaits_officer(request: DsarRequest) -> bool:
    """Whether an objection on grounds of the person's situation waits for the officer."""
    return (request.type == RequestType.OBJECTION
            and objection_to(request) is ObjectionTo.LEGITIMATE_INTERESTS
            and request.status == RequestStatus.AWAITING_APPROVAL
            and "decision" not in _objection(request))


def _objection(request: DsarRequest) -> dict[str, Any]:
    """The objection's part of the plan."""
    return dict((request.plan or {}).get("objection") or {})


def _listed(request: DsarRequest) -> set[str]:
    """The categories ("connector.category") the objection concerns."""
    return {f"{c['connector']}.{c['category']}" for c in _objection(request).get(
        "categories", [])}


def refusal(request: DsarRequest, choices: object) -> str | None:
    """Why the officer's choices cannot uphold the objection, or None."""
    return choice_problem(_listed(request), {} if choices is None else choices)


def uphold(request: DsarRequest, *, officer: str, choices: Mapping[str, str]) -> None:
    """Upholds the objection: each category is erased through the retention planner's
    decisions, or restricted, as the officer chose (checked by `refusal`)."""
    erase = {name for name, how in choices.items() if how == Stop.ERASE}
    restrict = {name for name, how in choices.items() if how == Stop.RESTRICT}
    plan = dict(request.plan or {})
    # What is not erased leaves the plan: the letter and the Art. 19 notices follow it.
    connectors = {
        name: kept for name, items in plan.get("connectors", {}).items()
        if (kept := [item for item in items if f"{name}.{item['category']}" in erase])
    }
    chosen = "; ".join(f"{name}: {how}" for name, how in sorted(choices.items())) or "nothing"
    request.plan = {**plan, "connectors": connectors,
                    "objection": {**_objection(request), "decision": "upheld",
                                  "choices": dict(choices)}}
    record_event(request, "objection_upheld", actor=officer, note=chosen)
    transition(request, RequestStatus.IN_PROGRESS, actor=officer, note="objection upheld")
    request.approved_at = utcnow()
    request.approved_by = officer
    add_tasks(request, "erase", {
        name: acting for name, items in connectors.items()
        if (acting := [item for item in items if item["disposition"] in ACTING])})
    _restrict(request, restrict)
    request.assembly_started_at = None
    db.session.commit()
    enqueue_pending(request)


def _restrict(request: DsarRequest, restrict: set[str]) -> None:
    """Restricts the chosen categories: through the connector where its `restrict` marks no
    more than them (it marks all it holds of the person), else by the officer's hand."""
    held = _objection(request).get("held", {})
    by_connector: dict[str, list[str]] = defaultdict(list)
    for name in sorted(restrict):
        connector, category = name.split(".", 1)
        by_connector[connector].append(category)
    for connector, categories in by_connector.items():
        cls = _connector(connector)
        if cls is not None and cls.supports("restrict") and set(
                held.get(connector, [])) <= set(categories):
            add_tasks(request, "restrict", {connector: None})
            continue
        titles = ", ".join(cls.category_title(c) if cls else c for c in categories)
        add_manual_task(
            request, connector, "restrict",
            f"The objection was upheld (Art. 21(1)): stop using this person's {titles} in "
            f"{cls.title if cls else connector}, keep it stored only, by hand, then complete "
            "this task")


def reject(request: DsarRequest, *, officer: str, grounds: str) -> None:
    """Rejects the objection with the compelling legitimate grounds in the officer's words;
    the letter gives them and the complaint route."""
    request.plan = {**(request.plan or {}), "connectors": {},
                    "objection": {**_objection(request), "decision": "rejected",
                                  "grounds": grounds}}
    record_event(request, "objection_rejected", actor=officer, note=grounds)
    transition(request, RequestStatus.IN_PROGRESS, actor=officer, note="objection rejected")
    request.assembly_started_at = None
    db.session.commit()
    enqueue_pending(request)


def erases(request: DsarRequest) -> bool:
    """Whether the objection was upheld by erasing: its letter lists what was erased, kept
    and blocked as an erasure's does."""
    return _objection(request).get("decision") == "upheld"


def stops_offers(request: DsarRequest) -> bool:
    """Whether the request is an objection to direct marketing."""
    return request.type == RequestType.OBJECTION and objection_to(
        request) is ObjectionTo.DIRECT_MARKETING


def conclude(request: DsarRequest) -> dict[str, Any]:
    """The objection's part of the outcome letter, in the language in force; owes the Art. 21
    notices of an objection to direct marketing."""
    objection = _objection(request)
    target = objection_to(request)
    letter: dict[str, Any] = {"to": str(target), "what": translate(OBJECTION_TARGETS[target])}
    if target is ObjectionTo.DIRECT_MARKETING:
        # A system whose withdrawal the officer refused did not stop: it is no "stopped"
        # line but a refusal, which the outcome letter lists with the reasons.
        kept_on = {task.connector for task in request.tasks
                   if task.action == "withdraw_consent" and verifying.refused(task)}
        letter["offers"] = [_titled(item) for item in objection.get("offers", [])
                            if item["connector"] not in kept_on]
        letter["checked"] = sorted({connector_title(t.connector) for t in request.tasks
                                    if t.action == "check"})
        letter["recipients_told"] = _tell_of_marketing(request, objection.get("notices", {}))
        return letter
    decision = objection.get("decision")
    letter["decision"] = decision
    choices = objection.get("choices", {})
    letter["categories"] = [
        {**_titled(item), "stopped": choices.get(f"{item['connector']}.{item['category']}")}
        for item in objection.get("categories", [])]
    letter["grounds"] = objection.get("grounds") if decision == "rejected" else None
    letter["restricted"] = [
        {"system": connector_title(task.connector),
         "category": category_title(task.connector, item["category"]), "key": item["key"]}
        for task in request.tasks
        if task.action == "restrict" and task.status == TaskStatus.SUCCEEDED
        for item in (task.result or {}).get("outcomes", []) if item["done"] == "restricted"
        and verifying.standing(task, item["category"], item["key"])[0] != verifying.REFUSED]
    return letter


def _titled(item: Mapping[str, Any]) -> dict[str, Any]:
    """A category the objection concerned, as the person reads it."""
    return {"system": connector_title(item["connector"]),
            "category": category_title(item["connector"], item["category"]),
            "records": item["records"]}


def _tell_of_marketing(request: DsarRequest, notices: Mapping[str, list[dict[str, Any]]]
                       ) -> list[str]:
    """Owes each recipient of the person's marketing data one Art. 21 notice."""
    notifier = get_notifier()
    for recipient, items in sorted(notices.items()):
        notifier.notify(request, recipient, {"items": items, "about": DIRECT_MARKETING_NOTICE})
    return sorted(notices)
