"""WSGI entry point: `gunicorn app:app`."""

from dsar.app import create_app

app = create_app()
