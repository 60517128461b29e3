"""A customer with a long order history, written straight into a test shop in bulk."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, insert

from dsar.connectors.shop.schema import customers, order_lines, orders, shipments

CARRIERS = ("PostNL", "DHL")
STREETS = ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Schoolstraat")
CITIES = ("Delft", "Utrecht", "Zwolle", "Haarlem", "Groningen")

#: How far back a long history's orders go.
HISTORY = timedelta(days=6 * 365)


def add_customer_with_orders(shop_url: str, email: str, name: str, order_count: int,
                             seed: int = 7) -> list[str]:
    """Adds one account with `order_count` delivered orders, placed evenly over the last six
    years (all within the shop's seven years of keeping them); returns their numbers, oldest
    first."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    start = datetime.now(UTC).replace(tzinfo=None) - HISTORY
    every = HISTORY / max(order_count, 1)
    engine = create_engine(shop_url)
    numbers = [f"CP-H{seed:02d}-{n:06d}" for n in range(order_count)]
    with engine.begin() as connection:
        customer_id = connection.execute(insert(customers).values(
            customer_number=f"C-H{seed:02d}", email=email, name=name, street="Kerkstraat 1",
            postal_code="2611 AB", city="Delft", country="NL", created_at=start,
        )).inserted_primary_key[0]
        order_rows, line_rows, shipment_rows = [], [], []
        for n, number in enumerate(numbers):
            placed = start + every * n
            order_rows.append({
                "id": 10_000_000 + seed * 100_000 + n, "order_number": number,
                "customer_id": customer_id, "email": email, "name": name,
                "ship_street": f"{rng.choice(STREETS)} {rng.randint(1, 200)}",
                "ship_postal_code": "2611 AB", "ship_city": rng.choice(CITIES),
                "ship_country": "NL", "payment_method": "iDEAL",
                "total_cents": rng.randint(500, 50_000), "currency": "EUR",
                "status": "delivered", "placed_at": placed,
                "completed_at": placed + timedelta(days=2),
            })
        connection.execute(insert(orders), order_rows)
        for order in order_rows:
            for _ in range(rng.randint(1, 3)):
                line_rows.append({"order_id": order["id"], "sku": f"SKU-{rng.randint(1, 999)}",
                                  "description": "Koffiebonen 1 kg", "quantity": 1,
                                  "unit_price_cents": rng.randint(500, 5_000)})
            shipment_rows.append({
                "order_id": order["id"], "carrier": rng.choice(CARRIERS),
                "tracking_number": f"3S{rng.randint(10**9, 10**10 - 1)}",
                "recipient_name": name, "recipient_street": order["ship_street"],
                "recipient_postal_code": "2611 AB", "recipient_city": order["ship_city"],
                "recipient_country": "NL", "handed_over_at": order["placed_at"],
            })
        connection.execute(insert(order_lines), line_rows)
        connection.execute(insert(shipments), shipment_rows)
    engine.dispose()
    return numbers
