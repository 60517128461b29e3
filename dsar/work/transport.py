"""How a mail leaves: through SMTP when a server is set, else into the outbox folder."""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from flask_mail import Message

from dsar.clock import utcnow
from dsar.extensions import mail

log = logging.getLogger(__name__)


def send(message: Message, *, name: str) -> None:
    """Sends a message, or writes it as `<time>-<name>.eml` when no SMTP server is set.

    Raises:
        Exception: whatever SMTP raises; the caller records it and tries again later.
    """
    if current_app.config["MAIL_SERVER"]:
        _send_smtp(message)
        return
    outbox = Path(current_app.config["OUTBOX_DIR"])
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    outbox.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name, then renamed: a reader never sees half a mail.
    fd, tmp = tempfile.mkstemp(dir=outbox, prefix=".mail-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(message.as_bytes())
    os.replace(tmp, outbox / f"{stamp}-{name}.eml")


def _send_smtp(message: Message) -> None:
    """Hands a message to the SMTP server, within MAIL_TIMEOUT for every step.

    Once the server has accepted the message it is sent, whatever happens on the way out:
    a QUIT that fails or stalls must not make the mail go again.
    """
    accepted = False
    try:
        with _timeout(current_app.config["MAIL_TIMEOUT"]), mail.connect() as connection:
            connection.send(message)
            accepted = True
    except Exception as exc:
        if not accepted:
            raise
        log.warning("mail=accepted state=closing-failed error_type=%s", type(exc).__name__)


@contextmanager
def _timeout(seconds: float) -> Iterator[None]:
    """A default socket timeout while the block runs: Flask-Mail opens its SMTP connection
    with none of its own, and smtplib then takes the default."""
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(before)
