"""Requests through the real app: intake, confirmation, approval, and their timelines.

The benchmark acts as the person and the officer would, in the driver's app context:
`dsar.web.intake.submit` stores a request and owes its verification mail; confirming calls
`dsar.web.verification.confirm` with the signed token the mail carries (verified_at is set,
the request goes to verified and in progress, the tasks are committed and enqueued); an
officer's approval is `dsar.work.decisions.approve`. The workers do the rest.

Every figure comes from what the service recorded, never from the benchmark's polling:
`DsarRequest.verified_at` (the confirmation), the JSON answer's readiness (the
`json_ready_at` column when the model has one, else the mtime of REPORTS_DIR/<id>/report.json),
`DsarRequest.answered_at`, and the answer mail's `OutgoingMail.sent_at`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.bench.services import Session

OFFICER = "bench-officer@cplus.example"
DONE_STATUSES = frozenset({"completed", "failed", "denied", "expired"})
#: The request types whose answer has a PDF made after its mail.
ACCESS = frozenset({"access", "portability"})


@dataclass
class Timeline:
    """What the service recorded for one request (naive UTC datetimes)."""

    id: str
    type: str
    status: str
    verified_at: datetime | None = None
    plan_ready_at: datetime | None = None
    approved_at: datetime | None = None
    json_ready_at: datetime | None = None
    answered_at: datetime | None = None
    mailed_at: datetime | None = None
    failure: str | None = None
    document_error: str | None = None  # the PDF could not be made, and why
    #: When the PDF was stored: its own column since the mail goes out with the JSON; before,
    #: the PDF was made before the request was answered (answered_at).
    document_ready_at: datetime | None = None
    document_known: bool = False  # whether the model has document_ready_at

    @property
    def pdf_at(self) -> datetime | None:
        """When the answer's PDF was stored."""
        return self.document_ready_at if self.document_known else self.answered_at

    @property
    def with_pdf(self) -> bool:
        """Answered, and the PDF was made (not delivered as JSON alone)."""
        return self.pdf_at is not None and self.document_error is None

    def seconds(self, start: str, end: str) -> float | None:
        """Seconds between two of the recorded moments, None when either is missing."""
        a, b = getattr(self, start), getattr(self, end)
        return None if a is None or b is None else (b - a).total_seconds()

    @property
    def mailed(self) -> bool:
        """The answer went out."""
        return self.status == "completed" and self.mailed_at is not None

    @property
    def ended(self) -> bool:
        """Nothing more will happen: mailed, or failed, denied, expired."""
        return self.mailed or self.status in DONE_STATUSES - {"completed"}

    @property
    def settled(self) -> bool:
        """Ended, and an answer's PDF made or given up on (it follows the mail)."""
        return self.ended and (self.status != "completed" or self.with_pdf
                               or self.document_error is not None or self.type not in ACCESS)

    @property
    def planned(self) -> bool:
        """An erasure's plan waits for the officer (or it ended otherwise)."""
        return self.status == "awaiting_approval" or self.ended


class Driver:
    """Submits, confirms and approves requests, and reads their timelines."""

    def __init__(self, session: Session) -> None:
        """Works in the session's app."""
        if session.app is None:
            raise RuntimeError("the session has no app")
        self.session = session
        self.app = session.app
        #: Says why nothing more can happen (the workers exited), or None; set by the caller.
        self.check: Callable[[], str | None] = lambda: None
        #: What `check` reported while waiting, in order.
        self.problems: list[str] = []
        self._stuck = "timed out"
        from dsar.models import DsarRequest

        # The answer's JSON readiness: a column when the model has one, else the file.
        self.json_column = getattr(DsarRequest, "json_ready_at", None)
        # Why an answer went out without its PDF, where the model records it.
        self.document_error_column = getattr(DsarRequest, "document_error", None)
        self.document_ready_column = getattr(DsarRequest, "document_ready_at", None)
        self.json_source = "DsarRequest.json_ready_at" if self.json_column is not None else (
            "mtime of REPORTS_DIR/<id>/report.json")

    def submit(self, email: str, kind: str = "access") -> str:
        """Stores a request as the intake does; returns its id."""
        from dsar.web.intake import submit

        with self.app.app_context():
            return str(submit({"email": email, "type": kind}).id)

    def submit_many(self, emails: Sequence[str], kind: str = "access") -> list[str]:
        """Submits one request per address."""
        return [self.submit(email, kind) for email in emails]

    def wait_verify_mails(self, ids: Sequence[str], timeout: float = 120) -> None:
        """Waits until the verification mails went out, as they would before anyone clicks."""
        from dsar.extensions import db
        from dsar.models import OutgoingMail

        deadline = time.monotonic() + timeout
        wanted = set(ids)
        while time.monotonic() < deadline:
            with self.app.app_context():
                sent = set(db.session.scalars(
                    select(OutgoingMail.request_id).where(
                        OutgoingMail.kind == "verify", OutgoingMail.sent_at.is_not(None),
                        OutgoingMail.request_id.in_(wanted))))
            if sent >= wanted:
                return
            time.sleep(0.05)
        raise TimeoutError(f"{len(wanted - sent)} verification mails were not sent in time")

    def confirm(self, request_id: str) -> None:
        """Confirms a request through the verification link's own code."""
        from dsar.extensions import db
        from dsar.models import DsarRequest
        from dsar.tokens import Purpose, sign
        from dsar.web.verification import confirm

        with self.app.app_context():
            row = db.session.get(DsarRequest, request_id)
            if row is None:
                raise LookupError(request_id)
            token = sign(Purpose.VERIFY, {"r": row.id, "n": row.verification_nonce or ""})
            db.session.rollback()
            confirm(token)

    def approve(self, request_id: str) -> None:
        """Approves an erasure's plan as an officer does."""
        from dsar.extensions import db
        from dsar.models import DsarRequest
        from dsar.work.decisions import approve

        with self.app.app_context():
            row = db.session.get(DsarRequest, request_id)
            if row is None:
                raise LookupError(request_id)
            approve(row, officer=OFFICER)

    def timelines(self, ids: Sequence[str]) -> dict[str, Timeline]:
        """What the service recorded for these requests."""
        from dsar.extensions import db
        from dsar.models import DsarRequest, OutgoingMail, RequestEvent

        found: dict[str, Timeline] = {}
        columns: list[Any] = [
            DsarRequest.id, DsarRequest.type, DsarRequest.status, DsarRequest.verified_at,
            DsarRequest.approved_at, DsarRequest.answered_at, DsarRequest.failure_reason,
        ]
        optional = [c for c in (self.json_column, self.document_error_column,
                                self.document_ready_column) if c is not None]
        columns.extend(optional)
        with self.app.app_context():
            for chunk in _chunks(list(ids), 500):
                for row in db.session.execute(select(*columns).where(DsarRequest.id.in_(chunk))):
                    extra = dict(zip([c.key for c in optional], row[7:], strict=True))
                    found[row[0]] = Timeline(
                        id=row[0], type=str(row[1]), status=str(row[2]), verified_at=row[3],
                        approved_at=row[4], answered_at=row[5], failure=row[6],
                        json_ready_at=extra.get("json_ready_at"),
                        document_error=extra.get("document_error"),
                        document_ready_at=extra.get("document_ready_at"),
                        document_known=self.document_ready_column is not None,
                    )
                for request_id, sent_at in db.session.execute(
                    select(OutgoingMail.request_id, OutgoingMail.sent_at).where(
                        OutgoingMail.request_id.in_(chunk), OutgoingMail.kind == "answer_ready")
                ):
                    if request_id in found:
                        found[request_id].mailed_at = sent_at
                for event_request, at in db.session.execute(
                    select(RequestEvent.request_id, RequestEvent.at).where(
                        RequestEvent.request_id.in_(chunk),
                        RequestEvent.to_status == "awaiting_approval")
                ):
                    if event_request in found and found[event_request].plan_ready_at is None:
                        found[event_request].plan_ready_at = at
            db.session.rollback()
        if self.json_column is None:
            for timeline in found.values():
                timeline.json_ready_at = _mtime(self.session.reports_dir / timeline.id
                                                / "report.json")
        return found

    def wait(
        self,
        ids: Sequence[str],
        done: Callable[[Timeline], bool],
        timeout: float,
        interval: float = 0.05,
    ) -> tuple[dict[str, Timeline], bool]:
        """Polls until every request is `done`; returns the timelines and whether all were.

        Gives up at the timeout, or as soon as `check` says nothing more can happen.
        """
        deadline = time.monotonic() + timeout
        self._stuck = "timed out"
        while True:
            lines = self.timelines(ids)
            if len(lines) == len(ids) and all(done(line) for line in lines.values()):
                return lines, True
            problem = self.check()
            if problem:
                self.problems.append(problem)
                self._stuck = problem
                return lines, False
            if time.monotonic() >= deadline:
                return lines, False
            time.sleep(interval)

    @property
    def stuck(self) -> str:
        """Why the last wait gave up, if it did: the problem seen, or the timeout."""
        return self._stuck

    def answer_file(self, request_id: str, name: str) -> bytes | None:
        """An answer's file as the person downloads it, or None when there is none.

        Read from REPORTS_DIR when it is there, else through the signed delivery link.
        """
        path = self.session.reports_dir / request_id / name
        if path.is_file():
            return path.read_bytes()
        from dsar.tokens import Purpose, sign

        with self.app.app_context():
            token = sign(Purpose.REPORT, {"r": request_id})
        response = self.app.test_client().get(f"/reports/{token}/{name}")
        return response.get_data() if response.status_code == 200 else None


def _mtime(path: Path) -> datetime | None:
    """A file's modification time as naive UTC, or None when it does not exist."""
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return None
    return datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    """The items in lists of at most `size`."""
    return [items[i:i + size] for i in range(0, len(items), size)]
