"""The `dsar` command: run, the processes of each role (web, worker, scheduler), db upgrade,
officer management, and plug-in groups such as `shop`."""

from __future__ import annotations

import sys
from datetime import datetime

import click
import pyotp
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, routes_command, shell_command, with_appcontext
from flask_migrate.cli import db as migrate_group
from sqlalchemy import func, select

from dsar import audit
from dsar.answer.sealing import new_key, sealer_for
from dsar.app import create_app
from dsar.declarative.check import ERROR, WARNING, check_declaration
from dsar.extensions import db
from dsar.models import AuditHead, StoredChunk
from dsar.processes import scheduler, web, worker
from dsar.runner import run
from dsar.scaffold import ScaffoldError, new_connector
from dsar.upgrade_lock import upgrade_lock
from dsar.web.officers import OfficerError, create_officer, find_officer, issue_token
from dsar.work.rules import load_rules

cli = FlaskGroup(
    name="dsar",
    create_app=lambda: create_app(),
    add_default_commands=False,
    # Flask's own prints the versions of Python, Flask and Werkzeug; ours prints dsar's.
    add_version_option=False,
    help="Answers data subject rights requests for the Cplus web shop.",
)
click.version_option(package_name="dsar", prog_name="dsar", message="%(prog)s %(version)s")(cli)


def _one_at_a_time(command: click.Command) -> click.Command:
    """Flask-Migrate's `upgrade` under the database's upgrade lock, so that it can be started
    on several machines at once: the first migrates, the others wait, then find it done."""
    migrate = command.callback
    assert migrate is not None

    @with_appcontext
    def locked(**kwargs: object) -> object:
        """Runs the upgrade while holding the lock (`--sql` only prints it: no lock)."""
        if kwargs.get("sql"):
            return migrate(**kwargs)
        with upgrade_lock():
            return migrate(**kwargs)

    return click.Command(command.name, params=command.params, callback=locked,
                         help=command.help, short_help=command.short_help)


# Flask-Migrate's group as it is (its options and what it notes for its commands), with
# `upgrade` under the lock.
db_group = click.Group(migrate_group.name, params=migrate_group.params,
                       callback=migrate_group.callback, help=migrate_group.help)
for _command in migrate_group.commands.values():
    db_group.add_command(_one_at_a_time(_command) if _command.name == "upgrade" else _command)
cli.add_command(db_group)
cli.add_command(routes_command)
cli.add_command(shell_command)


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Background workers to start.")
@with_appcontext
def run_command(host: str, port: int, workers: int) -> None:
    """Runs the web app, workers and scheduler on this machine (Redis embedded unless set)."""
    sys.exit(run(host, port, workers))


@cli.command("web", with_appcontext=False)
@click.option("--bind", "binds", multiple=True, default=["127.0.0.1:8000"], show_default=True,
              help="Address to listen on, HOST:PORT or unix:PATH; may be given more than once.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 256),
              help="Web processes, each serving one request at a time.")
def web_command(binds: tuple[str, ...], workers: int) -> None:
    """Serves the web app with gunicorn; SIGTERM lets the requests under way finish."""
    web.run(list(binds), workers)


@cli.command("worker", with_appcontext=False)
@click.option("--queues", "kinds", default="", metavar="KIND,...",
              help=f"Only these queues, e.g. `documents` for a machine that renders the PDFs "
                   f"(of {', '.join(worker.KINDS)}; taken in that order). Default: all.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--max-jobs", default=worker.MAX_JOBS, show_default=True, type=click.IntRange(0),
              help="Start afresh after this many jobs (0: never).")
def worker_command(kinds: str, burst: bool, max_jobs: int) -> None:
    """Runs background jobs until stopped; SIGTERM stops it after the job at hand."""
    try:
        names = worker.queue_names([kind.strip() for kind in kinds.split(",") if kind.strip()])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--queues") from None
    worker.run(names, burst=burst, max_jobs=max_jobs)


@cli.command("scheduler", with_appcontext=False)
def scheduler_command() -> None:
    """Puts the periodic jobs on the queue (sweep, retention, digest). One runs at a time per
    Redis: another one started stands by and takes over when the first stops."""
    scheduler.run()


officer = AppGroup("officer", help="Manage privacy officers.")
cli.add_command(officer)


@officer.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["officer", "admin"]), default="officer",
              show_default=True)
def officer_create(email: str, role: str) -> None:
    """Creates an officer; the password is read from standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        created = create_officer(email, password, role)
    except OfficerError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {created.role} {created.email}.")


@officer.command("token")
@click.argument("email")
def officer_token(email: str) -> None:
    """Prints a new API token for the officer; only its hash is stored, so keep it safe."""
    try:
        found = find_officer(email)
    except OfficerError as exc:
        raise click.ClickException(str(exc)) from None
    token = issue_token(found)
    db.session.commit()
    click.echo(token)


@officer.command("totp")
@click.argument("email")
def officer_totp(email: str) -> None:
    """Sets up a second factor and prints the provisioning URI for an authenticator app."""
    try:
        found = find_officer(email)
    except OfficerError as exc:
        raise click.ClickException(str(exc)) from None
    found.totp_secret = pyotp.random_base32()
    db.session.commit()
    click.echo(pyotp.TOTP(found.totp_secret).provisioning_uri(
        name=found.email, issuer_name="dsar"))


storage_group = click.Group("storage", help="The sealed storage of answers and findings.")
cli.add_command(storage_group)


@storage_group.command("new-key")
def storage_new_key() -> None:
    """Prints a new random key for DSAR_STORAGE_KEY (it needs no app, so it works before one
    is set)."""
    click.echo(new_key())


@storage_group.command("usage")
@with_appcontext
def storage_usage() -> None:
    """How many stored chunks each key seals: a key may leave DSAR_STORAGE_KEY once it
    seals none."""
    sealing = sealer_for(current_app.config).sealing_key_id
    counts = db.session.execute(
        select(StoredChunk.key_id, func.count()).group_by(StoredChunk.key_id)).all()
    for key_id, count in counts:
        click.echo(f"{key_id}  {count} chunks{'  (seals new files)' if key_id == sealing else ''}")
    if not counts:
        click.echo("Nothing is stored.")


def main() -> None:
    """Console-script entry point."""
    cli.main()


audit_group = AppGroup("audit", help="The audit trail.")
cli.add_command(audit_group)


@audit_group.command("verify")
def audit_verify() -> None:
    """Checks the whole chain; exits 1 and names each break if an entry was changed or removed."""
    breaks = audit.verify()
    if breaks:
        for found in breaks:
            where = f"entry {found.entry_id}" if found.entry_id else "the end of the trail"
            click.echo(f"BROKEN at {where}: {found.problem}", err=True)
        sys.exit(1)
    head = db.session.get(AuditHead, audit.HEAD_ID)
    click.echo(f"The audit trail is intact: {head.length if head else 0} entries.")


@audit_group.command("export")
@click.option("--request", "request_id", help="Only this request's entries.")
@click.option("--since", type=click.DateTime(), help="Only entries from this UTC time on.")
@click.option("--until", type=click.DateTime(), help="Only entries before this UTC time.")
def audit_export(request_id: str | None, since: datetime | None, until: datetime | None) -> None:
    """Writes entries as CSV to standard output, per request or period."""
    click.echo(audit.to_csv(audit.entries(request_id=request_id, since=since, until=until)),
               nl=False)


connector_group = click.Group("connector", help="Tools for connector authors.")
cli.add_command(connector_group)


@connector_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def connector_check(file: str) -> None:
    """Checks a connector declaration (TOML): the file, then the live database it names (read
    only), then, when the conformance kit is installed, the connector on a scratch copy.
    Exits 1 on an error; warnings alone exit 0."""
    errors = 0
    for finding in check_declaration(file, rules=load_rules()):
        if finding.level == ERROR:
            errors += 1
            click.echo(f"ERROR: {finding.text}", err=True)
        elif finding.level == WARNING:
            click.echo(f"WARNING: {finding.text}")
        else:
            click.echo(finding.text)
    if errors:
        click.echo(f"{errors} error{'s' if errors != 1 else ''}: the connector would not work.",
                   err=True)
        sys.exit(1)


@connector_group.command("new")
@click.argument("name")
@click.option("--directory", default=".", show_default=True,
              type=click.Path(file_okay=False, writable=True),
              help="Where to make the package's folder.")
def connector_new(name: str, directory: str) -> None:
    """Makes dsar-NAME/, a package holding a working connector for one SQL table of a system,
    its conformance tests on an example database, and a README on what to change next."""
    try:
        made = new_connector(name, directory)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Made {made}. Next:\n"
               f"  cd {made}\n"
               f"  pip install -e .    # in dsar's environment; registers the connector\n"
               f"  pytest              # the conformance kit, on an example SQLite database\n"
               f"then follow {made / 'README.md'} to point it at the real system.")
