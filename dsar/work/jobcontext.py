"""Runs background jobs inside an application context, as Flask's own job example does."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Flask

P = ParamSpec("P")
R = TypeVar("R")

_app: Flask | None = None


def bind(app: Flask) -> None:
    """Sets the app whose context jobs in this process run in (worker.py, the tests)."""
    global _app
    _app = app


def job_app() -> Flask:
    """Returns the bound app.

    The process that runs jobs builds the app and binds it (worker.py, the tests), so this
    part needs no import of the factory, which sits above it.
    """
    if _app is None:
        raise RuntimeError("no app is bound for jobs: run workers with `python worker.py`")
    return _app


def in_app_context(func: Callable[P, R]) -> Callable[P, R]:
    """Wraps a job so it runs in a fresh app context with its own database session."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with job_app().app_context():
            return func(*args, **kwargs)

    return run
