"""How a mail leaves: through SMTP when a server is set, else into the outbox folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import current_app
from flask_mail import Message

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
    outbox.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name, then renamed: a reader never sees half a mail.
    fd, tmp = tempfile.mkstemp(dir=outbox, prefix=".mail-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(message.as_bytes())
    os.replace(tmp, outbox / f"{stamp}-{name}.eml")
