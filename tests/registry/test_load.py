"""Loading and validating the registry file: errors are values naming file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest
from returns.result import Failure, Success

from omnibase.registry import (
    ENV_VAR,
    STAGE_DEFAULTS,
    ConfigError,
    Registry,
    StageConfig,
    find_registry,
    load_registry,
    parse_registry_text,
    stage_settings,
)


def _error(result: object) -> ConfigError:
    assert isinstance(result, Failure), result
    err = result.failure()
    assert isinstance(err, ConfigError)
    return err


GOOD = """\
version: 1
# the components
components:
  - name: first
    command: ["true"]
  - name: second
    python: "mod:fn"
    timeout: 3
"""


def test_good_file_parses(tmp_path: Path) -> None:
    path = tmp_path / "omnibase.yaml"
    path.write_text(GOOD)
    result = load_registry(str(path), cwd=str(tmp_path), env={})
    assert isinstance(result, Success)
    reg = result.unwrap()
    assert reg.path == str(path)
    assert [e.name for e in reg.entries] == ["first", "second"]
    assert reg.entries[0].command == ("true",)
    assert reg.entries[1].timeout == 3.0


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    text = "version: 1\ncomponents:\n  - name: a\n    command: [\"true\"\n  - name: b\n"
    path = tmp_path / "omnibase.yaml"
    path.write_text(text)
    err = _error(load_registry(str(path), cwd=str(tmp_path), env={}))
    assert err.path == str(path)
    assert "invalid YAML" in err.message
    assert (err.line, err.column) == (5, 3)  # the flow list opened on line 4 is broken at line 5
    assert err.render().startswith(f"{path}:{err.line}:")


def test_malformed_yaml_mapping_in_value_line() -> None:
    err = _error(parse_registry_text("version: 1\nkey: value: other\n", "r.yaml"))
    assert (err.line, err.column) == (2, 11)
    assert "mapping values are not allowed" in err.message


def test_malformed_yaml_tab_indent_line() -> None:
    text = "version: 1\ncomponents:\n  - name: a\n\t  command: x\n"
    err = _error(parse_registry_text(text, "r.yaml"))
    assert err.line == 4
    assert "invalid YAML" in err.message


def test_nested_schema_error_names_the_field_line() -> None:
    text = (
        "version: 1\n"
        "components:\n"
        "  - name: a\n"
        "    command: [\"true\"]\n"
        "  - name: b\n"
        "    command: [\"true\"]\n"
        "    timeout: soon\n"
    )
    err = _error(parse_registry_text(text, "r.yaml"))
    assert err.line == 7
    assert err.column == 14
    assert "components[1].timeout" in err.message
    assert err.render().startswith("r.yaml:7:14: ")


def test_nested_schema_error_deeper_field() -> None:
    text = (
        "components:\n"
        "  - name: a\n"
        "    command: [\"true\"]\n"
        "    retry:\n"
        "      max_attempts: 2\n"
        "      cap: lots\n"
    )
    err = _error(parse_registry_text(text, "r.yaml"))
    assert err.line == 6
    assert "components[0].retry.cap" in err.message


def test_unknown_field_is_an_error() -> None:
    text = "components:\n  - name: a\n    command: [\"true\"]\n    colour: red\n"
    err = _error(parse_registry_text(text, "r.yaml"))
    assert "colour" in err.message
    assert err.line >= 2


def test_duplicate_names_point_at_the_second() -> None:
    text = (
        "components:\n"
        "  - name: dup\n"
        "    command: [\"true\"]\n"
        "  - name: other\n"
        "    command: [\"true\"]\n"
        "  - name: dup\n"
        "    command: [\"true\"]\n"
    )
    err = _error(parse_registry_text(text, "r.yaml"))
    assert err.line == 6
    assert "duplicate" in err.message
    assert "components[2].name" in err.message


def test_bad_name_command_and_python_both() -> None:
    err = _error(parse_registry_text("components:\n  - name: 'a b'\n    command: [x]\n", "r"))
    assert err.line == 2 and "may use" in err.message
    err = _error(parse_registry_text("components:\n  - name: a\n    command: [x]\n    python: m:f\n", "r"))
    assert err.line == 2 and "exactly one" in err.message
    err = _error(parse_registry_text("components:\n  - name: a\n", "r"))
    assert "exactly one" in err.message
    err = _error(parse_registry_text("components:\n  - name: a\n    command: []\n", "r"))
    assert err.line == 3 and "empty command" in err.message


def test_bad_files_regex_names_the_line() -> None:
    text = "components:\n  - name: a\n    command: [x]\n    files: '(['\n"
    err = _error(parse_registry_text(text, "r"))
    assert err.line == 4
    assert "bad regex" in err.message


def test_bad_stage_filter_is_an_error() -> None:
    text = "version: 1\nstages:\n  ci:\n    filter: 'bogus=1'\ncomponents: []\n"
    err = _error(parse_registry_text(text, "r.yaml"))
    assert "stages.ci.filter" in err.message
    assert err.line == 4


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_non_mapping_file_is_an_error(text: str) -> None:
    err = _error(parse_registry_text(text, "r.yaml"))
    assert "mapping" in err.message
    assert err.line == 1


def test_wrong_version_is_an_error() -> None:
    err = _error(parse_registry_text("version: 2\n", "r.yaml"))
    assert err.line == 1 and "version" in err.message


def test_empty_file_is_an_empty_registry() -> None:
    result = parse_registry_text("", "r.yaml")
    assert isinstance(result, Success)
    assert result.unwrap().entries == ()
    result = parse_registry_text("# only a comment\n", "r.yaml")
    assert isinstance(result, Success)


def test_missing_explicit_file_is_an_error_value(tmp_path: Path) -> None:
    result = load_registry("nope.yaml", cwd=str(tmp_path), env={})
    err = _error(result)
    assert err.path == str(tmp_path / "nope.yaml")
    assert "cannot read" in err.message
    assert err.render().startswith(str(tmp_path / "nope.yaml"))


def test_missing_env_file_is_an_error_value(tmp_path: Path) -> None:
    err = _error(load_registry(None, cwd=str(tmp_path), env={ENV_VAR: "gone.yaml"}))
    assert err.path == str(tmp_path / "gone.yaml")


def test_not_utf8_is_an_error_value(tmp_path: Path) -> None:
    path = tmp_path / "omnibase.yaml"
    path.write_bytes(b"version: 1\n# \xff\xfe\n")
    err = _error(load_registry(str(path), cwd=str(tmp_path), env={}))
    assert "UTF-8" in err.message


def test_no_file_anywhere_is_an_empty_registry(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    # the tmp root might sit below a stray registry file; only check when there is none
    if find_registry(None, cwd=str(deep), env={}) is None:
        result = load_registry(None, cwd=str(deep), env={})
        assert result == Success(Registry(path=None))


def test_find_order(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    (root / ".git").mkdir()  # the upward search stops at the repository's root
    upward = root / "omnibase.yaml"
    upward.write_text("version: 1\n")
    hidden = root / "a" / ".omnibase.yaml"
    hidden.write_text("version: 1\n")
    env_file = tmp_path / "env.yaml"
    env_file.write_text("version: 1\n")
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text("version: 1\n")
    env = {ENV_VAR: str(env_file)}
    # explicit beats the environment beats the nearest file upward
    assert find_registry(str(explicit), cwd=str(deep), env=env) == str(explicit)
    assert find_registry(None, cwd=str(deep), env=env) == str(env_file)
    assert find_registry(None, cwd=str(deep), env={}) == str(hidden)  # nearest wins
    assert find_registry(None, cwd=str(root), env={}) == str(upward)
    # an empty env var does not count
    assert find_registry(None, cwd=str(deep), env={ENV_VAR: ""}) == str(hidden)
    # relative explicit/env paths are relative to cwd
    assert find_registry("../../../explicit.yaml", cwd=str(deep), env=env) == str(explicit)
    assert find_registry(None, cwd=str(root), env={ENV_VAR: "../env.yaml"}) == str(env_file)
    # omnibase.yaml beats .omnibase.yaml in the same folder
    (root / ".omnibase.yaml").write_text("version: 1\n")
    assert find_registry(None, cwd=str(root), env={}) == str(upward)


def test_find_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "omnibase.yaml").write_text("version: 1\n")  # above the repository
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / ".git").write_text("gitdir: elsewhere\n")  # a worktree's .git is a file
    assert find_registry(None, cwd=str(repo / "sub"), env={}) is None
    assert find_registry(None, cwd=str(repo), env={}) is None
    # outside any repository only the current folder counts
    outside = tmp_path / "plain" / "deeper"
    outside.mkdir(parents=True)
    (tmp_path / "plain" / "omnibase.yaml").write_text("version: 1\n")
    if find_registry(None, cwd=str(tmp_path / "plain"), env={}) == str(tmp_path / "plain" / "omnibase.yaml"):
        assert find_registry(None, cwd=str(outside), env={}) is None


def test_load_uses_found_file(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "omnibase.yaml").write_text(GOOD)
    sub = tmp_path / "sub"
    sub.mkdir()
    result = load_registry(None, cwd=str(sub), env={})
    assert isinstance(result, Success)
    assert result.unwrap().path == str(tmp_path / "omnibase.yaml")


def test_stage_settings_merge_defaults() -> None:
    text = (
        "version: 1\n"
        "stages:\n"
        "  ci:\n"
        "    fail_fast: true\n"
        "  test:\n"
        "    filter: 'tag=unit'\n"
    )
    reg = parse_registry_text(text, "r").unwrap()
    settings = stage_settings(reg)
    # ci keeps its default filter and its tests waiting for the checks, gains fail_fast
    assert settings["ci"] == StageConfig(filter=STAGE_DEFAULTS["ci"].filter, fail_fast=True, tests_wait=True)
    # test's filter is overridden
    assert settings["test"].filter == "tag=unit"
    assert settings["test"].fail_fast is None
    # untouched defaults stay; no stage is invented
    assert settings["pre-commit"] == STAGE_DEFAULTS["pre-commit"]
    assert settings["pipeline"] == STAGE_DEFAULTS["pipeline"]
    assert set(settings) == set(STAGE_DEFAULTS)


def test_stage_settings_without_stages_are_defaults() -> None:
    assert stage_settings(Registry(path=None)) == STAGE_DEFAULTS


# --- the one-pass YAML reader against PyYAML's safe_load ----------------------------------------

import datetime  # noqa: E402

import yaml  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from omnibase.registry._load import Layout, YamlProblem, parse_yaml  # noqa: E402

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
_DATA = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(_DATA)
def test_parse_yaml_reads_what_safe_load_reads(data: object) -> None:
    for flow in (False, True):
        text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
        assert parse_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n",
        "a: &a [1, 2]\nb: [*a, *a]\n",
        "m1: &m1 {a: 1}\nm2: &m2 {a: 2, b: 2}\nboth:\n  <<: [*m1, *m2]\n  c: 3\n",
        "s: !!str 12\ni: !!int '7'\nf: !!float '1.5'\nb: !!binary aGk=\nd: 2001-02-03\nt: yes\nn: ~\nh: 0x1f\n",
        "q: 'quoted: yes'\nlit: |\n  two\n  lines\nfold: >-\n  one\n  line\n",
        "? complex\n: value\n'1': one\n1: int-one\n",
        "",
        "# only a comment\n",
    ],
)
def test_parse_yaml_matches_safe_load_on_yaml_features(text: str) -> None:
    assert parse_yaml(text) == yaml.safe_load(text)
    assert isinstance(parse_yaml("d: 2001-02-03\n")["d"], datetime.date)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: 1\nb: 2\na: 3\n", "duplicate key 'a'", 3),
        ("x: *nope\n", "unknown alias *nope", 1),
        ("a: &a [1, *a]\n", "refers to a node that contains it", 1),
        ("a: 1\n---\nb: 2\n", "more than one YAML document", 2),
        ("x: !!python/object:os.system ls\n", "unsupported tag", 1),
        ("x: !custom {a: 1}\n", "unsupported tag", 1),
        ("x: !!int notanumber\n", "bad int value", 1),
        ("x: " + "[" * 70 + "]" * 70 + "\n", "nested deeper than 64 levels", 1),
        ("? [a, b]\n: 1\n", "a mapping key must be a scalar", 1),
    ],
)
def test_parse_yaml_problems_have_lines(text: str, message: str, line: int) -> None:
    with pytest.raises(YamlProblem) as info:
        parse_yaml(text)
    assert message in info.value.message and info.value.line == line


def test_layout_finds_the_components_list() -> None:
    layout = Layout()
    parse_yaml(GOOD, layout)
    assert layout.key_start is not None and layout.is_seq and not layout.flow
    names = [name for _, _, name in layout.items]
    assert names == [e.name for e in parse_registry_text(GOOD, "r").unwrap().entries]
    lines = GOOD.splitlines()
    assert all(lines[line][col:].startswith("name:") or "name" in lines[line] for line, col, _ in layout.items)


def test_entries_know_their_lines() -> None:
    reg = parse_registry_text(GOOD, "r.yaml").unwrap()
    for entry, line in zip(reg.entries, reg.lines):
        assert f"name: {entry.name}" in GOOD.splitlines()[line - 1]
    assert reg.where(reg.entries[0].name) == f"r.yaml:{reg.lines[0]}"
