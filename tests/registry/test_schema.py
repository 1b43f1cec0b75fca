"""Every range the registry file's schema promises, from both sides: the last value it
accepts and the first it refuses (docs/registry.md). A refused value is a configuration
error that names the field; an accepted one reaches the entry unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from returns.result import Failure, Success

from omnibase.registry._load import parse_registry_text


def _load(field: str, value: str) -> Any:
    """A one-entry registry whose entry sets ``field`` (``a.b`` nests) to the YAML ``value``."""
    head, _, rest = field.partition(".")
    body = f"    {head}: {value}\n" if not rest else f"    {head}:\n      {rest}: {value}\n"
    text = "version: 1\ncomponents:\n  - name: c\n    command: [\"true\"]\n" + body
    return parse_registry_text(text, "omnibase.yaml")


# field, the last value accepted, the first value refused (on each side that has a limit)
RANGES = [
    ("timeout", "0.001", "0"),
    ("timeout", "86400", "86400.5"),
    ("timeout", "1", "-1"),
    ("timeout", "1", ".nan"),
    ("timeout", "1", ".inf"),
    ("retry.max_attempts", "1", "0"),
    ("retry.max_attempts", "100", "101"),
    ("retry.initial", "0", "-0.5"),
    ("retry.initial", "86400", "86401"),
    ("retry.multiplier", "1", "0.5"),
    ("retry.multiplier", "100", "101"),
    ("retry.cap", "0", "-1"),
    ("retry.jitter", "0", "-1"),
    ("retry.deadline", "0.5", "0"),
    ("retry.transient_exit_codes", "[0]", "[-1]"),
    ("retry.transient_exit_codes", "[255]", "[256]"),
    ("breaker.threshold", "1", "0"),
    ("breaker.threshold", "10000", "10001"),
    ("breaker.window", "0.5", "0"),
    ("breaker.reset_timeout", "0", "-1"),
    ("breaker.probes", "1", "0"),
    ("limits.cpu_seconds", "1", "0"),
    ("limits.memory_mb", "1", "0"),
    ("limits.file_size_mb", "1", "-1"),
    ("limits.processes", "1", "0"),
]


@pytest.mark.parametrize(("field", "accepted", "refused"), RANGES, ids=[f"{f}={r}" for f, _, r in RANGES])
def test_each_limit_accepts_its_last_value_and_refuses_the_next(field: str, accepted: str, refused: str) -> None:
    ok = _load(field, accepted)
    assert isinstance(ok, Success), ok
    head, _, rest = field.partition(".")
    got = getattr(ok.unwrap().entries[0], head)
    got = getattr(got, rest) if rest else got
    want = [int(accepted.strip("[]"))] if accepted.startswith("[") else float(accepted)
    assert (list(got) if isinstance(got, tuple) else got) == want
    bad = _load(field, refused)
    assert isinstance(bad, Failure), (field, refused)
    assert field.split(".")[-1] in bad.failure().message, bad.failure().message


def test_a_name_of_200_characters_is_the_longest() -> None:
    ok = parse_registry_text("version: 1\ncomponents:\n  - name: " + "n" * 200 + "\n    command: [\"true\"]\n", "omnibase.yaml")
    assert isinstance(ok, Success) and ok.unwrap().entries[0].name == "n" * 200
    bad = parse_registry_text("version: 1\ncomponents:\n  - name: " + "n" * 201 + "\n    command: [\"true\"]\n", "omnibase.yaml")
    assert isinstance(bad, Failure) and "name" in bad.failure().message
