"""The pytest plugin (registered through the ``pytest11`` entry point): fixtures for
testing pipelines, available in every test once omnibase is installed.

- ``fake_ctx``: an ``ExecCtx`` with fixed ids and seed (reports are reproducible);
- ``fake_driver``: a fresh ``FaultDriver`` (the fake driver's virtual clock, plus the
  ``slow`` behaviour of ``faulty`` components), so a 30 s backoff takes no time;
- ``run_fake``: ``run_fake(step, value)`` runs with both and returns the report, a
  ``RunReport[B]`` for a ``Step[A, B]`` (annotate the parameter ``run_fake: RunFake``
  and mypy knows ``report.output`` is ``B | None``).

Nothing heavy is imported until a test asks for a fixture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

import pytest

if TYPE_CHECKING:
    from omnibase.core.step import Step
    from omnibase.core.values import ExecCtx, RunReport
    from omnibase.testing.faults import FaultDriver

__all__ = ["RunFake", "fake_ctx", "fake_driver", "run_fake"]

A = TypeVar("A")
B = TypeVar("B")


class RunFake(Protocol):
    """The type of the ``run_fake`` fixture: a ``Step[A, B]`` and an ``A`` in, the run's
    ``RunReport[B]`` out."""

    def __call__(self, step: Step[A, B], value: A, /) -> RunReport[B]: ...


@pytest.fixture
def fake_ctx() -> ExecCtx:
    """A context with fixed run and trace ids, stage ``test`` and seed 0."""
    from omnibase.testing import fake_ctx as make

    return make()


@pytest.fixture
def fake_driver() -> FaultDriver:
    """A fresh fake driver: virtual clock, a log of its sleeps (``.sleeps``) and calls (``.calls``)."""
    from omnibase.testing.faults import FaultDriver

    return FaultDriver()


@pytest.fixture
def run_fake(fake_ctx: ExecCtx, fake_driver: FaultDriver) -> RunFake:
    """``run_fake(step, value)``: run under ``fake_ctx`` and ``fake_driver``."""
    from omnibase.drivers import run

    def run_fake(step: Step[A, B], value: A, /) -> RunReport[B]:
        return run(step, value, fake_ctx, fake_driver)

    return run_fake
