"""Retention rules as data, checked as they are parsed (the file is read by dsar.work.rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from dsar.connector import is_cleared
from dsar.policy.deadlines import add_months, parse_day

_KEYS = {
    "policy", "on_erasure", "anchor", "retain_years", "pending", "keep", "legal_basis",
    "follows", "needs_no_contract", "contract", "kept",
}
_KEPT_KEYS = {"until", "after", "years", "months", "open"}


def day_of(value: object) -> date | None:
    """The day a record's date field holds: a date, a date-time, an ISO string, or None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_day(value)


@dataclass(frozen=True)
class Kept:
    """How long a record is kept in the normal course, by the policy: until a date of its
    own (`until`: an account until it is closed), or for a period after one (`after`, plus
    `years` and `months`); `open` says it in words while that date is not there yet."""

    open: str
    until: str | None = None
    after: str | None = None
    years: int = 0
    months: int = 0

    def end(self, data: Mapping[str, object]) -> date | None:
        """The day the record's keeping ends, or None while it runs on (`open`)."""
        field = self.until or self.after
        day = day_of(data.get(field)) if field else None
        if day is None or self.until:
            return day
        return add_months(day, 12 * self.years + self.months)


@dataclass(frozen=True)
class RetentionRule:
    """What an erasure does to one category, and how long a legal duty keeps it."""

    category: str
    policy: str
    on_erasure: str
    anchor: str | None = None
    retain_years: int | None = None
    pending: str | None = None
    contract: str | None = None
    keep: tuple[str, ...] = ()
    legal_basis: str | None = None
    follows: tuple[str, str] | None = None  # (category, linking field)
    # For an account: the field by which contract records name it; blocked while one runs.
    needs_no_contract: str | None = None
    # How long a record is kept in the normal course; None when the policy sets no period.
    kept: Kept | None = None

    def stages(self, data: Mapping[str, object]) -> list[Stage]:
        """The stages of one record's keeping, in order, from this one rule: the whole
        record for as long as `kept` says, then, where a legal duty lasts longer, only the
        fields it needs (`keep`) until `anchor` + `retain_years`. Every document that shows
        a record's dates (the access answer, the plan, the outcome letter, later answers)
        takes them from here, so none can disagree with another.
        """
        stages = []
        if self.kept is not None:
            stages.append(Stage((), self.kept.end(data), self.kept.open))
        duty = self.duty_end(data)
        if self.on_erasure == "minimise" and (not stages or duty != stages[0].end):
            stages.append(Stage(self.keep, duty, self.kept.open if self.kept else "",
                                self.legal_basis))
        return stages

    def past(self, data: Mapping[str, object], today: date) -> Stage | None:
        """The stage a record should be in by now, when it holds more than that stage
        keeps: an empty Stage when every stage has ended (it should be gone), the last
        stage when only the whole record's has (it should keep only that stage's fields),
        None when it is kept as the rule says."""
        stages = self.stages(data)
        if not stages:
            return None
        last = stages[-1]
        if last.end is not None and last.end < today:
            return Stage((), last.end, "")
        ended = [stage for stage in stages[:-1] if stage.end is not None and stage.end < today]
        return last if ended and holds_more(data, last.fields) else None

    def duty_end(self, data: Mapping[str, object]) -> date | None:
        """The day a legal duty to keep part of the record ends; None without one, or while
        the date it runs from is not there yet."""
        if self.on_erasure != "minimise" or not self.anchor or not self.retain_years:
            return None
        anchor = day_of(data.get(self.anchor))
        return add_months(anchor, 12 * self.retain_years) if anchor else None


@dataclass(frozen=True)
class Stage:
    """One stage of a record's keeping, as one rule gives it.

    Attributes:
        fields: what stays in this stage; empty for the whole record.
        end: the day the stage ends, or None while the date it runs from is not there.
        open: the stage's end in words, while `end` is None.
        legal_basis: for a stage a legal duty imposes, which duty (Art. 17(3)(b)).
    """

    fields: tuple[str, ...]
    end: date | None
    open: str
    legal_basis: str | None = None


def holds_more(data: Mapping[str, object], kept: tuple[str, ...]) -> bool:
    """Whether a record holds anything beyond the fields a stage keeps."""
    return bool(kept) and any(not is_cleared(value)  # type: ignore[arg-type]
                              for name, value in data.items() if name not in kept)


class RetentionRulesError(ValueError):
    """The rules file says something the planner cannot act on."""


def parse_rules(data: Mapping[str, object]) -> dict[str, RetentionRule]:
    """Turns the parsed TOML into rules, refusing unknown keys and incomplete duties."""
    rules = {}
    for category, raw in data.items():
        if not isinstance(raw, dict):
            raise RetentionRulesError(f"[{category}] must be a table")
        unknown = set(raw) - _KEYS
        if unknown:
            names = ", ".join(sorted(unknown))
            raise RetentionRulesError(f"[{category}] has unknown keys: {names}")
        if raw.get("on_erasure") not in {"erase", "minimise"}:
            raise RetentionRulesError(f"[{category}] on_erasure must be 'erase' or 'minimise'")
        if raw["on_erasure"] == "minimise" and not (
            raw.get("anchor") and raw.get("retain_years") and raw.get("keep")
            and raw.get("legal_basis")
        ):
            raise RetentionRulesError(
                f"[{category}] a minimised category needs anchor, retain_years, keep "
                "and legal_basis"
            )
        follows = raw.get("follows")
        kept = raw.get("kept")
        if isinstance(kept, dict) and not (kept.get("until") or kept.get("after")) and (
                raw.get("anchor") and raw.get("retain_years")):
            # The legal duty's own period: one number for the planner and the answer.
            kept = {**kept, "after": raw["anchor"], "years": raw["retain_years"]}
        if kept is not None and not (
            isinstance(kept, dict) and not set(kept) - _KEPT_KEYS and kept.get("open")
            and bool(kept.get("until")) != bool(kept.get("after"))
        ):
            raise RetentionRulesError(
                f"[{category}] kept needs `open` and either `until` or `after` (with years "
                "or months), or a category's anchor and retain_years to run from")
        if isinstance(kept, dict) and kept.get("after") == raw.get("anchor") and int(
                kept.get("years", 0)) * 12 + int(kept.get("months", 0)) > 12 * int(
                raw.get("retain_years") or 0) and raw.get("on_erasure") == "minimise":
            raise RetentionRulesError(
                f"[{category}] the legal duty cannot end before the record's own keeping")
        rules[category] = RetentionRule(
            category=category,
            policy=str(raw.get("policy", "")),
            on_erasure=raw["on_erasure"],
            anchor=raw.get("anchor"),
            retain_years=raw.get("retain_years"),
            pending=raw.get("pending"),
            contract=raw.get("contract"),
            keep=tuple(raw.get("keep", ())),
            legal_basis=raw.get("legal_basis"),
            follows=(follows["category"], follows["by"]) if follows else None,
            needs_no_contract=raw.get("needs_no_contract"),
            kept=Kept(open=kept["open"], until=kept.get("until"), after=kept.get("after"),
                      years=int(kept.get("years", 0)), months=int(kept.get("months", 0)))
            if kept else None,
        )
    return rules

