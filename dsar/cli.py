"""The `dsar` command: run, db upgrade, officer management, and plug-in groups such as `shop`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, FlaskGroup, routes_command, shell_command, with_appcontext
from flask_migrate.cli import db as db_group

from dsar import create_app
from dsar.extensions import db
from dsar.officers import OfficerError, create_officer, find_officer, issue_token

cli = FlaskGroup(
    name="dsar",
    create_app=lambda: create_app(),
    add_default_commands=False,
    help="Answers data subject rights requests for the Cplus web shop.",
)
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
    from dsar.runner import run

    sys.exit(run(host, port, workers))


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


def main() -> None:
    """Console-script entry point."""
    cli.main()
