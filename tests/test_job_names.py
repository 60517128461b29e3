"""Jobs are enqueued by dotted name: each name must lead to a function the worker can run."""

from __future__ import annotations

import importlib

from dsar.work import queues


def test_every_job_enqueued_by_name_is_a_job_the_worker_can_run() -> None:
    """A job name that drifted from its function would leave work in Redis that nobody runs."""
    names = [value for key, value in vars(queues).items()
             if key.isupper() and isinstance(value, str) and value.startswith("dsar.")]
    assert len(names) == 4
    for name in names:
        module, _, function = name.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function, None)), name
