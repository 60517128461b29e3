"""`dsar web`: the web app under gunicorn, started from Python rather than from a checkout's
`app:app`, so an installed package, a container or a systemd unit needs nothing but `dsar`.

Each gunicorn worker builds the app itself (nothing is loaded before the fork, so no
connection is shared between processes). SIGTERM drains: gunicorn stops taking connections
and gives the requests under way `GRACEFUL_SECONDS` to finish.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from dsar.app import create_app
from dsar.processes.logs import FORMAT

#: Seconds a request may take before gunicorn replaces the worker serving it. A long
#: answer's PDF is streamed from the database a chunk at a time, well within this.
TIMEOUT_SECONDS = 60
#: Seconds the requests under way get to finish after SIGTERM.
GRACEFUL_SECONDS = 30
#: Seconds an idle connection from a load balancer is kept open.
KEEPALIVE_SECONDS = 5
#: Requests a gunicorn worker serves before it is replaced, give or take the jitter, so that
#: memory a long run gathered goes back.
MAX_REQUESTS = 2000
MAX_REQUESTS_JITTER = 200

#: gunicorn's own log, the access log and the app's log records, all on standard output.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "lines",
                   "stream": "ext://sys.stdout"},
    },
    "formatters": {"lines": {"format": FORMAT}},
}


class WebServer(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn, set up in code, serving dsar's app."""

    def __init__(self, options: dict[str, Any]) -> None:
        """A server with these gunicorn settings (on top of gunicorn's defaults)."""
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Hands the settings to gunicorn."""
        for name, value in self.options.items():
            self.cfg.set(name, value)
        # gunicorn 27's control socket has one path per user by default, which a second
        # `dsar web` on the machine would take over; dsar has no use for it.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        """Builds the app, in each gunicorn worker."""
        return create_app()


def options(binds: list[str], workers: int) -> dict[str, Any]:
    """The gunicorn settings `dsar web` runs with.

    Args:
        binds: addresses to listen on, `HOST:PORT` or `unix:PATH`.
        workers: worker processes, each serving one request at a time.
    """
    return {
        "bind": binds,
        "workers": workers,
        "proc_name": "dsar-web",
        "timeout": TIMEOUT_SECONDS,
        "graceful_timeout": GRACEFUL_SECONDS,
        "keepalive": KEEPALIVE_SECONDS,
        "max_requests": MAX_REQUESTS,
        "max_requests_jitter": MAX_REQUESTS_JITTER,
        "accesslog": "-",
        "logconfig_dict": LOGGING,
    }


def run(binds: list[str], workers: int) -> None:
    """Serves the app until SIGTERM or SIGINT, then drains."""
    WebServer(options(binds, workers)).run()
