"""Every range the registry file's schema promises, from both sides: the last value it
accepts and the first it refuses (docs/registry.md), read the way a user's ``omnibase.yaml``
is: found from a folder of a real git repository and loaded from disk. A refused value is a
configuration error that names the file, the line and column of the value, and the field
(exit 2); an accepted one reaches the entry unchanged. Then what the loaded entries give
the run: their metadata, retry and breaker policies, stage settings and source lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from returns.result import Failure, Success

from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.values import ComponentType, Crashed, Failed, Lifecycle, Limits, Meta, Raised, Rights, TimedOut
from omnibase.registry import ConfigError, Registry, StageConfig, load_registry, parse_registry_text, stage_settings
from omnibase.registry._schema import STAGE_DEFAULTS, entry_meta
from tests.support import Repo

HEAD = 'version: 1\ncomponents:\n  - name: c\n    command: ["true"]\n'


def _write(repo: Repo, field: str, value: str) -> tuple[str, int, int]:
    """A one-entry ``omnibase.yaml`` whose entry sets ``field`` (``a.b`` nests) to the YAML
    ``value``; its path and the line and column where ``value`` starts (1-based)."""
    head, _, rest = field.partition(".")
    if rest:
        body, line, column = f"    {head}:\n      {rest}: {value}\n", 6, len(f"      {rest}: ") + 1
    else:
        body, line, column = f"    {head}: {value}\n", 5, len(f"    {head}: ") + 1
    path = repo.write("omnibase.yaml", HEAD + body)
    return str(path), line, column


def _load_from(repo: Repo) -> Any:
    """What a command run in a folder of ``repo`` loads (found upward from ``src/``)."""
    (repo.root / "src").mkdir(exist_ok=True)
    return load_registry(None, cwd=str(repo.root / "src"), env={})


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
    ("retry.cap", "86400", "86400.01"),
    ("retry.jitter", "0", "-1"),
    ("retry.jitter", "86400", "86401"),
    ("retry.deadline", "0.5", "0"),
    ("retry.deadline", "86400", "86401"),
    ("retry.transient_exit_codes", "[0]", "[-1]"),
    ("retry.transient_exit_codes", "[255]", "[256]"),
    ("breaker.threshold", "1", "0"),
    ("breaker.threshold", "10000", "10001"),
    ("breaker.window", "0.5", "0"),
    ("breaker.window", "86400", "86401"),
    ("breaker.reset_timeout", "0", "-1"),
    ("breaker.reset_timeout", "86400", "86401"),
    ("breaker.probes", "1", "0"),
    ("breaker.probes", "10000", "10001"),
    ("limits.cpu_seconds", "1", "0"),
    ("limits.memory_mb", "1", "0"),
    ("limits.file_size_mb", "1", "-1"),
    ("limits.processes", "1", "0"),
]


@pytest.mark.parametrize(("field", "accepted", "refused"), RANGES, ids=[f"{f}={r}" for f, _, r in RANGES])
def test_each_limit_accepts_its_last_value_and_refuses_the_next(repo: Repo, field: str, accepted: str, refused: str) -> None:
    _write(repo, field, accepted)
    ok = _load_from(repo)
    assert isinstance(ok, Success), ok
    head, _, rest = field.partition(".")
    got = getattr(ok.unwrap().entries[0], head)
    got = getattr(got, rest) if rest else got
    want = [int(accepted.strip("[]"))] if accepted.startswith("[") else float(accepted)
    assert (list(got) if isinstance(got, tuple) else got) == want

    path, line, column = _write(repo, field, refused)
    bad = _load_from(repo)
    assert isinstance(bad, Failure), (field, refused)
    err = bad.failure()
    if refused.startswith("["):  # the item inside the list is at fault
        column, field = column + 1, field + "[0]"
    assert (err.path, err.line, err.column) == (path, line, column)
    assert err.render().startswith(f"{path}:{line}:{column}: components[0].{field}: Expected "), err.render()


def _names(repo: Repo, name: str) -> Any:
    repo.write("omnibase.yaml", f'version: 1\ncomponents:\n  - name: "{name}"\n    command: ["true"]\n')
    return _load_from(repo)


@pytest.mark.parametrize("name", ["n" * 200, "a", "Lint_2.x-fast"])
def test_a_name_of_allowed_characters_up_to_200_long_is_taken(repo: Repo, name: str) -> None:
    ok = _names(repo, name)
    assert isinstance(ok, Success), ok
    assert ok.unwrap().entries[0].name == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("n" * 201, "components[0].name: Expected `str` of length <= 200"),
        ("", "components[0]: 'name' is required"),
        ("two words", "components[0].name: 'two words' may use A-Z a-z 0-9 _ . - only"),
        ("a/b", "components[0].name: 'a/b' may use A-Z a-z 0-9 _ . - only"),
        ("é", "components[0].name: 'é' may use A-Z a-z 0-9 _ . - only"),
    ],
)
def test_a_name_too_long_empty_or_of_other_characters_is_refused(repo: Repo, name: str, why: str) -> None:
    bad = _names(repo, name)
    assert isinstance(bad, Failure), name
    err = bad.failure()
    assert err.path == str(repo.root / "omnibase.yaml")
    assert err.line == 3
    assert err.render().endswith(why), err.render()


def test_a_breaker_key_of_200_characters_is_the_longest(repo: Repo) -> None:
    _write(repo, "breaker.key", "k" * 200)
    ok = _load_from(repo)
    assert isinstance(ok, Success) and ok.unwrap().entries[0].breaker.key == "k" * 200  # type: ignore[union-attr]
    path, line, column = _write(repo, "breaker.key", "k" * 201)
    err = _load_from(repo).failure()
    assert err.render() == f"{path}:{line}:{column}: components[0].breaker.key: Expected `str` of length <= 200"


def test_a_refused_value_stops_the_cli_with_exit_2_naming_file_line_and_field(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from omnibase.cli import main

    path, line, column = _write(repo, "retry.transient_exit_codes", "[75, 256]")
    monkeypatch.chdir(repo.root)
    assert main(["registry", "list"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}:{column + 5}: components[0].retry.transient_exit_codes[1]: Expected `int` <= 255" in err


# --- a configuration error's one line ----------------------------------------------------------


def test_a_config_error_reads_file_line_column_then_why() -> None:
    assert ConfigError("omnibase.yaml", 5, 14, "components[0].timeout: too long").render() == (
        "omnibase.yaml:5:14: components[0].timeout: too long"
    )
    # no line known (the file could not be read): the file alone
    assert ConfigError("/x/omnibase.yaml", 0, 0, "not UTF-8 (byte 3)").render() == "/x/omnibase.yaml: not UTF-8 (byte 3)"


# --- what a loaded entry gives the run ---------------------------------------------------------


def _entry(text: str) -> Any:
    loaded = parse_registry_text(HEAD.replace('    command: ["true"]\n', "") + text, "omnibase.yaml")
    assert isinstance(loaded, Success), loaded
    return loaded.unwrap().entries[0]


def test_an_entry_declares_the_metadata_of_its_component() -> None:
    entry = _entry(
        "    type: validator\n    lifecycle: canary\n    tags: [lint, fast, lint]\n    description: checks things\n"
        "    idempotent: true\n    pure: true\n    timeout: 2.5\n    python: 'pkg.mod:check'\n"
        "    input: str\n    output: int\n    sandbox: {write: [out], network: true}\n"
        "    limits: {cpu_seconds: 7, memory_mb: 64}\n"
    )
    assert entry_meta(entry) == Meta(
        name="c", type=ComponentType.VALIDATOR, lifecycle=Lifecycle.CANARY, tags=frozenset({"lint", "fast"}),
        idempotent=True, pure=True, timeout=2.5, description="checks things", input_type="str", output_type="int",
        isolation="process", ref="pkg.mod:check", sandbox=Rights(write=("out",), network=True),
        limits=Limits(cpu_seconds=7, memory_mb=64),
    )  # fmt: skip


def test_a_python_entry_runs_in_a_worker_unless_it_says_none_and_a_command_never_does() -> None:
    assert entry_meta(_entry("    python: 'm:f'\n")).isolation == "process"
    assert entry_meta(_entry("    python: 'm:f'\n    isolation: none\n")).isolation == "none"
    command = entry_meta(_entry('    command: ["true"]\n    isolation: process\n'))
    assert (command.isolation, command.ref) == ("none", "")
    assert entry_meta(_entry('    command: ["true"]\n')) == Meta(name="c", sandbox=Rights())


def test_an_entry_without_retry_or_breaker_has_no_policy() -> None:
    entry = _entry('    command: ["true"]\n')
    assert entry.retry_policy() is None
    assert entry.breaker_policy() is None


def test_retry_and_breaker_settings_reach_their_policies() -> None:
    entry = _entry(
        '    command: ["true"]\n'
        "    retry: {max_attempts: 5, initial: 0.5, multiplier: 3, cap: 9, jitter: 0.25, deadline: 60}\n"
        "    breaker: {threshold: 4, window: 12, reset_timeout: 7, probes: 2, key: shared, verdicts: false}\n"
    )
    retry = entry.retry_policy()
    assert isinstance(retry, RetryPolicy)
    assert (retry.max_attempts, retry.initial, retry.multiplier, retry.cap, retry.jitter, retry.deadline) == (5, 0.5, 3, 9, 0.25, 60)
    assert entry.breaker_policy() == BreakerPolicy(threshold=4, window=12, reset_timeout=7, probes=2, key="shared", verdicts=False)
    # without transient_exit_codes a command's exit is a verdict; a timeout is worth another try
    assert not retry.should_retry(Failed(message="exit 75", data={"exit_code": 75}))
    assert retry.should_retry(TimedOut(seconds=1.0))


def _failed_with(code: object) -> Failed:
    return Failed(message=f"exit {code}", data={"exit_code": code, "argv": ["tool"]})


def test_only_the_transient_exit_codes_of_a_command_are_retried() -> None:
    retry = _entry('    command: ["tool"]\n    retry: {transient_exit_codes: [75, 0]}\n').retry_policy()
    assert isinstance(retry, RetryPolicy) and retry.max_attempts == 3  # the other settings stay the defaults'
    assert retry.should_retry(_failed_with(75))
    assert retry.should_retry(_failed_with(0))
    assert not retry.should_retry(_failed_with(1))
    assert not retry.should_retry(_failed_with(76))
    assert retry.should_retry(TimedOut(seconds=1.0))  # timeouts stay transient
    assert retry.should_retry(Failed(message="flaky", transient=True))
    # an error that is no command's exit (no data, other data, a code that is no number)
    assert not retry.should_retry(Failed(message="no data"))
    assert not retry.should_retry(Failed(message="a list", data=[75]))
    assert not retry.should_retry(Failed(message="other keys", data={"status": 75}))
    assert not retry.should_retry(_failed_with("75"))
    assert not retry.should_retry(_failed_with(75.0))
    assert not retry.should_retry(Raised(exc_type="OSError", message="75"))
    assert not retry.should_retry(Crashed(cause="killed by SIGKILL", exit_status=75))


def test_transient_exit_codes_keep_the_other_retry_settings() -> None:
    entry = _entry('    command: ["tool"]\n    retry: {max_attempts: 7, initial: 0.5, cap: 2, deadline: 30, transient_exit_codes: [75]}\n')
    retry = entry.retry_policy()
    assert isinstance(retry, RetryPolicy)
    assert (retry.max_attempts, retry.initial, retry.cap, retry.deadline) == (7, 0.5, 2, 30)
    assert retry.should_retry(_failed_with(75)) and not retry.should_retry(_failed_with(1))


# --- stage settings ----------------------------------------------------------------------------


def test_a_stage_setting_overrides_only_its_own_field_and_false_is_a_setting() -> None:
    loaded = parse_registry_text("version: 1\nstages:\n  ci:\n    tests_wait: false\n  test:\n    fail_fast: true\n", "r")
    settings = stage_settings(loaded.unwrap())
    assert settings["ci"] == StageConfig(filter="lifecycle!=experimental", tests_wait=False)
    assert settings["test"] == StageConfig(filter="type=test", fail_fast=True)
    assert settings["pipeline"] == StageConfig(filter="")
    assert list(settings) == list(STAGE_DEFAULTS)


def test_a_stage_without_defaults_has_its_own_settings_only() -> None:
    registry = Registry(path=None, stages={"nightly": StageConfig(fail_fast=True, filter="tag=slow")})
    settings = stage_settings(registry)
    assert settings["nightly"] == StageConfig(filter="tag=slow", fail_fast=True)
    assert {k: v for k, v in settings.items() if k != "nightly"} == STAGE_DEFAULTS


# --- where an entry is -------------------------------------------------------------------------


def test_an_entry_is_found_at_its_line_and_an_unknown_one_at_the_file() -> None:
    text = 'version: 1\ncomponents:\n  - name: one\n    command: ["true"]\n\n  - name: two\n    command: ["true"]\n'
    registry = parse_registry_text(text, "/p/omnibase.yaml").unwrap()
    assert registry.where("one") == "/p/omnibase.yaml:3"
    assert registry.where("two") == "/p/omnibase.yaml:6"
    assert registry.where("three") == "/p/omnibase.yaml"
    assert Registry(path=None).where("one") == "(no registry file)"
    # lines unknown (a registry made in code): the file
    assert Registry(path="r.yaml", entries=registry.entries).where("two") == "r.yaml"
