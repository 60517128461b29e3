"""An erased customer is also erased from other people's notes and messages that name them."""

from __future__ import annotations

from sqlalchemy import select

from dsar.connector import Decision, Disposition, Subject
from dsar.connectors.shop.accounts import AccountsConnector
from dsar.connectors.shop.redaction import CUSTOMER_NUMBER, Customer, without
from dsar.connectors.shop.schema import customers, support_notes


def test_without_replaces_whole_tokens_only():
    """A customer's number inside a longer number, or their address inside another, stays."""
    anne = Customer("C100120", "Anne Latier", "anne.latier@example.org")
    text = ("Neighbour anne LATIER (C100120, Anne.Latier@example.org) — not C1001201 "
            "nor xanne.latier@example.org.uk. Mail anne.latier@example.org.")
    cleaned, changed = without(anne, text)
    assert changed
    assert "Latier" not in cleaned.split("—")[0]
    assert "C100120," not in cleaned and "C1001201" in cleaned
    assert "xanne.latier@example.org.uk" in cleaned
    assert cleaned.endswith("Mail [another person].")


def test_erasing_an_account_removes_its_mentions_from_other_notes(seeded_shop):
    """The neighbour named in the showcase customer's note is gone from it once erased."""
    with seeded_shop.connect() as conn:
        notes = conn.execute(select(support_notes.c.id, support_notes.c.body)).all()
        numbered = [(i, body) for i, body in notes if body and CUSTOMER_NUMBER.search(body)]
        note_id, body = numbered[0]
        number = CUSTOMER_NUMBER.search(body).group(0)
        named = conn.execute(select(customers).where(customers.c.customer_number == number)).one()
    assert named.customer_number in body
    connector = AccountsConnector({"SHOP_DATABASE_URL": str(seeded_shop.url)})
    outcomes = list(connector.erase(Subject(email=named.email.strip().lower()), [
        Decision("account", named.customer_number, Disposition.ERASE)]))
    assert any(o.done == "mention_removed" and o.key == str(note_id) for o in outcomes)
    with seeded_shop.connect() as conn:
        after = conn.execute(select(support_notes.c.body).where(
            support_notes.c.id == note_id)).scalar_one()
    assert named.customer_number not in after
    assert named.email.strip().lower() not in after.lower()
    if named.name:
        assert named.name.lower() not in after.lower()
    assert "[another person]" in after
    again = list(connector.erase(Subject(email=""), [
        Decision("account", named.customer_number, Disposition.ERASE)]))
    assert not any(o.done == "mention_removed" for o in again), "a second run changes nothing"
