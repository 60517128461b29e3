"""The Flask extensions, created unbound and attached in create_app with init_app."""

from __future__ import annotations

from typing import Any, cast

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import CursorResult, Update
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """The declarative base of dsar's own tables."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)


def rows_changed(statement: Update) -> int:
    """Runs a conditional UPDATE in the session; how many rows it changed.

    The condition makes the update a claim: of several workers racing for the same row,
    exactly one sees 1.
    """
    result = cast(CursorResult[Any], db.session.execute(statement))
    return result.rowcount
