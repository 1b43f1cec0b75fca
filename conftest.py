"""Test-session settings shared by every test folder.

CI machines set ``CI=true`` (and GitHub sets ``GITHUB_ACTIONS``), which changes what the CLI
prints (ASCII instead of colour and emoji, plain progress lines, GitHub annotations). The
suite must see the same environment on a laptop and in CI, so these are removed for the
session; a test that is about them sets them itself, in the environment it gives the CLI.

Two switches choose how much searching the suite does (docs/testing.md):

- ``CI`` set (read here before it is removed; ``.ci/run`` sets it): hypothesis runs
  derandomized, with no example database, so a CI run passes or fails on the code alone;
- ``OMNIBASE_SLOW=1`` (``just fuzz``): hypothesis searches at random with more examples,
  and the tests marked ``slow`` run; without it they are skipped.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# pytest-xdist's workers inherit the environment after ``CI`` is gone: they read the copy.
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no") or os.environ.get("OMNIBASE_TEST_CI") == "1"
if IN_CI:
    os.environ["OMNIBASE_TEST_CI"] = "1"
SLOW = os.environ.get("OMNIBASE_SLOW") == "1"

for _name in ("CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "NO_COLOR"):
    os.environ.pop(_name, None)

# The installed git hook hands runs to a warm command server (docs/server.md) that lives on
# after the run: tests that commit through the hook must not leave one behind. The server
# tests (tests/e2e/test_cli_server.py) turn it on in the environment they give the hook.
os.environ["OMNIBASE_SERVER"] = "0"

# Each test's own @settings (max_examples, deadline, health checks) still apply on top.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("fuzz", derandomize=False, max_examples=1000, print_blob=True)
if SLOW:
    settings.load_profile("fuzz")
elif IN_CI:
    settings.load_profile("ci")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SLOW:
        return
    skip = pytest.mark.skip(reason="slow: run with OMNIBASE_SLOW=1 (just fuzz)")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
