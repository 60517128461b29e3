"""The retention planner: what an erasure does to each record, under the shop's duties.

Pure policy: no Flask, no database, no clock. Given the records the connectors found, the
rules from config/retention.toml and today's date, it decides per record: erase, minimise
(keep only what a legal duty needs, until a date), retain, or blocked (a contract still
runs). The officer sees this plan before approving; the outcome letter repeats it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from dsar.connector import Decision, Disposition, Record, translatable
from dsar.policy.retention import RetentionRule

NO_RULE = translatable(
    "No retention rule covers this kind of data, so the privacy officer decides.")
CONTRACT_RUNS = translatable("You still have {what}; your account is needed for it.")
STILL_IN_USE = translatable("It is still in use.")
#: The plan is the officer's, in English; the person's letter says its reasons in the
#: person's language (`reworded`).
_CONTRACT_RUNS = re.compile(re.escape(CONTRACT_RUNS).replace(r"\{what\}", "(?P<what>.+)"))


def _decide(record: Record, rule: RetentionRule | None, today: date) -> Decision:
    """Decides one record by its own rule, before links between records are looked at."""
    if rule is None:
        return Decision(record.category, record.key, Disposition.BLOCKED, reason=NO_RULE)
    if rule.on_erasure == "erase":
        return Decision(record.category, record.key, Disposition.ERASE,
                        reason="Nothing obliges us to keep it.")
    # The duty's end as every other document computes it (RetentionRule.stages).
    until = rule.duty_end(record.data)
    if until is None:
        return Decision(record.category, record.key, Disposition.BLOCKED,
                        reason=rule.pending or STILL_IN_USE)
    if until <= today:
        return Decision(record.category, record.key, Disposition.ERASE,
                        reason=f"The legal duty to keep it ended on {until.isoformat()}.")
    return Decision(
        record.category, record.key, Disposition.MINIMISE,
        keep_fields=rule.keep, retain_until=until, legal_basis=rule.legal_basis,
        reason=f"The law obliges us to keep part of it until {until.isoformat()}; "
        "everything else is erased now.",
    )


def plan_erasure(
    records: Iterable[Record], rules: Mapping[str, RetentionRule], today: date
) -> list[Decision]:
    """Decides what an erasure does to every record found, in the order given.

    Args:
        records: what the connectors exported for the subject.
        rules: the retention rules by category.
        today: the day the plan is made; retention periods end relative to it.

    Returns:
        One decision per record.
    """
    records = list(records)
    decisions = {(r.category, r.key): _decide(r, rules.get(r.category), today) for r in records}

    for record in records:
        rule = rules.get(record.category)
        if rule is None or rule.follows is None:
            continue
        parent_category, link = rule.follows
        parent = decisions.get((parent_category, str(record.data.get(link))))
        if parent is not None and parent.disposition is Disposition.BLOCKED:
            decisions[(record.category, record.key)] = Decision(
                record.category, record.key, Disposition.BLOCKED, reason=parent.reason
            )

    for record in records:
        rule = rules.get(record.category)
        if rule is None or not rule.needs_no_contract:
            continue
        running = _running_contracts(records, decisions, rules, rule.needs_no_contract, record.key)
        if running:
            decisions[(record.category, record.key)] = Decision(
                record.category, record.key, Disposition.BLOCKED,
                reason=CONTRACT_RUNS.format(what=" and ".join(running)),
            )
    return [decisions[(r.category, r.key)] for r in records]


def _running_contracts(
    records: list[Record],
    decisions: Mapping[tuple[str, str], Decision],
    rules: Mapping[str, RetentionRule],
    link: str,
    account: str,
) -> list[str]:
    """Names the contracts of one account that still run: records it names, blocked as pending.

    A closed account whose old orders are done is not held back by a new account's contract,
    and a guest order holds back no account.
    """
    running = set()
    for record in records:
        decision = decisions[(record.category, record.key)]
        rule = rules.get(record.category)
        if (
            decision.disposition is Disposition.BLOCKED and rule is not None and rule.pending
            and record.data.get(link) == account
        ):
            running.add(rule.contract or record.category)
    return sorted(running)


def reworded(reason: str, translate: Callable[[str], str]) -> str:
    """A decision's reason in the words `translate` gives: a fixed reason or a rule's text
    through the catalogue, the running contracts of CONTRACT_RUNS each on its own."""
    running = _CONTRACT_RUNS.fullmatch(reason)
    if running is None:
        return translate(reason)
    what = translate(" and ").join(translate(name) for name in running["what"].split(" and "))
    return translate(CONTRACT_RUNS).format(what=what)
