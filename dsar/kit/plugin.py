"""The conformance kit's pytest plugin, loaded wherever dsar is installed (entry point
``pytest11: dsar``).

It registers the ``conformance`` marker (``pytest -m conformance`` runs only the kit's
checks) and offers the fixture ``kit_people``, the kit's cast, for seed fixtures that need
it. The checks themselves come with `dsar.kit.Conformance`:

    # tests/test_conformance.py of a connector's package
    import pytest
    from dsar.kit import Conformance

    from crm_connector import CrmConnector, crm_seed


    class TestCrm(Conformance):
        @pytest.fixture
        def make_connector(self, tmp_path):
            settings = {"CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.db'}"}
            return lambda: CrmConnector(settings)

        @pytest.fixture
        def seed(self, tmp_path):
            return lambda people: crm_seed(tmp_path / "crm.db", people)

        @pytest.fixture
        def corrections(self):
            return {"name": "Anna Kit-Jansen"}

The seed contract (what ``seed(people)`` must store) is in `dsar.kit.people`. Outside
pytest, `dsar.kit.run_checks` runs the same checks and returns the failures.

The checks raise their failures with messages, not with ``assert``, so no assertion
rewriting is registered.
"""

from __future__ import annotations

import pytest

from dsar.kit.people import PEOPLE, People


def pytest_configure(config: pytest.Config) -> None:
    """Registers the marker the kit's test class carries."""
    config.addinivalue_line(
        "markers", "conformance: the dsar connector conformance kit's checks (dsar.kit)"
    )


@pytest.fixture
def kit_people() -> People:
    """The kit's cast: the subject anna, another customer, look-alikes and a stranger."""
    return PEOPLE
