"""The background jobs RQ runs. Their names and arguments are a wire format: ids only.

Each runs in an app context of its own and may run twice; the work it calls checks the
rows first, so a repeat does no harm.
"""

from __future__ import annotations

from dsar.work import assembly, deferrals, documents, expiry, holds, mails, reminders, tasks
from dsar.work import sweep as sweeping
from dsar.work.jobcontext import in_app_context


@in_app_context
def run_task(task_id: int) -> None:
    """Runs one connector task."""
    tasks.run_task(task_id)


@in_app_context
def assemble_answer(request_id: str) -> None:
    """Builds the answer of a request whose tasks have all ended."""
    assembly.assemble(request_id)


@in_app_context
def render_document(request_id: str) -> None:
    """Renders the PDF of an answer whose JSON is stored, then delivers the answer."""
    documents.render(request_id)


@in_app_context
def deliver_mail(mail_id: int) -> None:
    """Sends one owed mail."""
    mails.deliver(mail_id)


@in_app_context
def sweep() -> None:
    """Finds work that was lost (a killed worker, a restarted Redis) and drives it again."""
    sweeping.sweep()


@in_app_context
def end_retention() -> None:
    """Erases the records kept under a legal duty whose duty has ended, and carries on the
    erasures that waited for a contract to end."""
    holds.end_due_holds()
    deferrals.resume_due()


@in_app_context
def mail_digest() -> None:
    """Mails the officers what is due soon and what is overdue."""
    reminders.send_digest()


@in_app_context
def erase_past_period(request_id: str) -> None:
    """Erases the records an access answer found past their period, as the officer asked."""
    expiry.erase_past_period(request_id)
