"""Benchmark shops: a fast, seeded bulk seeder for the Cplus shop schema, and its cache.

`dsar.connectors.shop.seed` builds the demo shop with Faker, one object per row: right for a
demo, too slow for a million customers. This seeder writes the same tables (created by
`dsar.connectors.shop.schema.create_demo_shop`, so the schema is the shop's own) with plain
sqlite3 `executemany` in large transactions, its every choice drawn from one seeded
`random.Random`: the same size and seed give the same rows.

Besides the background customers (Dutch names, addresses, phones, IBANs, orders with lines
and shipments, guest orders, subscriptions, contact messages, agents' notes naming other
customers, consents, a few closed-and-reopened accounts), every shop holds named *subject*
customers the benchmarks ask for: each with a set number of orders (1-4 lines and a shipment
each), a subscription, agents' notes (one naming another customer) and contact messages.

Orders are written in the order they were placed, as a shop writes them, so one customer's
orders are spread over the table as in real data rather than stored side by side.

Built shops are cached as SQLite files under `bench/cache/`, keyed by size, seed and a
schema version (a digest of the shop's DDL, this seeder's version, the subjects' layout and
the Python version); a benchmark works on a copy, so erasures never change the cache.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.schema import CreateIndex, CreateTable

from dsar.connectors.shop.catalogue import (
    FREE_SHIPPING_FROM,
    MESSAGES,
    NOTES,
    NOTES_NAMING_ANOTHER,
    PLANS,
    PRODUCTS,
    SHIPPING,
)
from dsar.connectors.shop.schema import create_demo_shop, metadata
from dsar.connectors.shop.seed import COMPLETION_WINDOWS

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / "bench" / "cache"

#: Raise when the seeder's output changes, so cached shops are rebuilt.
SEEDER_VERSION = 2

#: Everything is dated relative to this moment (UTC), so a seed gives the same shop any day.
ANCHOR = datetime(2026, 11, 1, 9, 0, 0)

#: Orders of a typical subject customer, and how many typical subjects every shop holds;
#: those from FORMER_FROM on are former customers (the erasures' subjects).
TYPICAL_ORDERS = 20
TYPICAL_SUBJECTS = 300
FORMER_FROM = 250
#: Order counts of the heavy subjects (a few for --quick, the rest for the full run).
HEAVY_ORDERS = (50, 100, 200, 1_000, 5_000, 10_000)

#: Customer numbers are "C" and six digits (connectors/shop/redaction.py relies on it).
MAX_CUSTOMERS = 1_000_000

#: The columns of each table, in the schema's order; checked against the schema at build.
COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "id", "customer_number", "email", "name", "street", "postal_code", "city", "country",
        "phone", "billing_street", "billing_postal_code", "billing_city", "billing_country",
        "payment_method", "payment_details", "registration_ip", "last_login_ip", "created_at",
        "closed_at",
    ),
    "orders": (
        "id", "order_number", "customer_id", "email", "name", "phone", "ship_street",
        "ship_postal_code", "ship_city", "ship_country", "billing_street", "billing_postal_code",
        "billing_city", "billing_country", "ip_address", "payment_method", "payment_reference",
        "total_cents", "currency", "status", "placed_at", "completed_at",
    ),
    "order_lines": ("id", "order_id", "sku", "description", "quantity", "unit_price_cents"),
    "shipments": (
        "id", "order_id", "carrier", "tracking_number", "recipient_name", "recipient_street",
        "recipient_postal_code", "recipient_city", "recipient_country", "recipient_phone",
        "handed_over_at",
    ),
    "subscriptions": (
        "id", "customer_id", "plan", "status", "started_at", "terminated_at", "billing_email",
        "billing_name", "billing_street", "billing_postal_code", "billing_city",
        "billing_country", "payment_method", "payment_details", "ip_address",
    ),
    "contact_messages": (
        "id", "customer_number", "email", "name", "phone", "address", "subject", "body",
        "received_at", "resolved_at",
    ),
    "support_notes": ("id", "customer_id", "email", "channel", "agent", "body", "created_at"),
    "marketing_consents": (
        "id", "email", "customer_id", "consented_at", "source", "ip_address", "withdrawn_at",
    ),
}

FIRST_NAMES = (
    "Sanne", "Daan", "Emma", "Lucas", "Julia", "Sem", "Lotte", "Finn", "Tess", "Milan",
    "Sophie", "Levi", "Anna", "Bram", "Fleur", "Thijs", "Lisa", "Jesse", "Eva", "Ruben",
    "Noor", "Lars", "Iris", "Thomas", "Femke", "Niels", "Roos", "Jeroen", "Marloes", "Bas",
    "Anouk", "Pieter", "Esther", "Wouter", "Ilse", "Joost", "Maaike", "Sander", "Linda",
    "Martijn", "Inge", "Koen", "Saskia", "Gijs", "Yvonne", "Hendrik", "Wilma", "Kees",
    "Marieke", "Stijn", "Annelies", "Floor", "Mohamed", "Fatima", "Yusuf", "Samira",
    "Ahmet", "Elif", "Priya", "Wei",
)
LAST_NAMES = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
    "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
    "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits",
    "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen",
    "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "de Bruin",
    "van der Heijden", "Schouten", "van Beek", "Willems", "van Vliet", "van de Ven",
    "Hoekstra", "Maas", "Verhoeven", "Koster", "van Dam", "van der Wal", "Prins", "Blom",
    "Huisman", "Peeters", "de Lange", "Kuipers", "van Wijk", "Postma", "Timmermans",
    "Yilmaz", "El Amrani", "Bouzid", "Kaya",
)
#: Cities and the range of the four digits of their postal codes.
CITIES = (
    ("Amsterdam", 1011, 1109), ("Rotterdam", 3011, 3089), ("Den Haag", 2491, 2599),
    ("Utrecht", 3511, 3585), ("Eindhoven", 5611, 5658), ("Groningen", 9711, 9747),
    ("Tilburg", 5011, 5049), ("Almere", 1311, 1364), ("Breda", 4811, 4839),
    ("Nijmegen", 6511, 6546), ("Haarlem", 2011, 2037), ("Arnhem", 6811, 6846),
    ("Zwolle", 8011, 8043), ("Leiden", 2311, 2334), ("Maastricht", 6211, 6229),
    ("Delft", 2611, 2629), ("Amersfoort", 3811, 3829), ("Apeldoorn", 7311, 7339),
    ("Enschede", 7511, 7548), ("'s-Hertogenbosch", 5211, 5237), ("Leeuwarden", 8911, 8939),
    ("Alkmaar", 1811, 1829), ("Dordrecht", 3311, 3329), ("Deventer", 7411, 7429),
)
STREETS = (
    "Kerkstraat", "Dorpsstraat", "Molenweg", "Schoolstraat", "Stationsweg", "Julianastraat",
    "Beatrixlaan", "Wilhelminastraat", "Oranjestraat", "Prinsengracht", "Herengracht",
    "Keizersgracht", "Lindengracht", "Oudegracht", "Nieuwstraat", "Marktplein", "Parkweg",
    "Lindelaan", "Eikenlaan", "Berkenlaan", "Kastanjelaan", "Sportlaan", "Rembrandtlaan",
    "Vondelstraat", "Spoorstraat", "Emmastraat", "Brugstraat", "Zuiderweg", "Hoofdstraat",
    "Burgemeester de Withstraat", "Van Goghstraat", "Mauritsweg", "Tulpstraat", "Rozenlaan",
)
BANKS = ("ABNA", "RABO", "INGB", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ")
IP_FIRST_OCTETS = (31, 37, 62, 77, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 94, 145, 178, 185,
                   188, 195, 212, 213, 217)
DOMAINS = ("example.nl", "example.com", "example.org")  # RFC 2606: reaches nobody
AGENTS = ("Marieke B.", "Jeroen K.", "Fatima E.", "Stijn V.", "Ilse D.", "Kees M.")
POSTCODE_LETTERS = tuple(
    a + b for a in "ABCEGHJKLMNPRTVWXZ" for b in "ABCEGHJKLMNPRTVWXZ"
    if a + b not in {"SA", "SD", "SS"}
)

_YEAR = 365 * 86400
_DAY = 86400
_HOUR = 3600
_BATCH = 50_000


@dataclass(frozen=True)
class SubjectSpec:
    """A named customer the benchmarks ask for, with a set amount of history.

    Attributes:
        tag: short name, part of the address ("t007", "h5000").
        orders: orders on the account, each with 1-4 lines and a shipment.
        notes: agents' notes; the first names another customer (Art. 15(4)).
        messages: contact-form messages.
        former: a former customer: the subscription cancelled and every order completed at
            least a month ago, so an erasure can remove the account (a running contract
            would block it); otherwise the subscription is active.
    """

    tag: str
    orders: int
    notes: int = 2
    messages: int = 1
    former: bool = False


def default_subjects() -> tuple[SubjectSpec, ...]:
    """Every shop's subjects: the typical ones, then one heavy one per order count."""
    typical = tuple(SubjectSpec(f"t{i:03d}", TYPICAL_ORDERS, former=i >= FORMER_FROM)
                    for i in range(TYPICAL_SUBJECTS))
    heavy = tuple(SubjectSpec(f"h{n}", n) for n in HEAVY_ORDERS)
    return typical + heavy


def typical_tag(index: int) -> str:
    """The tag of the typical subject with that number."""
    return f"t{index:03d}"


def heavy_tag(orders: int) -> str:
    """The tag of the heavy subject with that many orders."""
    if orders not in HEAVY_ORDERS:
        raise ValueError(f"no heavy subject with {orders} orders; there are {HEAVY_ORDERS}")
    return f"h{orders}"


@dataclass
class Shop:
    """A built shop in the cache: its file, what it holds, and its subjects' addresses."""

    path: Path
    size: int
    seed: int
    version: str
    subjects: dict[str, str]  # tag -> e-mail address as the person would type it
    counts: dict[str, int]
    build_seconds: float
    cached: bool = field(default=False)

    def email(self, tag: str) -> str:
        """The address of a subject."""
        return self.subjects[tag]

    def copy_to(self, target: Path) -> Path:
        """Copies the shop's file for a benchmark to work on (and change); returns the copy."""
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, target)
        return target


def schema_version(subjects: Sequence[SubjectSpec]) -> str:
    """A short digest of the shop's DDL, the seeder's version, the subjects and Python's."""
    engine = create_engine("sqlite://")
    ddl = [str(CreateTable(table).compile(engine)) for table in metadata.sorted_tables]
    ddl += [
        str(CreateIndex(index).compile(engine))
        for table in metadata.sorted_tables for index in sorted(table.indexes, key=_name)
    ]
    material = json.dumps({
        "ddl": ddl, "seeder": SEEDER_VERSION, "anchor": ANCHOR.isoformat(),
        "subjects": [asdict(s) for s in subjects], "python": list(sys.version_info[:2]),
    })
    return hashlib.sha256(material.encode()).hexdigest()[:10]


def _name(index: Any) -> str:
    """An index's name, for sorting."""
    return str(index.name)


def ensure_shop(
    size: int,
    seed: int,
    subjects: Sequence[SubjectSpec] | None = None,
    cache_dir: Path = CACHE_DIR,
    log: Any = print,
) -> Shop:
    """Returns the cached shop of that size and seed, building it first when missing."""
    specs = tuple(subjects or default_subjects())
    version = schema_version(specs)
    path = cache_dir / f"shop-{size}-s{seed}-v{version}.db"
    sidecar = path.with_suffix(".json")
    if path.is_file() and sidecar.is_file():
        info = json.loads(sidecar.read_text())
        return Shop(path=path, size=size, seed=seed, version=version,
                    subjects=info["subjects"], counts=info["counts"],
                    build_seconds=info["build_seconds"], cached=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    log(f"building shop of {size:,} customers (seed {seed}) into {path.name} ...")
    started = time.perf_counter()
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    builder = _Builder(building, size, seed, specs)
    counts = builder.build()
    seconds = time.perf_counter() - started
    building.replace(path)
    sidecar.write_text(json.dumps(
        {"size": size, "seed": seed, "version": version, "subjects": builder.subject_emails,
         "counts": counts, "build_seconds": round(seconds, 1)}, indent=1))
    log(f"built shop of {size:,} customers in {seconds:.1f} s: "
        + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    return Shop(path=path, size=size, seed=seed, version=version,
                subjects=builder.subject_emails, counts=counts, build_seconds=seconds)


def _stamp(seconds: int) -> str:
    """A moment as SQLAlchemy stores a TIMESTAMP in SQLite (seconds after ANCHOR)."""
    return (ANCHOR + timedelta(seconds=seconds)).isoformat(" ") + ".000000"


def _ascii(text: str) -> str:
    """A name as it can stand in an address: plain lower-case letters."""
    return "".join(c for c in text.lower() if c.isalnum())


@dataclass
class _Customer:
    """What later rows need of one account."""

    id: int
    number: str
    email: str  # as typed on the account
    name: str
    street: str
    postal_code: str
    city: str
    phone: str
    iban: str
    created: int
    closed: int | None
    billing: tuple[str, str, str]


class _Builder:
    """Builds one shop file; every choice follows the seed, in a fixed order."""

    def __init__(self, path: Path, size: int, seed: int, subjects: Sequence[SubjectSpec]) -> None:
        """Prepares an empty build."""
        if not len(subjects) + 100 <= size <= MAX_CUSTOMERS:
            raise ValueError(f"a shop holds {len(subjects) + 100} to {MAX_CUSTOMERS} customers")
        self.path = path
        self.size = size
        # Benchmark data, not secrets: the seed is what makes the shop reproducible.
        self.rng = random.Random(seed)  # noqa: S311
        self.subjects = tuple(subjects)
        self.subject_emails: dict[str, str] = {}
        self.counts = {name: 0 for name in COLUMNS}
        self.used_locals: dict[str, int] = {}
        self.start = -9 * _YEAR  # the shop opened nine years before the anchor
        self.subject_of: dict[int, _Customer] = {}

    # -- the build --------------------------------------------------------------------------

    def build(self) -> dict[str, int]:
        """Creates the schema, fills it, and adds the indexes last."""
        _check_columns()
        engine = create_engine(f"sqlite:///{self.path}")
        create_demo_shop(engine)
        engine.dispose()
        conn = sqlite3.connect(self.path)
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")
        conn.execute("PRAGMA temp_store = MEMORY")
        indexes = [index for table in metadata.sorted_tables
                   for index in sorted(table.indexes, key=_name)]
        for index in indexes:  # loading first and indexing after is much faster
            conn.execute(f'DROP INDEX "{index.name}"')
        conn.commit()
        customers = self._customers(conn)
        self._orders(conn, customers)
        self._extras(conn, customers)
        conn.commit()
        conn.close()
        engine = create_engine(f"sqlite:///{self.path}")
        with engine.begin() as connection:
            for index in indexes:
                index.create(connection)
        engine.dispose()
        return dict(self.counts)

    def _write(self, conn: sqlite3.Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
        """Inserts a batch of rows in one transaction."""
        if not rows:
            return
        columns = COLUMNS[table]
        marks = ", ".join("?" for _ in columns)
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
            rows,
        )
        conn.commit()
        self.counts[table] += len(rows)

    # -- customers --------------------------------------------------------------------------

    def _customers(self, conn: sqlite3.Connection) -> list[_Customer]:
        """Writes every account, numbered in the order they were opened."""
        rng = self.rng
        background = self.size - len(self.subjects)
        # (created, closed, person, subject index or -1); a person may hold a closed and a
        # newer account under one address.
        plans: list[tuple[int, int | None, int, int]] = []
        people: list[tuple[str, str, str]] = []  # name, e-mail, phone
        while len(plans) < background:
            person = len(people)
            people.append(self._person())
            if background - len(plans) >= 2 and rng.random() < 0.02:
                first = rng.randint(self.start, -5 * _YEAR)
                closed = rng.randint(first + _YEAR, first + 3 * _YEAR)
                plans.append((first, closed, person, -1))
                plans.append((rng.randint(closed + 30 * _DAY, closed + _YEAR), None, person, -1))
            else:
                created = rng.randint(self.start, -10 * _DAY)
                closed = None
                if rng.random() < 0.03 and created < -60 * _DAY:
                    closed = rng.randint(created + 30 * _DAY, 0)
                plans.append((created, closed, person, -1))
        for index, spec in enumerate(self.subjects):
            person = len(people)
            name, _, phone = self._person()
            given, family = name.split(" ", 1)
            email = f"{_ascii(given)}.{_ascii(family)}.{spec.tag}@{DOMAINS[index % 3]}"
            people.append((name, email, phone))
            self.subject_emails[spec.tag] = email
            plans.append((rng.randint(-8 * _YEAR, -6 * _YEAR), None, person, index))
        plans.sort(key=lambda plan: (plan[0], plan[2]))
        base = min(100_000, MAX_CUSTOMERS - self.size)
        customers: list[_Customer] = []
        batch: list[tuple[Any, ...]] = []
        for rank, (created, closed, person, subject) in enumerate(plans):
            name, email, phone = people[person]
            street, postal_code, city = self._address()
            billing = (street, postal_code, city) if rng.random() < 0.9 else self._address()
            method = rng.choices(("iDEAL", "creditcard", "PayPal"), weights=(60, 25, 15))[0]
            iban = self._iban()
            if method == "creditcard":
                details = f"{rng.choice(('Visa', 'Mastercard'))} **** {rng.randint(0, 9999):04d}"
            elif method == "PayPal":
                details = email
            else:
                details = iban
            typed = email if subject >= 0 else self._typed(email)
            customer = _Customer(
                id=rank + 1, number=f"C{base + rank:06d}", email=typed, name=name,
                street=street, postal_code=postal_code, city=city, phone=phone, iban=iban,
                created=created, closed=closed, billing=billing,
            )
            customers.append(customer)
            batch.append((
                customer.id, customer.number, typed, name, street, postal_code, city, "NL",
                phone, billing[0], billing[1], billing[2], "NL", method, details, self._ip(),
                self._ip(), _stamp(created), _stamp(closed) if closed is not None else None,
            ))
            if len(batch) >= _BATCH:
                self._write(conn, "customers", batch)
                batch = []
        self._write(conn, "customers", batch)
        self.subject_of = {plans[rank][3]: c for rank, c in enumerate(customers)
                           if plans[rank][3] >= 0}
        return customers

    # -- orders, lines and shipments --------------------------------------------------------

    def _orders(self, conn: sqlite3.Connection, customers: list[_Customer]) -> None:
        """Writes every order in the order it was placed, each with its lines and shipment."""
        rng = self.rng
        # (placed, customer index or -1 for a guest, 1 when it must have a shipment)
        placed: list[tuple[int, int, int]] = []
        weights = (35, 30, 18, 10, 7)
        subject_ids = {customer.id for customer in self.subject_of.values()}
        for index, customer in enumerate(customers):
            if customer.id in subject_ids:
                continue  # a subject's history is exactly as its spec says
            end = customer.closed if customer.closed is not None else 0
            for _ in range(rng.choices(range(5), weights=weights)[0]):
                placed.append((rng.randint(customer.created, end), index, 0))
        for subject_index, spec in enumerate(self.subjects):
            customer = self.subject_of[subject_index]
            index = customer.id - 1
            latest = -30 * _DAY if spec.former else -2 * _DAY
            for _ in range(spec.orders):
                # Handed to the carrier at least a day before the anchor: a shipment each.
                placed.append((rng.randint(customer.created, latest), index, 1))
        for _ in range(max(10, len(customers) * 3 // 100)):
            placed.append((rng.randint(self.start, 0), -1, 0))
        placed.sort()
        orders: list[tuple[Any, ...]] = []
        lines: list[tuple[Any, ...]] = []
        sent: list[tuple[Any, ...]] = []
        line_id = 0
        for position, (at, index, shipped) in enumerate(placed):
            order_id = position + 1
            if index >= 0:
                customer = customers[index]
                name, phone, email = customer.name, customer.phone, customer.email
                address = (customer.street, customer.postal_code, customer.city)
                customer_id: int | None = customer.id
            else:  # a guest: someone without an account
                name, email, phone = self._person()
                email = self._typed(email)
                address = self._address()
                customer_id = None
            status = self._status(at, shipped=bool(shipped))
            completed = self._completed(status, at)
            total = 0
            for sku, description, price in rng.sample(
                PRODUCTS, rng.choices((1, 2, 3, 4), weights=(40, 30, 20, 10))[0]
            ):
                quantity = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
                total += quantity * price
                line_id += 1
                lines.append((line_id, order_id, sku, description, quantity, price))
            if total < FREE_SHIPPING_FROM:
                line_id += 1
                lines.append((line_id, order_id, SHIPPING[0], SHIPPING[1], 1, SHIPPING[2]))
                total += SHIPPING[2]
            method = rng.choices(("iDEAL", "creditcard", "PayPal"), weights=(60, 20, 20))[0]
            reference = "tr_" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=10))
            orders.append((
                order_id, f"CP-{(ANCHOR + timedelta(seconds=at)).year}-{order_id:07d}",
                customer_id, email, name, phone, *address, "NL", *address, "NL", self._ip(),
                method, reference, total, "EUR", status, _stamp(at),
                _stamp(completed) if completed is not None else None,
            ))
            if status in ("shipped", "delivered", "returned"):
                carrier = rng.choices(("PostNL", "DHL"), weights=(65, 35))[0]
                digits = f"{rng.getrandbits(53):016d}"[:16]
                tracking = f"3SCPLS{digits[:9]}" if carrier == "PostNL" else f"JVGL{digits}"
                handed = min(rng.randint(at + 4 * _HOUR, at + 30 * _HOUR),
                             completed if completed is not None else 0, 0)
                sent.append((len(sent) + self.counts["shipments"] + 1, order_id, carrier,
                             tracking, name, *address, "NL", phone, _stamp(handed)))
            if len(orders) >= _BATCH:
                self._write(conn, "orders", orders)
                self._write(conn, "order_lines", lines)
                self._write(conn, "shipments", sent)
                orders, lines, sent = [], [], []
        self._write(conn, "orders", orders)
        self._write(conn, "order_lines", lines)
        self._write(conn, "shipments", sent)

    def _status(self, placed: int, *, shipped: bool) -> str:
        """Where an order placed then stands at the anchor."""
        rng = self.rng
        age = -placed
        if shipped:
            if age < 7 * _DAY:
                return rng.choice(("shipped", "delivered"))
            return rng.choices(("delivered", "returned"), weights=(93, 7))[0]
        if age < 2 * _DAY:
            return rng.choice(("placed", "paid"))
        if age < 7 * _DAY:
            return rng.choice(("paid", "shipped", "shipped", "delivered"))
        return rng.choices(("delivered", "returned", "cancelled"), weights=(85, 8, 7))[0]

    def _completed(self, status: str, placed: int) -> int | None:
        """When an order in that status was completed; None while it is open."""
        if status not in COMPLETION_WINDOWS:
            return None
        earliest, latest = (int(gap.total_seconds()) for gap in COMPLETION_WINDOWS[status])
        return min(self.rng.randint(placed + earliest, placed + latest), 0)

    # -- subscriptions, messages, notes, consents -------------------------------------------

    def _extras(self, conn: sqlite3.Connection, customers: list[_Customer]) -> None:
        """Writes subscriptions, contact messages, agents' notes and consents."""
        rng = self.rng
        subs: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        notes: list[tuple[Any, ...]] = []
        consents: list[tuple[Any, ...]] = []
        wanted = {self.subject_of[i].id: spec for i, spec in enumerate(self.subjects)}
        for customer in customers:
            spec = wanted.get(customer.id)
            end = customer.closed if customer.closed is not None else 0
            if spec is not None:
                subs.append(self._subscription(len(subs), customer, end, active=not spec.former))
                for n in range(spec.messages):
                    messages.append(self._message(len(messages), customer, with_number=n % 2 == 0))
                for n in range(spec.notes):
                    notes.append(self._note(len(notes), customer, customers, name_another=n == 0))
                consents.append(self._consent(len(consents), customer, withdrawn=False))
            else:
                if rng.random() < 0.06 and customer.created < end - 31 * _DAY:
                    subs.append(self._subscription(len(subs), customer, end, active=None))
                if rng.random() < 0.08:
                    messages.append(self._message(len(messages), customer,
                                                  with_number=rng.random() < 0.65))
                if rng.random() < 0.08:
                    notes.append(self._note(len(notes), customer, customers,
                                            name_another=rng.random() < 0.12))
                if rng.random() < 0.25:
                    consents.append(self._consent(len(consents), customer, withdrawn=None))
            if len(subs) + len(messages) + len(notes) + len(consents) >= _BATCH:
                self._flush_extras(conn, subs, messages, notes, consents)
        self._flush_extras(conn, subs, messages, notes, consents)

    def _flush_extras(self, conn: sqlite3.Connection, *batches: list[tuple[Any, ...]]) -> None:
        """Writes and empties the batches of the four smaller tables."""
        for table, rows in zip(("subscriptions", "contact_messages", "support_notes",
                                "marketing_consents"), batches, strict=True):
            # Ids continue over the batches: a row's id is its position in the table.
            offset = self.counts[table]
            self._write(conn, table, [(offset + row[0], *row[1:]) for row in rows])
            rows.clear()

    def _subscription(
        self, position: int, customer: _Customer, end: int, *, active: bool | None
    ) -> tuple[Any, ...]:
        """A subscription on an account; cancelled ones were terminated before the anchor."""
        rng = self.rng
        started = rng.randint(customer.created, max(customer.created, end - 30 * _DAY))
        if active is None:
            active = customer.closed is None and rng.random() < 0.6
        terminated = None if active else rng.randint(started + 30 * _DAY,
                                                     max(started + 30 * _DAY, end))
        return (
            position + 1, customer.id, rng.choice(PLANS), "active" if active else "cancelled",
            _stamp(started), _stamp(terminated) if terminated is not None else None,
            self._typed(customer.email.strip().lower()), customer.name, *customer.billing, "NL",
            "SEPA direct debit", customer.iban, self._ip(),
        )

    def _message(self, position: int, customer: _Customer, *, with_number: bool) -> tuple[Any, ...]:
        """A contact-form message; some carry the customer number, others only the address."""
        rng = self.rng
        received = rng.randint(customer.created, 0)
        subject, body = rng.choice(MESSAGES)
        street, postal_code, city = self._address()
        body = body.format(first=customer.name.split()[0], product=rng.choice(PRODUCTS)[1],
                           address=f"{street}, {postal_code} {city}")
        resolved = None if -received < 14 * _DAY and rng.random() < 0.5 else min(
            rng.randint(received + _HOUR, received + 10 * _DAY), 0)
        return (
            position + 1, customer.number if with_number else None, customer.email,
            customer.name, customer.phone if rng.random() < 0.7 else None,
            f"{customer.street}, {customer.postal_code} {customer.city}", subject, body,
            _stamp(received), _stamp(resolved) if resolved is not None else None,
        )

    def _note(
        self, position: int, customer: _Customer, customers: list[_Customer], *, name_another: bool
    ) -> tuple[Any, ...]:
        """An agent's note; some name another customer, as agents' notes do."""
        rng = self.rng
        if name_another:
            other = customers[rng.randrange(len(customers))]
            while other.id == customer.id:
                other = customers[rng.randrange(len(customers))]
            channel, body = rng.choice(NOTES_NAMING_ANOTHER)
            body = body.format(other_name=other.name, other_number=other.number,
                               other_email=other.email.strip().lower())
        else:
            channel, body = rng.choice(NOTES)
        return (
            position + 1, customer.id, customer.email if channel == "email" else None, channel,
            rng.choice(AGENTS), body, _stamp(rng.randint(customer.created, 0)),
        )

    def _consent(
        self, position: int, customer: _Customer, *, withdrawn: bool | None
    ) -> tuple[Any, ...]:
        """A consent to e-mails with offers, withdrawn for some."""
        rng = self.rng
        consented = rng.randint(customer.created, 0)
        if withdrawn is None:
            withdrawn = rng.random() < 0.25
        return (
            position + 1, customer.email, customer.id if rng.random() < 0.7 else None,
            _stamp(consented), rng.choice(("checkout", "newsletter form", "account settings")),
            self._ip(), _stamp(rng.randint(consented, 0)) if withdrawn else None,
        )

    # -- small parts ------------------------------------------------------------------------

    def _person(self) -> tuple[str, str, str]:
        """A new person: name, an address of their own, a mobile number."""
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        style = rng.random()
        if style < 0.6:
            local = f"{_ascii(first)}.{_ascii(last)}"
        elif style < 0.8:
            local = f"{_ascii(first)[0]}.{_ascii(last)}"
        else:
            local = f"{_ascii(first)}{_ascii(last)}"
        seen = self.used_locals.get(local, 0)
        self.used_locals[local] = seen + 1
        if seen:
            local = f"{local}{seen + 1}"
        email = f"{local}@{DOMAINS[rng.randrange(3)]}"
        return f"{first} {last}", email, f"+31 6 {rng.randrange(10_000_000, 99_999_999)}"

    def _address(self) -> tuple[str, str, str]:
        """A Dutch street address: street and number, postal code, city."""
        rng = self.rng
        city, low, high = CITIES[rng.randrange(len(CITIES))]
        number = rng.randint(1, 180)
        suffix = rng.choice(("", "", "", "", "A", "B", "-1", "-2", " bis"))
        digits = rng.randint(low, high)
        letters = POSTCODE_LETTERS[rng.randrange(len(POSTCODE_LETTERS))]
        postal_code = f"{digits} {letters}"
        return f"{STREETS[rng.randrange(len(STREETS))]} {number}{suffix}", postal_code, city

    def _iban(self) -> str:
        """A Dutch IBAN with valid check digits."""
        bank = BANKS[self.rng.randrange(len(BANKS))]
        account = f"{self.rng.randrange(10**10):010d}"
        digits = "".join(str(int(c, 36)) for c in f"{bank}{account}NL00")
        return f"NL{98 - int(digits) % 97:02d}{bank}{account}"

    def _ip(self) -> str:
        """A public-looking IPv4 address."""
        bits = self.rng.getrandbits(24)
        first = IP_FIRST_OCTETS[self.rng.randrange(len(IP_FIRST_OCTETS))]
        return f"{first}.{bits >> 16}.{(bits >> 8) & 255}.{bits & 255}"

    def _typed(self, email: str) -> str:
        """The address as someone typed it: mostly as is, else in odd case or with a blank."""
        roll = self.rng.random()
        if roll < 0.82:
            return email
        if roll < 0.94:
            local, domain = email.split("@")
            return ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()
        if roll < 0.97:
            return email.upper()
        return email + " "


def _check_columns() -> None:
    """Fails loudly when the shop's schema no longer has the columns this seeder writes."""
    for table in metadata.sorted_tables:
        actual = tuple(table.c.keys())
        if COLUMNS.get(table.name) != actual:
            raise RuntimeError(f"the shop table {table.name} changed: {actual}; update "
                               "tests/bench/shops.py and SEEDER_VERSION")
