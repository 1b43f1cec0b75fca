"""A ``@component`` of the wrong call shape, through the real CLI: refused when its module
is imported (exit 3 at the registry entry), naming the function, its file and line, and
the shape expected; never a ``TypeError`` from inside a run."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

PLUGIN = """\
from returns.result import Success
from omnibase import component


@component
def no_ctx(value):
    return Success(value)
"""

REGISTRY = """\
version: 1
components:
  - name: shape
    tags: [t]
    python: "plugin:no_ctx"
"""


def test_a_component_without_ctx_is_a_resolution_error_naming_the_function(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"plugin.py": PLUGIN, "omnibase.yaml": REGISTRY})
    r = cli("orch", "--stage", "ci", "--tags", "t", "--format", "json")
    assert r.code == 3, r
    assert r.out == ""  # nothing ran: no report of a step that raised TypeError
    (line,) = r.err.strip().splitlines()
    assert "omnibase.yaml:3: shape:" in line
    assert f"@component no_ctx ({repo.root / 'plugin.py'}:5)" in line
    assert "no_ctx(value) cannot be called as no_ctx(ctx, value)" in line
    assert "takes 1 positional argument" not in line
