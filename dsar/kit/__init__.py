"""The conformance kit: checks that a connector does what dsar relies on.

A connector's author writes a seed (`dsar.kit.people` says what it must store) and either
subclasses `Conformance` in a pytest module or calls `run_checks`. Its parts: `people`
(the cast and the seed contract), `checks` (the checks), `answers` (how answers are
compared), `suite` (the pytest class) and `plugin` (the pytest plugin).
"""

from dsar.kit.checks import ConformanceFailure, run_checks
from dsar.kit.people import PEOPLE, People, Person
from dsar.kit.suite import Conformance

__all__ = ["PEOPLE", "Conformance", "ConformanceFailure", "People", "Person", "run_checks"]
