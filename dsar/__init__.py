"""dsar: answers data subject rights requests for the Cplus web shop.

The package is in parts that follow a request's way and its layers; each part may use the
parts below it, never those above (import-linter checks it, see pyproject.toml):

- ``dsar.app``, ``dsar.cli``, ``dsar.runner``: the application factory, the ``dsar`` command and
  the one-machine runner.
- ``dsar.web``: the blueprints (intake, verification, delivery, console, API) and what only
  they use.
- ``dsar.work``: what the workers do: connector tasks, the answer's assembly, plans, decisions,
  outcomes, mails, the sweep.
- ``dsar.answer``: the answer's rendering (report, PDF) and storage.
- ``dsar.models``, ``dsar.transitions``, ``dsar.audit``, ``dsar.tokens``, ``dsar.registry``,
  ``dsar.extensions``: the state every part shares.
- ``dsar.policy``: the pure rules: no Flask, no database, no clock, no I/O.
- ``dsar.connector``: the one interface connector authors import.
"""
