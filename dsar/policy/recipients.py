"""The recipients register as data, checked as it is parsed (dsar.work.rules reads the file).

Who receives which fields of which category, where they are, on what ground data leaves
the EEA, and where Art. 19 notices go: the access answer names recipients from it and the
notices are chosen from it, so both say the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dsar.connector import translatable

#: The European Economic Area: the EU's 27 and Iceland, Liechtenstein and Norway.
EEA = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})

ROLES = {"processor": translatable("processor, working on our instructions"),
         "controller": translatable("which uses it for its own task as well")}
#: The languages a recipient may take its Art. 19 notices in.
NOTICE_LANGUAGES = ("en", "nl")
#: The language of a recipient's notices when its entry gives none: the shop's own for a
#: recipient in the shop's country, English anywhere else.
HOME_LANGUAGES = {"NL": "nl"}

_RECIPIENT_KEYS = {"name", "role", "purpose", "country", "transfer", "safeguard", "notices_to",
                   "language", "receives"}
_RECEIPT_KEYS = {"category", "fields", "known_by", "when"}


class RecipientsRegisterError(ValueError):
    """The register says something that cannot be acted on."""


@dataclass(frozen=True)
class Receipt:
    """What one recipient receives of one category."""

    category: str  # "connector.category"
    fields: tuple[str, ...]  # ("*",) for every field
    known_by: tuple[str, ...] = ()
    when: tuple[str, frozenset[str]] | None = None  # (field, values)

    def covers(self, data: Mapping[str, object]) -> bool:
        """Whether a record of the category goes to the recipient (its `when` holds)."""
        if self.when is None:
            return True
        field, values = self.when
        return str(data.get(field)) in values

    @property
    def condition(self) -> str | None:
        """The `when` in words ("payment method PayPal"), or None when every record goes."""
        if self.when is None:
            return None
        return self.condition_in()

    def condition_in(self, labels: Mapping[str, str] | None = None,
                     translate: Callable[[str], str] = lambda text: text,
                     codes: Mapping[str, Mapping[str, str]] | None = None) -> str | None:
        """The `when` in words, its field by its label in `labels` and its values by their
        labels in `codes` (a category's `values`) where they have one."""
        if self.when is None:
            return None
        field, values = self.when
        named = (codes or {}).get(field, {})
        return translate("{field} {values}").format(
            field=_label(labels or {}, field),
            values=translate(" or ").join(sorted(named.get(value) or value
                                                 for value in values)))

    def received(self, fields: Sequence[str]) -> list[str]:
        """Which of `fields` the recipient receives."""
        return list(fields) if "*" in self.fields else [f for f in fields if f in self.fields]


@dataclass(frozen=True)
class Recipient:
    """One company that receives personal data from the shop."""

    name: str
    role: str
    purpose: str
    country: str
    receives: tuple[Receipt, ...]
    transfer: str | None = None
    safeguard: str | None = None
    notices_to: str | None = None
    language: str = "en"  # of its Art. 19 notices

    @property
    def outside_eea(self) -> str | None:
        """The country outside the EEA the data reaches through this recipient, if any."""
        if self.country not in EEA:
            return self.country
        return self.transfer if self.transfer and self.transfer not in EEA else None


@dataclass(frozen=True)
class Register:
    """Every recipient, looked up by category."""

    recipients: tuple[Recipient, ...]

    def of_category(self, category: str) -> list[tuple[Recipient, Receipt]]:
        """The recipients of a category ("connector.category") and what each receives."""
        return [(recipient, receipt) for recipient in self.recipients
                for receipt in recipient.receives if receipt.category == category]

    def language_of(self, name: str) -> str:
        """The language a recipient takes its notices in (English for one not listed)."""
        return next((r.language for r in self.recipients if r.name.lower() == name.lower()),
                    "en")

    def knows(self, category: str) -> bool:
        """Whether the register says anything of the category."""
        return bool(self.of_category(category))

    def unplaced(self, category: str, data: Mapping[str, object]) -> list[tuple[str, str]]:
        """The values of a record that decide who receives it (a receipt's `when`, such as
        the payment method) and that no receipt of its category names, as (field, value).

        Such a record went to someone the register does not list: nobody would be told of
        its erasure or correction unless an officer finds out who.
        """
        named: dict[str, set[str]] = {}
        for _, receipt in self.of_category(category):
            if receipt.when is not None:
                named.setdefault(receipt.when[0], set()).update(receipt.when[1])
        return [(field, str(data[field])) for field, values in named.items()
                if data.get(field) not in (None, "") and str(data[field]) not in values]


def describe(recipient: Recipient, receipt: Receipt,
             labels: Mapping[str, str] | None = None,
             translate: Callable[[str], str] = lambda text: text,
             codes: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """A recipient of a category as the answer names it, its fields by their `labels` (as
    a person reads them mid-sentence) and their codes by `codes` where they have one, in
    the words `translate` gives."""
    labels = labels or {}
    where = recipient.country
    if recipient.transfer:
        where = translate("{country}, passing it on to {transfer}").format(
            country=recipient.country, transfer=recipient.transfer)
    if "*" in receipt.fields:
        what = translate("all of it")
    else:
        what = ", ".join(dict.fromkeys(_label(labels, field) for field in receipt.fields))
    condition = receipt.condition_in(labels, translate, codes)
    text = translate("{name} ({where}), {role}: {purpose}; receives {what}").format(
        name=recipient.name, where=where, role=translate(ROLES[recipient.role]),
        purpose=translate(recipient.purpose), what=what)
    return text + (translate(" (for {condition})").format(condition=condition)
                   if condition else "")


def _label(labels: Mapping[str, str], field: str) -> str:
    """A field by its label, else its name in words."""
    return labels.get(field) or " ".join(field.replace("_", " ").split())


def parse_register(data: Mapping[str, object]) -> Register:
    """Turns the parsed TOML into the register, refusing unknown keys and unsafe transfers."""
    raw_recipients = data.get("recipients", [])
    if not isinstance(raw_recipients, list):
        raise RecipientsRegisterError("recipients must be an array of tables")
    return Register(tuple(_recipient(raw) for raw in raw_recipients))


def _recipient(raw: object) -> Recipient:
    """One [[recipients]] entry."""
    if not isinstance(raw, dict) or not raw.get("name"):
        raise RecipientsRegisterError("every recipient needs a name")
    name = str(raw["name"])
    unknown = set(raw) - _RECIPIENT_KEYS
    if unknown:
        raise RecipientsRegisterError(f"{name}: unknown keys {', '.join(sorted(unknown))}")
    if raw.get("role") not in ROLES:
        raise RecipientsRegisterError(f"{name}: role must be 'processor' or 'controller'")
    for key in ("purpose", "country"):
        if not raw.get(key):
            raise RecipientsRegisterError(f"{name}: {key} is required")
    country = str(raw["country"]).upper()
    language = str(raw.get("language") or HOME_LANGUAGES.get(country, "en"))
    if language not in NOTICE_LANGUAGES:
        raise RecipientsRegisterError(
            f"{name}: language must be one of {', '.join(NOTICE_LANGUAGES)}")
    recipient = Recipient(
        name=name, role=raw["role"], purpose=str(raw["purpose"]),
        country=country,
        transfer=str(raw["transfer"]).upper() if raw.get("transfer") else None,
        safeguard=raw.get("safeguard") or None, notices_to=raw.get("notices_to") or None,
        language=language,
        receives=tuple(_receipt(name, item) for item in raw.get("receives", [])),
    )
    if recipient.outside_eea and not recipient.safeguard:
        raise RecipientsRegisterError(
            f"{name}: data reaches {recipient.outside_eea}, outside the EEA; name the "
            "safeguard (Art. 45 or 46 GDPR)")
    if not recipient.receives:
        raise RecipientsRegisterError(f"{name}: receives names no category")
    if recipient.notices_to and not all(receipt.known_by for receipt in recipient.receives):
        raise RecipientsRegisterError(
            f"{name}: takes notices, so each receives entry needs known_by, the fields it "
            "knows a record by")
    return recipient


def _receipt(name: str, raw: object) -> Receipt:
    """One entry of a recipient's `receives`."""
    if not isinstance(raw, dict):
        raise RecipientsRegisterError(f"{name}: each receives entry must be a table")
    unknown = set(raw) - _RECEIPT_KEYS
    if unknown:
        raise RecipientsRegisterError(f"{name}: unknown keys {', '.join(sorted(unknown))}")
    category = str(raw.get("category", ""))
    if category.count(".") != 1 or not raw.get("fields"):
        raise RecipientsRegisterError(
            f"{name}: each receives entry needs category = 'connector.category' and fields")
    when = raw.get("when")
    if when is not None and not (isinstance(when, dict) and when.get("field") and when.get("is")):
        raise RecipientsRegisterError(f"{name}: when needs a field and the values it 'is'")
    return Receipt(
        category=category, fields=tuple(raw["fields"]), known_by=tuple(raw.get("known_by", ())),
        when=(str(when["field"]), frozenset(map(str, when["is"]))) if when else None,
    )
