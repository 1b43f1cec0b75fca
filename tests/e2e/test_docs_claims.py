"""What the docs' prose promises about the CLI, held to the real CLI on a real repository
(the examples themselves run from docs/conftest.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

ASYNC_COMPONENT = """\
from returns.result import Success


async def ping(ctx, value):
    return Success("pong")
"""


def _ping(repo, isolation: str) -> None:
    registry = f'version: 1\ncomponents:\n  - name: ping\n    type: test\n    python: "tools.aio:ping"\n    isolation: {isolation}\n    always_run: true\n'
    repo.seed({"omnibase.yaml": registry, "tools/__init__.py": "", "tools/aio.py": ASYNC_COMPONENT})


def test_sync_mode_refuses_an_async_def_component_that_would_run_in_process(repo, cli):
    _ping(repo, "none")
    r = cli("orch", "--stage", "test", "--mode", "sync", "--format", "human", "--no-color")
    assert r.code == 2, r  # docs/modes.md: refused with a configuration error (exit 2)
    assert "async" in r.out and "--mode async" in r.out


def test_sync_mode_awaits_an_async_def_component_in_its_worker_process(repo, cli):
    _ping(repo, "process")
    r = cli("orch", "--stage", "test", "--mode", "sync", "--format", "json")
    assert r.code == 0, r  # docs/modes.md: a worker process awaits it
    import json

    step = json.loads(r.out)["steps"][0]
    assert step["name"] == "ping" and step["value"] == "pong"
