"""The content of an access answer: the request's findings as report sections, with the
passages the officer withheld (Art. 15(4)) replaced by the reason.

The JSON and the PDF are both made from this, so they always say the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from flask import current_app
from flask_babel import gettext

from dsar.answer import findings
from dsar.answer.readable import day_text, labels_of, unlabelled, unlabelled_value
from dsar.answer.report import (
    ERASED_PAST_PERIOD,
    KEPT_BY_LAW,
    PAST_RETENTION,
    Found,
    Section,
    report_head,
)
from dsar.answer.wording import for_connector, localised, translate
from dsar.clock import utcnow
from dsar.connector import Category, translatable
from dsar.models import DsarRequest, RetentionHold
from dsar.policy.deadlines import parse_day
from dsar.policy.recipients import describe
from dsar.policy.retention import Stage
from dsar.registry import current_registry
from dsar.work import holds
from dsar.work.rules import recipients_register, retention_rules

#: The flag a record gets when the officer withheld a passage of it.
WITHHELD = "withheld_by_officer"
#: The event that tells the officer an answer found records kept past their end.
OVER_RETENTION = "over_retention"
#: The event that tells the officer an answer has categories the recipients register lacks.
RECIPIENTS_UNKNOWN = "recipients_unknown"
#: The event that tells the officer an answer found categories without a structured basis.
BASIS_UNKNOWN = "basis_unknown"
#: The event that tells the officer an answer or letter names fields or codes a connector
#: gives no label: they are shown as their names in words, in no language in particular.
LABELS_UNKNOWN = "labels_unknown"
#: What a record says of its keeping when the policy sets no period for its category.
NO_PERIOD = translatable("no period set in our policy")


def answer_content(request: DsarRequest) -> tuple[dict[str, Any], list[Section]]:
    """The report's head and its sections, their records read from the findings on demand.

    The answer is dated by the moment its JSON was stored, so the PDF made later, or made
    again, carries the same date as the JSON. Its words are in the language in force
    (`i18n.for_request`) while the head is made and the records are read.
    """
    sections = _sections(request)
    statement = current_app.config["AUTOMATED_DECISIONS"]
    head = report_head(
        request={
            "id": request.id,
            "type": request.type,
            "email": request.email,
            "received_at": request.received_at,
            "due_at": request.due_at,
            "verified_at": request.verified_at,
        },
        sections=sections,
        controller={
            "name": current_app.config["CONTROLLER_NAME"],
            "contact": current_app.config["CONTROLLER_CONTACT"],
        },
        generated_at=request.json_ready_at or request.received_at,
        automated_decisions=translate(statement),
        language=request.language,
    )
    return head, sections


def recipients_of(connector: str, category: Category) -> tuple[dict[str, Any], ...] | None:
    """Who receives a category, from the recipients register; None when it does not say."""
    named = recipients_register().of_category(f"{connector}.{category.name}")
    if not named:
        return None
    labels = labels_of(category)
    return tuple(
        {"name": recipient.name, "role": recipient.role,
         "purpose": translate(recipient.purpose),
         "country": recipient.country, "outside_eea": recipient.outside_eea,
         "safeguard": translate(recipient.safeguard or "") or None,
         "fields": list(receipt.fields),
         "condition": receipt.condition_in(labels, translate, category.values),
         "text": describe(recipient, receipt, labels, translate, category.values)}
        for recipient, receipt in named
    )


def past_retention(sections: list[Section]) -> str:
    """The records the answer found kept past their end, for the officer: per category how
    many and since when ("orders.orders: 2 records, ended from 2021-03-01"); empty when
    none. Read after the answer's records were read once."""
    lines = []
    for section in sections:
        for found in section.found:
            if found.past_end:
                since = min(item["kept_until"] for item in found.past_end)
                count = len(found.past_end)
                lines.append(f"{section.connector}.{found.category.name}: {count} "
                             f"record{'s' if count != 1 else ''}, ended from {since}")
    return "; ".join(lines)


def without_labels(sections: list[Section]) -> list[str]:
    """The fields and codes of the categories with records that their system gives no
    label, per category ("orders.orders: ship_city, status 'refunded'"). Read after the
    answer's records were read once."""
    lines = []
    for section in sections:
        for found in section.found:
            missing = [*unlabelled(found.category), *sorted(found.unlabelled_values)]
            if found.count and missing:
                lines.append(f"{section.connector}.{found.category.name}: "
                             + ", ".join(missing))
    return lines


def without_basis(sections: list[Section]) -> list[str]:
    """The categories ("connector.category") with records whose system gives no Art. 6(1)
    ground as programs read it (`Category.basis`)."""
    return _found_where(sections, lambda found: not found.category.basis)


def unknown_recipients(sections: list[Section]) -> list[str]:
    """The categories ("connector.category") with records whose recipients are unknown."""
    return _found_where(sections, lambda found: found.recipients is None)


def _found_where(sections: list[Section], test: Callable[[Found], bool]) -> list[str]:
    """The categories ("connector.category") with records for which `test` holds."""
    return [f"{section.connector}.{found.category.name}" for section in sections
            for found in section.found if found.count and test(found)]


def found_records(request: DsarRequest, connector: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every record one connector found for the request, as (category, record), redacted."""
    held = holds.current_holds(request.email, connector)
    for task in request.tasks:
        if task.connector != connector:
            continue
        for category in findings.counts(task.result):
            for record in _reader(request, task.id, connector, category, held)():
                yield category, record


def _sections(request: DsarRequest) -> list[Section]:
    """Per task its connector's section, every declared category in it."""
    registry = current_registry()
    sections = []
    for task in request.tasks:
        cls = registry.get_class(task.connector)
        words = for_connector(cls)
        counted = findings.counts(task.result)
        # Looked up once per system, not per category: one query however many it has.
        held = holds.current_holds(request.email, task.connector) if counted else []
        found = []
        for declared in cls.categories:
            category = localised(declared, words)
            summary = counted.get(category.name, {})
            past_end: list[dict[str, str]] = []
            unlabelled_values: set[str] = set()
            found.append(Found(
                category=category, count=int(summary.get("count", 0)),
                first=summary.get("first"), last=summary.get("last"),
                records=_reader(request, task.id, task.connector, category.name, held,
                                past_end, (category, unlabelled_values))
                if summary else _nothing,
                past_end=past_end, unlabelled_values=unlabelled_values,
                recipients=recipients_of(cls.name, category),
            ))
        sections.append(Section(connector=cls.name, title=words(cls.title), found=found))
    return sections


def _reader(
    request: DsarRequest, task_id: int, connector: str, category: str,
    held: Sequence[RetentionHold],
    past_end: list[dict[str, str]] | None = None,
    codes: tuple[Category, set[str]] | None = None,
) -> Callable[[], Iterator[dict[str, Any]]]:
    """A function that reads one category's records anew each time it is called, each with
    how long it is kept (`held`: the system's records an earlier erasure kept by law); a
    record kept past its end is flagged and noted in `past_end`, and
    a code the category (the first of `codes`) gives no label is noted in the second."""
    request_id, redactions = request.id, list(request.redactions or [])
    rule = retention_rules().get(category)
    today = utcnow().date()
    # Records erased since, as past their period (expiry): listed as they were, with when.
    expired = {item["key"]: item["on"] for item in request.erased_past_period or []
               if (item["connector"], item["category"]) == (connector, category)}
    # Records an earlier erasure kept by law end when that duty ends, and say why.
    by_law = {hold.record_key: (hold.retain_until, hold.legal_basis)
              for hold in held if hold.category == category}

    def read() -> Iterator[dict[str, Any]]:
        if past_end is not None:
            past_end.clear()  # a second reading notes each record once, not twice
        for record in findings.records(request_id, task_id, category):
            record = redact(connector, category, record, redactions)
            if codes is not None:
                codes[1].update(unlabelled_value(codes[0], record["data"]))
            hold = by_law.get(record["key"])
            if hold is not None:
                # Only the duty's stage is left: its fields, its law, its end.
                record["flags"].append(KEPT_BY_LAW)
                stages = [Stage(rule.keep if rule else (), hold[0], "", hold[1])]
            else:
                stages = rule.stages(record["data"]) if rule else []
            record["stages"] = [_stage(stage) for stage in stages]
            last = stages[-1] if stages else None
            end = last.end if last else None
            record["kept_until"] = end.isoformat() if end else None
            record["kept_note"] = (translate(hold[1]) if hold is not None  # why it is kept
                                   else None if end else translate(last.open if last
                                                                   else NO_PERIOD))
            erased_on = expired.get(record["key"])
            if erased_on is not None:
                # Erased since the request came in, as past its period: still listed, said.
                record["flags"].append(ERASED_PAST_PERIOD)
                record["kept_note"] = gettext("erased on %(day)s",
                                              day=day_text(parse_day(erased_on)))
                yield record
                continue
            # Past its period: its last stage ended, or a first stage that kept all of it
            # did while it still holds more than the next one keeps (RetentionRule.past).
            if hold is not None:
                overdue = end is not None and end < today
            else:
                overdue = rule is not None and rule.past(record["data"], today) is not None
            if overdue:
                record["flags"].append(PAST_RETENTION)
                if past_end is not None:
                    ended = min(s.end for s in stages if s.end is not None and s.end < today)
                    past_end.append({"key": record["key"], "kept_until": ended.isoformat()})
            yield record

    return read


def _stage(stage: Stage) -> dict[str, Any]:
    """One stage of a record's keeping as the answer's JSON gives it, in the reader's words."""
    return {
        "fields": list(stage.fields) or "all",
        "until": stage.end.isoformat() if stage.end else None,
        "while": None if stage.end else (translate(stage.open) or None),
        "legal_basis": translate(stage.legal_basis) if stage.legal_basis else None,
    }


def _nothing() -> Iterator[dict[str, Any]]:
    """The records of a category in which nothing was found."""
    return iter(())


def forget_findings(request: DsarRequest) -> None:
    """Deletes what the connectors found: the answer or the plan holds what is needed now,
    or the request ended without either. The caller commits."""
    for task in request.tasks:
        task.result = None
    findings.discard(request.id)


def redact(
    connector: str, category: str, record: dict[str, Any], redactions: list[dict[str, str]]
) -> dict[str, Any]:
    """A record with the passages the officer withheld replaced by the reason.

    The stored findings stay as found: the record read from them is changed, not the file.
    """
    for cut in redactions:
        if (cut["connector"], cut["category"], cut["key"]) != (connector, category,
                                                                 record["key"]):
            continue
        value = record["data"].get(cut["field"])
        if isinstance(value, str):
            record["data"][cut["field"]] = value.replace(
                cut["passage"], f"[withheld: {cut['reason']}]")
            if WITHHELD not in record["flags"]:
                record["flags"].append(WITHHELD)
    return record
