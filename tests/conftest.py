"""Fixtures: real databases, a real Redis and a real SMTP server, cleaned around each test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from connectors.shop.schema import create_demo_shop, metadata as shop_metadata

#: Set by .ci/run to run the suite against a real PostgreSQL and Redis server.
TEST_DATABASE_URL = os.environ.get("DSAR_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("DSAR_TEST_REDIS_URL", "")


@pytest.fixture
def shop_url(tmp_path: Path) -> Iterator[str]:
    """An empty shop database with the shop's tables: SQLite, or the test PostgreSQL."""
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'shop.db'}"
    engine = create_engine(url)
    shop_metadata.drop_all(engine)
    create_demo_shop(engine)
    engine.dispose()
    yield url
    engine = create_engine(url)
    shop_metadata.drop_all(engine)
    engine.dispose()
