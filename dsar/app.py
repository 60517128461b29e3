"""The application factory: settings, extensions, the installed connectors and the blueprints."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event, make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from dsar import i18n, resources, settings
from dsar.answer.sealing import parse_keys
from dsar.extensions import csrf, db, limiter, mail, migrate
from dsar.policy.lifecycle import CLOSED_STATUSES
from dsar.registry import ConnectorRegistry
from dsar.web import (
    api,
    auth,
    console,
    delivery,
    errors,
    health,
    intake,
    security,
    status,
    verification,
)
from dsar.web.bodies import SafeJSONRequest

MIN_SECRET_LENGTH = 32
#: Seconds to wait for PostgreSQL to accept a connection.
DATABASE_CONNECT_TIMEOUT = 5


def instance_dir() -> Path:
    """Where dsar keeps its state on the embedded defaults (databases, outbox, answers, the
    generated secret key): DSAR_INSTANCE_DIR, else `instance` in the folder dsar is started
    from, so that an installed package never writes inside site-packages."""
    return Path(os.environ.get("DSAR_INSTANCE_DIR") or Path.cwd() / "instance").resolve()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Builds the web app from DSAR_ settings, optionally overridden by `test_config`."""
    app = Flask(
        "dsar",  # the package's name, as before the factory had a module of its own
        template_folder=resources.folder("templates"),
        static_folder=resources.folder("static"),
        instance_path=str(instance_dir()),
    )
    app.config.update(settings.load())
    app.config.update(test_config or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.request_class = SafeJSONRequest
    _resolve_defaults(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resources.folder("migrations")))
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app, str(resources.folder("translations")))

    # The declared connectors are read now, so a broken file is logged at start-up.
    app.extensions["dsar.connectors"] = ConnectorRegistry.discover(
        declared=app.config.get("CONNECTORS_DIR") or None)

    auth.login_manager.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(intake.bp)
    app.register_blueprint(verification.bp)
    app.register_blueprint(delivery.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    errors.init_app(app)
    security.init_app(app)
    app.jinja_env.globals["zip"] = zip
    app.jinja_env.globals["CLOSED_STATUSES"] = CLOSED_STATUSES
    if app.config["PROXY_COUNT"]:
        # Behind a TLS proxy the client's address is in X-Forwarded-For; rate limits need it.
        proxies = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    if app.config["DATABASE_URL"].startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)
    return app


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Lets the web app and workers share one SQLite file: WAL, and waiting on locks."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _resolve_defaults(app: Flask) -> None:
    """Fills the settings left empty with the embedded defaults under the instance folder."""
    instance = Path(app.instance_path)
    cfg = app.config
    cfg["DATABASE_URL"] = cfg["DATABASE_URL"] or f"sqlite:///{instance / 'dsar.db'}"
    cfg["SHOP_DATABASE_URL"] = cfg["SHOP_DATABASE_URL"] or f"sqlite:///{instance / 'shop.db'}"
    cfg["OUTBOX_DIR"] = cfg["OUTBOX_DIR"] or str(instance / "outbox")
    cfg["SQLALCHEMY_DATABASE_URI"] = _with_connect_timeout(cfg["DATABASE_URL"])
    # Query values are personal data: they must not ride along in error messages and logs.
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "hide_parameters": True})
    # Mail is really sent whenever a server is set, in tests too.
    cfg["MAIL_SUPPRESS_SEND"] = False
    cfg["SECRET_KEY"] = _secret_key(cfg["SECRET_KEY"], cfg["ENV"], instance)
    if cfg["ENV"] == "production" and len(cfg["SUPPRESSION_KEY"]) < MIN_SECRET_LENGTH:
        # Derived from SECRET_KEY, rotating that key would empty the suppression list.
        raise RuntimeError(f"set DSAR_SUPPRESSION_KEY to a random value of at least "
                           f"{MIN_SECRET_LENGTH} characters that is never rotated")
    # Read now, so that a malformed key stops the start instead of the first answer.
    if not parse_keys(cfg["STORAGE_KEY"]) and cfg["ENV"] == "production":
        raise RuntimeError("set DSAR_STORAGE_KEY (make one with `dsar storage new-key`): it "
                           "seals the answers kept in the database")
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["SESSION_COOKIE_SECURE"] = cfg["ENV"] == "production"
    # Limits are counted in Redis, so several web processes and machines share one count.
    redis_url = cfg["REDIS_URL"]
    if redis_url.startswith("unix://"):
        redis_url = "redis+" + redis_url
    cfg.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    cfg["RATELIMIT_HEADERS_ENABLED"] = True
    # With Redis down, requests are still taken (the sweep sends their mails later), and the
    # limits are counted in each process's memory meanwhile rather than switched off.
    cfg.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    cfg.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if cfg["ENV"] == "testing":
        cfg.setdefault("RATELIMIT_ENABLED", False)


def _with_connect_timeout(url: str) -> str:
    """A PostgreSQL URL that gives up connecting after DATABASE_CONNECT_TIMEOUT seconds
    unless it says otherwise: a server that does not answer is then an error within seconds,
    not after the operating system's minutes, and /health answers a load balancer in time."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return url
    return parsed.update_query_dict(
        {"connect_timeout": str(DATABASE_CONNECT_TIMEOUT)}).render_as_string(hide_password=False)


def _secret_key(key: str, env: str, instance: Path) -> str:
    """Returns the signing key; production refuses a missing, default or short one."""
    if key and key != settings.UNSET_SECRET:
        if env == "production" and len(key) < MIN_SECRET_LENGTH:
            raise RuntimeError(f"DSAR_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        return key
    if env == "production":
        raise RuntimeError("set DSAR_SECRET_KEY to a long random value to run in production")
    # Outside production a key is made once and kept, so links survive a restart.
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
        logging.getLogger(__name__).info("secret_key=generated path=%s", key_file)
    return key_file.read_text().strip()
