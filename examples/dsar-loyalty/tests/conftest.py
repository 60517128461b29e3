"""The example database the tests run the connector against.

Each test gets a SQLite file of its own under its tmp_path, holding the programme's tables
as `dsar_loyalty.tables` describes them and nothing else; the seeds fill it with made-up
people. Nothing here touches the real programme's database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from dsar_loyalty.tables import metadata


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Engine]:
    """An example database holding the programme's tables, empty."""
    engine = create_engine(f"sqlite:///{tmp_path / 'loyalty.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(database: Engine) -> str:
    """The example database's URL, as the connector's setting gives it."""
    return database.url.render_as_string(hide_password=False)
