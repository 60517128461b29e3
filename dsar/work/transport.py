"""How a mail leaves: through SMTP when a server is set, else into the outbox folder."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_mail import Message

from dsar.answer.storage import write_atomically
from dsar.clock import utcnow
from dsar.extensions import mail


def send(message: Message, *, name: str) -> None:
    """Sends a message, or writes it as `<time>-<name>.eml` when no SMTP server is set.

    Raises:
        Exception: whatever SMTP raises; the caller records it and tries again later.
    """
    if current_app.config["MAIL_SERVER"]:
        mail.send(message)
        return
    outbox = Path(current_app.config["OUTBOX_DIR"])
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    write_atomically(outbox / f"{stamp}-{name}.eml", message.as_bytes())
