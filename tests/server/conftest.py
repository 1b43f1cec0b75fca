"""Fixtures for the command server's tests: ``forks`` runs code of this test process in a
forked child (the client's fallback ends in ``os.execv``, a served run in ``os._exit``, the
server's loop owns its process's signal handlers and working directory); see
``tests.support.Forks`` and how it links a child's calls to the test for mutmut."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Forks, Relay


@pytest.fixture
def forks(tmp_path: Path) -> Iterator[Forks]:
    relay = Relay(tmp_path / "mutmut-hits")
    made = Forks(relay)
    try:
        yield made
    finally:
        for child in made.children:
            child.kill()
        relay.close()
