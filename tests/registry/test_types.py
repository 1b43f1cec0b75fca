"""Registry type names: unknown names are configuration errors (exit 2) at their line;
known ones become the component's types, and its output is checked at run time."""

from __future__ import annotations

import uuid
from pathlib import Path

import msgspec
import pytest
from returns.result import Failure, Success

from omnibase import FakeDriver, ProtocolViolation, run
from omnibase.core.types import TYPE_NAMES
from omnibase.registry import ConfigError, parse_registry_text
from omnibase.registry._resolve import resolve
from omnibase.registry._schema import Entry
from omnibase.testing import fake_ctx


def _text(input_: str, output: str) -> str:
    return f"version: 1\ncomponents:\n  - name: a\n    python: \"mod:fn\"\n    input: \"{input_}\"\n    output: \"{output}\"\n"


@pytest.mark.parametrize("name", sorted(TYPE_NAMES))
def test_every_documented_type_name_loads(name: str) -> None:
    assert isinstance(parse_registry_text(_text(name, name), "omnibase.yaml"), Success)


@pytest.mark.parametrize(("input_", "output", "field", "line"), [("Path", "int", "input", 5), ("str", "list[Path]", "output", 6)])
def test_an_unknown_type_name_is_a_config_error_at_its_line(input_: str, output: str, field: str, line: int) -> None:
    result = parse_registry_text(_text(input_, output), "omnibase.yaml")
    assert isinstance(result, Failure)
    err = result.failure()
    assert isinstance(err, ConfigError) and err.line == line
    assert f"components[0].{field}: unknown type" in err.message and "list[str]" in err.message


def test_a_python_entry_gets_its_declared_types_and_its_output_is_checked(tmp_path: Path) -> None:
    mod = f"omni_types_{uuid.uuid4().hex}"
    (tmp_path / f"{mod}.py").write_text(
        "from returns.result import Success\n"
        "def words(ctx, text):\n"
        "    return Success(text.split())\n"
        "def count(ctx, text):\n"
        "    return Success(len(text))\n"
    )
    good = msgspec.convert({"name": "w", "python": f"{mod}:words", "input": "str", "output": "list[str]"}, Entry)
    lying = msgspec.convert({"name": "c", "python": f"{mod}:count", "input": "str", "output": "list[str]"}, Entry)
    words = resolve(good, root=str(tmp_path)).unwrap()
    assert (words.in_type, words.out_type) == (str, list[str])
    assert run(words, "a b", fake_ctx(), FakeDriver()).output == ["a", "b"]
    report = run(resolve(lying, root=str(tmp_path)).unwrap(), "abc", fake_ctx(), FakeDriver())
    assert isinstance(report.steps[0].error, ProtocolViolation) and report.exit_code == 4
