"""Request bodies read safely: JSON nested deeper than Python can parse is broken JSON.

Python's parser gives up on a few thousand nested brackets with a RecursionError, which
Flask would let through as a 500; here it is refused like any other body that is not JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.exceptions import BadRequest


class SafeJSONRequest(Request):
    """A request whose JSON body is refused, not crashed on, when nested too deep."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Flask's get_json, with runaway nesting treated as a body that is not JSON."""
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest("The body is JSON nested too deeply.") from None
