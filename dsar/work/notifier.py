"""Art. 19: telling the recipients of personal data about its correction or erasure.

The notifier is pluggable through the `dsar.notifiers` entry points and chosen by the
RECIPIENT_NOTIFIER setting; the built-in one mails each recipient at its `notices_to` in
the recipients register (or, for a name the register lacks, in RECIPIENT_ADDRESSES). Each
recipient is told once per request, however often a job runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from importlib.metadata import entry_points
from typing import Any

from flask import current_app

from dsar.models import DsarRequest, OutgoingMail
from dsar.work import mails
from dsar.work.rules import recipients_register

ENTRY_POINT_GROUP = "dsar.notifiers"


class Notifier(ABC):
    """Tells one recipient what changed in data it received."""

    @abstractmethod
    def notify(self, request: DsarRequest, recipient: str, notice: dict[str, Any]) -> None:
        """Owes the recipient a notice; the caller commits. Must be idempotent per request and
        `notice["occasion"]` (absent for the request's own notices)."""


class MailNotifier(Notifier):
    """Mails the notice to the recipient's privacy address, through dsar's own mail queue."""

    def notify(self, request: DsarRequest, recipient: str, notice: dict[str, Any]) -> None:
        """Owes a mail of kind notice:<recipient>, sent once per request and occasion (an
        erasure that carries on later tells again, of what it did then)."""
        address = register_addresses().get(recipient.lower()) or recipient_addresses().get(
            recipient.lower())
        if address is None:
            raise LookupError(f"no address for recipient {recipient!r} in the recipients "
                              "register or RECIPIENT_ADDRESSES")
        occasion = f" {notice['occasion']}" if notice.get("occasion") else ""
        owed = mails.owe(request, mails.notice_kind(recipient + occasion), to_address=address)
        owed.payload = {"recipient": recipient, **notice}


def register_addresses() -> dict[str, str]:
    """Where each recipient of the register takes notices, by lower-cased name."""
    return {r.name.lower(): r.notices_to for r in recipients_register().recipients
            if r.notices_to}


def recipient_addresses() -> dict[str, str]:
    """RECIPIENT_ADDRESSES ("Name=address, Name=address") by lower-cased name."""
    pairs = (item.split("=", 1) for item in current_app.config["RECIPIENT_ADDRESSES"].split(","))
    return {
        pair[0].strip().lower(): pair[1].strip()
        for pair in pairs if len(pair) == 2 and pair[0].strip() and pair[1].strip()
    }


def get_notifier() -> Notifier:
    """The notifier named by RECIPIENT_NOTIFIER."""
    name = current_app.config["RECIPIENT_NOTIFIER"]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            notifier: Notifier = ep.load()()
            return notifier
    raise LookupError(f"no notifier called {name!r} is installed")


def owed_notices(request: DsarRequest) -> list[OutgoingMail]:
    """The notices a request owes or sent, for the outcome letter."""
    return [m for m in mails.owed_mails(request) if m.kind.startswith(mails.NOTICE_PREFIX)]
