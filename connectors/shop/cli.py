"""`dsar shop`: commands for the demo shop the built-in connectors read."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.engine import make_url

from .database import shop_database_url, shop_engine
from .schema import create_demo_shop
from .seed import DEMO_EMAIL, MAX_CUSTOMERS, MIN_CUSTOMERS, customer_count, seed_shop

shop = AppGroup("shop", help="The demo Cplus shop that the built-in connectors read.")


@shop.command("seed")
@click.option(
    "--customers",
    type=click.IntRange(MIN_CUSTOMERS, MAX_CUSTOMERS),
    default=300,
    show_default=True,
    help="How many customer accounts to create.",
)
@click.option("--seed", "seed", type=int, default=1, show_default=True, help="The random seed.")
@click.option("--if-empty", is_flag=True, help="Leave a shop that already has customers as it is.")
def seed_command(customers: int, seed: int, if_empty: bool) -> None:
    """Creates the demo shop's tables and fills them with realistic customers."""
    try:
        url = shop_database_url(current_app.config)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error
    _make_sqlite_folder(url)
    engine = shop_engine(url)
    create_demo_shop(engine)
    existing = customer_count(engine)
    if existing and if_empty:
        click.echo(f"The shop already has {existing} customers; left as it is.")
    elif existing:
        # Filling a shop that has customers would mix demo people into real or earlier data.
        raise click.ClickException(
            f"The shop already has {existing} customers. Use --if-empty to keep them, or "
            "point SHOP_DATABASE_URL at an empty database."
        )
    else:
        summary = seed_shop(engine, customers=customers, seed=seed)
        click.echo(
            f"Seeded the demo shop: {summary.customers} customers, {summary.orders} orders "
            f"({summary.guest_orders} as guests, {summary.order_lines} lines, "
            f"{summary.shipments} shipments), {summary.subscriptions} subscriptions, "
            f"{summary.contact_messages} contact messages, {summary.support_notes} support "
            f"notes, {summary.marketing_consents} marketing consents."
        )
    click.echo(f"Try it with the demo customer: {DEMO_EMAIL}")


def _make_sqlite_folder(url: str) -> None:
    """Creates the folder of a SQLite shop file, which SQLite will not do itself."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
