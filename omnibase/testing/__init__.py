"""Tools for testing pipelines: the fake driver, a fixed context, fault injection into
real components, report assertions and law checks. Hypothesis strategies are in
``omnibase.testing.strategies``; the pytest fixtures in ``omnibase.testing.pytest_plugin``.

>>> from omnibase.testing import fake_ctx
>>> fake_ctx().trace_id
'4bf92f3577b34da6a3ce929d0e0e4736'
"""

from __future__ import annotations

from omnibase.drivers.fake import FakeDriver
from omnibase.testing.assertions import assert_failed, assert_passed, assert_steps
from omnibase.testing.context import fake_ctx
from omnibase.testing.faults import Act, FaultDriver, FaultyComponent, InjectedFault, Kind, faulty
from omnibase.testing.laws import check_associativity, check_deterministic, check_identity, difference, observable

__all__ = [
    "Act",
    "FakeDriver",
    "FaultDriver",
    "FaultyComponent",
    "InjectedFault",
    "Kind",
    "assert_failed",
    "assert_passed",
    "assert_steps",
    "check_associativity",
    "check_deterministic",
    "check_identity",
    "difference",
    "fake_ctx",
    "faulty",
    "observable",
]
