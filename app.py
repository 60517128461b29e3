"""WSGI entry point: `gunicorn app:app`."""

from dsar import create_app

app = create_app()
