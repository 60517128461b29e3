"""Fixtures: real databases, a real Redis and a real SMTP server, cleaned around each test.

By default the suite runs on SQLite files and an embedded Redis server; .ci/run runs it again
with DSAR_TEST_DATABASE_URL and DSAR_TEST_REDIS_URL pointing at PostgreSQL and Redis.

The suite runs in several processes at once (pytest-xdist, `-n`): each has resources of its
own, so no test sees another's rows, jobs or mails. On the defaults that is a SQLite file and
an embedded Redis server per process; on a server, a database of its own (made afresh from the
one DSAR_TEST_DATABASE_URL names) and a Redis database number of its own.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import create_engine, make_url, text

from dsar.connectors.shop.schema import create_demo_shop
from dsar.connectors.shop.schema import metadata as shop_metadata
from tests.browser import chromium  # noqa: F401  (one browser per process, for the browser tests)
from tests.faults import processes  # noqa: F401  (a fixture, shared by the fault tests)

os.environ["DSAR_ENV"] = "testing"

TEST_DATABASE_URL = os.environ.get("DSAR_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("DSAR_TEST_REDIS_URL", "")
#: Redis's default number of databases: a process of the suite takes one of them.
REDIS_DATABASES = 16


def worker_number() -> int:
    """Which of the suite's processes this is: 0 for gw0 (or a run without -n), 1 for gw1 …"""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name.removeprefix("gw"))


def redis_url_of_this_process(url: str) -> str:
    """The given Redis URL with a database number of this process's own: the given number
    for the first process, counting down from it for the others (15, 14, … for /15)."""
    parts = urlsplit(url)
    given = int(parts.path.strip("/") or 0)
    number = (given - worker_number()) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{number}"))


def database_url_of_this_process(url: str) -> str:
    """A database of this process's own on the server `url` names, made afresh: the given
    database's name with the process's name and id after it (test_gw0_4711, …), so that two
    runs on one server, from two checkouts, never drop each other's."""
    given = make_url(url)
    name = f"{given.database}_gw{worker_number()}_{os.getpid()}"
    _run_on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                   f'CREATE DATABASE "{name}"')
    return given.set(database=name).render_as_string(hide_password=False)


def _run_on_server(url: str, *statements: str) -> None:
    """Runs statements outside a transaction, as CREATE and DROP DATABASE must be."""
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    server.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first: spread over several processes, a long test started last would
    keep one process busy while the others stand idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# --- Redis -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: the CI server when given, else an embedded redis-server for the session."""
    if TEST_REDIS_URL:
        yield redis_url_of_this_process(TEST_REDIS_URL)
        return
    from dsar.embedded_redis import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("redis") / "test.rdb")
    yield server.url
    server.stop()


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    """The Redis connection, flushed before and after each test."""
    conn = Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


# --- SMTP --------------------------------------------------------------------------------


class Inbox:
    """Collects what the SMTP server receives."""

    def __init__(self) -> None:
        """Starts empty."""
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """aiosmtpd's hook: keeps the message as parsed e-mail."""
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to one recipient."""
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def clear(self) -> None:
        """Forgets what was received."""
        with self._lock:
            self.messages.clear()


def _free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback for the whole session."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def inbox(smtp_server: tuple[Inbox, int]) -> Inbox:
    """The SMTP server's inbox, empty at the start of each test."""
    smtp_server[0].clear()
    return smtp_server[0]


# --- databases ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server_database_url() -> Iterator[str]:
    """This process's own database on the test's database server, or "" on the defaults;
    dropped when the process's tests are done."""
    if not TEST_DATABASE_URL:
        yield ""
        return
    url = database_url_of_this_process(TEST_DATABASE_URL)
    yield url
    _run_on_server(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{make_url(url).database}" '
                                      "WITH (FORCE)")


@pytest.fixture
def shop_url(tmp_path: Path, server_database_url: str) -> Iterator[str]:
    """An empty shop database with the shop's tables: SQLite, or the test PostgreSQL."""
    url = server_database_url or f"sqlite:///{tmp_path / 'shop.db'}"
    engine = create_engine(url)
    shop_metadata.drop_all(engine)
    create_demo_shop(engine)
    engine.dispose()
    yield url
    engine = create_engine(url)
    shop_metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, server_database_url: str) -> str:
    """dsar's database, upgraded once per process by the real migrations."""
    url = server_database_url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'dsar.db'}"
    from flask_migrate import downgrade, upgrade

    from dsar.app import create_app
    from dsar.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "s" * 40})
    with app.app_context():
        upgrade()
        if server_database_url:
            # PostgreSQL undoes DDL in a transaction: every migration must go back down
            # cleanly and come up again, as an operator rolling back a release would need.
            downgrade(revision="base")
            upgrade()
        db.engine.dispose()
    return url


# --- the app -----------------------------------------------------------------------------


@pytest.fixture
def app(
    database_url: str,
    shop_url: str,
    redis: Redis,
    redis_url: str,
    smtp_server: tuple[Inbox, int],
    tmp_path: Path,
) -> Iterator[Flask]:
    """The real app on the test database, Redis and SMTP server; rows removed afterwards."""
    from dsar.app import create_app
    from dsar.extensions import db
    from dsar.work import jobcontext

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SHOP_DATABASE_URL": shop_url,
            "REDIS_URL": redis_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server[1],
            "MAIL_USE_TLS": False,
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "SECRET_KEY": "test-secret-" + "x" * 40,
            "BASE_URL": "http://dsar.test",
        }
    )
    jobcontext.bind(app)
    yield app
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A client of the real app."""
    return app.test_client()


@pytest.fixture
def run_jobs(app: Flask, redis: Redis) -> Any:
    """Runs a real RQ worker over dsar's queues until they are empty."""
    from dsar.work import queues
    from dsar.work.worker import Worker

    def run() -> None:
        worker = Worker(list(queues.ALL_QUEUES), connection=redis)
        worker.work(burst=True)

    return run


@pytest.fixture
def seeded_shop(shop_url: str) -> Iterator[Any]:
    """A demo shop with the showcase customer and a few dozen others."""
    from dsar.connectors.shop.seed import seed_shop

    engine = create_engine(shop_url)
    seed_shop(engine, customers=40, seed=7)
    yield engine
    engine.dispose()


OFFICER = "officer@cplus.example"
OFFICER_PASSWORD = "correct horse battery"


@pytest.fixture
def officer_token(app: Flask) -> str:
    """An API token of a privacy officer."""
    from dsar.extensions import db
    from dsar.web.officers import create_officer, issue_token

    with app.app_context():
        token = issue_token(create_officer(OFFICER, OFFICER_PASSWORD))
        db.session.commit()
    return token
