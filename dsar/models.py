"""dsar's own tables: requests, their connector tasks, mails, events, officers and API tokens."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from flask import abort
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsar.clock import utcnow
from dsar.extensions import db
from dsar.policy.lifecycle import ACCESS_TYPES, RequestStatus, RequestType, TaskStatus


def _new_id() -> str:
    """A request id nobody can guess or count through."""
    return uuid.uuid4().hex


def is_request_id(value: str) -> bool:
    """Whether a string has the form of a request id (32 lower-case hex digits)."""
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def request_or_404(request_id: str) -> DsarRequest:
    """The request with that id, or a 404; an id of the wrong form never reaches the database."""
    if not is_request_id(request_id):
        abort(404, description="No request with that id.")
    found: DsarRequest = db.get_or_404(DsarRequest, request_id,
                                       description="No request with that id.")
    return found


class DsarRequest(db.Model):  # type: ignore[name-defined,misc]
    """One data subject request, from receipt to answer."""

    __tablename__ = "dsar_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    type: Mapped[RequestType] = mapped_column(String(20))
    status: Mapped[RequestStatus] = mapped_column(
        String(30), default=RequestStatus.AWAITING_VERIFICATION, index=True
    )
    email: Mapped[str] = mapped_column(String(320), index=True)  # normalised
    name: Mapped[str | None] = mapped_column(String(200))
    # The language the request was made in; every later page and mail about it follows it.
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    customer_number: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(index=True)
    verified_at: Mapped[datetime | None]
    # The one verification link that is valid; cleared when used, so a link works once.
    verification_nonce: Mapped[str | None] = mapped_column(String(64))
    # Set by the one task job that saw every task end, so the answer is assembled once.
    assembly_started_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    # The answer's JSON is stored first and mailed at once; its PDF is rendered after, in a
    # job of its own that holds a lease (its heartbeat), and is on the same page when ready.
    json_ready_at: Mapped[datetime | None]
    document_ready_at: Mapped[datetime | None]
    document_started_at: Mapped[datetime | None]
    document_heartbeat_at: Mapped[datetime | None]
    document_job_id: Mapped[str | None] = mapped_column(String(64))
    document_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    document_error: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # Rectification: the corrections asked for, by field.
    corrections: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Restriction: the Art. 18(1) ground, and when the officer lifted it.
    restriction_ground: Mapped[str | None] = mapped_column(String(40))
    restriction_lifted_at: Mapped[datetime | None]
    # Objection: what it is aimed at (dsar.policy.objections.ObjectionTo).
    objection_to: Mapped[str | None] = mapped_column(String(30))
    # Erasure and rectification: what will be done, per connector, shown before approval.
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(320))
    # Art. 12(3): one extension, with reasons, before the first month ends.
    extended_at: Mapped[datetime | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    denial_reason: Mapped[str | None] = mapped_column(Text)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), index=True)
    # Art. 15(4): passages of an access answer the officer withheld, each with a reason.
    redactions: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    # Records the officer had erased as past their period while the answer was pending:
    # {connector, category, key, on}. The answer lists them as held, "erased on <day>".
    erased_past_period: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    released_by: Mapped[str | None] = mapped_column(String(320))
    # The stored answer lives until its last link expires, or until the same person's
    # erasure completes; then it is deleted and the reason kept ("expired", "erased").
    answer_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    answer_deleted_at: Mapped[datetime | None]
    answer_deleted_reason: Mapped[str | None] = mapped_column(String(20))

    # A second request of the same kind, confirmed while this person's first was open,
    # joins that one instead of running again.
    joined_to_id: Mapped[str | None] = mapped_column(ForeignKey("dsar_requests.id"))

    assigned_to: Mapped[Officer | None] = relationship()

    tasks: Mapped[list[ConnectorTask]] = relationship(
        back_populates="request", order_by="ConnectorTask.connector", cascade="all, delete-orphan"
    )
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id", cascade="all, delete-orphan"
    )

    @property
    def asks_for_data(self) -> bool:
        """Whether the answer is the person's data (access, portability) rather than a letter
        about what was done (erasure, correction, objection, restriction): the words of
        every page and mail about the request follow it."""
        return self.type in ACCESS_TYPES


class ConnectorTask(db.Model):  # type: ignore[name-defined,misc]
    """One connector's part of a request: one action in one system."""

    __tablename__ = "connector_tasks"
    __table_args__ = (UniqueConstraint("request_id", "connector", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("dsar_requests.id"), index=True)
    connector: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[TaskStatus] = mapped_column(String(20), default=TaskStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(64))
    # What the connector found or did, kept until the answer is made.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # For an action task: that connector's part of the approved plan.
    plan: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # For a manual task: what the officer wrote when completing it.
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]
    # The lease of a running task: taken when a worker starts it (the attempt number is
    # the lease's token), renewed by a heartbeat while the connector works. A lease not
    # renewed within SWEEP_STALE_AFTER means the worker died: the sweep runs it again.
    claimed_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    # A task waiting out a failure that may pass: when it may run again, and since when
    # its system has been failing (TASK_RETRY_WINDOW counts from there).
    next_attempt_at: Mapped[datetime | None]
    waiting_since: Mapped[datetime | None]

    request: Mapped[DsarRequest] = relationship(back_populates="tasks")


class RequestEvent(db.Model):  # type: ignore[name-defined,misc]
    """An entry of the audit trail: a status change, a decision, a mail, a download, a sign-in.

    Append-only, and chained: each entry's hash covers its content and the previous entry's
    hash, so a changed or deleted entry breaks the chain (`dsar audit verify`).
    """

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Empty for events of no request, such as an officer's sign-in.
    request_id: Mapped[str | None] = mapped_column(ForeignKey("dsar_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))  # "requester", "system", an officer's e-mail
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    request: Mapped[DsarRequest | None] = relationship(back_populates="events")


class AuditHead(db.Model):  # type: ignore[name-defined,misc]
    """The newest hash of the audit trail, in one row that every append locks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(default=0)


class OutgoingMail(db.Model):  # type: ignore[name-defined,misc]
    """A mail dsar owes somebody; one row per (request, kind), so it is sent once."""

    __tablename__ = "outgoing_mails"
    __table_args__ = (
        UniqueConstraint("request_id", "kind"),
        Index("ix_outgoing_mails_pending", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("dsar_requests.id"))
    kind: Mapped[str] = mapped_column(String(120))
    # Empty for mails to the requester; a recipient's address for an Art. 19 notice.
    to_address: Mapped[str | None] = mapped_column(String(320))
    # What a notice tells its recipient, fixed when it is owed.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    # When the next attempt may start. A delivery claims the mail by moving it forward,
    # so two jobs for one mail (a retry and the sweep) never both send it.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    # Why a mail was not sent after all: its purpose passed (never a failure to send).
    dropped_reason: Mapped[str | None] = mapped_column(String(120))


class Officer(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    """A privacy officer who may see and act on requests; an admin also manages officers."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20), default="officer")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Base32 TOTP secret once a second factor is set up.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The time step of the last code accepted: that code, and any older one, is spent.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="officer")


class SignInLock(db.Model):  # type: ignore[name-defined,misc]
    """Failed sign-ins to one officer's account from one client address, and the lock.

    Counted per account *and* address: a stranger guessing passwords locks out only
    themselves, never the officer signing in from elsewhere.
    """

    __tablename__ = "sign_in_locks"
    __table_args__ = (UniqueConstraint("email", "client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))  # normalised
    client: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]


class SignInThrottle(db.Model):  # type: ignore[name-defined,misc]
    """Failed sign-ins to one account from all places together, and its throttle.

    Keyed by the address tried, whether or not an officer has it, so the throttle tells a
    stranger nothing about which accounts exist. A browser an officer signed in with before is
    not throttled (dsar.web.throttle): the account is slowed down for strangers, never locked.
    """

    __tablename__ = "sign_in_throttles"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)  # normalised
    window_started_at: Mapped[datetime]
    failures: Mapped[int] = mapped_column(default=0)
    throttled_until: Mapped[datetime | None]
    # Attempts refused during the current or last throttle, for the officer to see.
    refused: Mapped[int] = mapped_column(default=0)


class ApiToken(db.Model):  # type: ignore[name-defined,misc]
    """An officer's API token; only its SHA-256 is kept, so a database leak reveals none."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    officer: Mapped[Officer] = relationship(back_populates="tokens")


class RetentionHold(db.Model):  # type: ignore[name-defined,misc]
    """A record kept under a legal duty after an erasure, to be erased when the duty ends."""

    __tablename__ = "retention_holds"
    __table_args__ = (UniqueConstraint("connector", "category", "record_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("dsar_requests.id"), index=True)
    connector: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(200))
    retain_until: Mapped[date] = mapped_column(index=True)
    legal_basis: Mapped[str] = mapped_column(Text)
    erased_at: Mapped[datetime | None]

    request: Mapped[DsarRequest] = relationship()


class DeferredErasure(db.Model):  # type: ignore[name-defined,misc]
    """A record an erasure could not touch because a contract still ran, to be erased (or
    minimised) by the periodic job once it has ended: the person need not ask again."""

    __tablename__ = "deferred_erasures"
    __table_args__ = (UniqueConstraint("request_id", "connector", "category", "record_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("dsar_requests.id"), index=True)
    connector: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When it was carried out, and what was done: erased, minimised, or gone (the shop
    # itself removed the record meanwhile).
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))

    request: Mapped[DsarRequest] = relationship()


class Suppression(db.Model):  # type: ignore[name-defined,misc]
    """An address that must get no offers: only a keyed hash of it, never the address."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(40))  # erasure, objection, withdrawal


class StoredFile(db.Model):  # type: ignore[name-defined,misc]
    """A file dsar keeps for a request (an answer, a connector's findings), sealed in chunks.

    Kept in the database, not on a disk, so every web and worker machine reaches it with no
    shared volume, and a backup holds it only encrypted.
    """

    __tablename__ = "stored_files"
    __table_args__ = (UniqueConstraint("request_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("dsar_requests.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]  # bytes of plaintext
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredChunk(db.Model):  # type: ignore[name-defined,misc]
    """One sealed piece of a stored file, read one at a time so no file is held whole."""

    __tablename__ = "stored_chunks"
    __table_args__ = (UniqueConstraint("file_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="CASCADE"))
    seq: Mapped[int]
    key_id: Mapped[str] = mapped_column(String(16))
    data: Mapped[bytes] = mapped_column(LargeBinary)
