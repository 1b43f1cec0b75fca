"""``translate`` on hooks of other repositories, given their manifests as values: the
manifest's fields, the config's over them, and what cannot run listed with why."""

from __future__ import annotations

from typing import Any

import yaml
from returns.result import Failure, Result, Success

from omnibase.registry._import import Imported, translate
from omnibase.registry._load import parse_registry_text

HOOKS: dict[str, dict[str, Any]] = {
    "black": {"id": "black", "name": "black", "entry": "black", "language": "python", "types_or": ["python", "pyi"], "require_serial": True},
    "lint": {"id": "lint", "entry": "lint --strict", "language": "python", "args": ["--from-manifest"], "pass_filenames": False},
    "run-me": {"id": "run-me", "entry": "bin/run-me.sh", "language": "script"},
    "golang": {"id": "golang", "entry": "gofmt", "language": "golang"},
}

CONFIG = """\
default_stages: [pre-commit]
repos:
  - repo: https://example.invalid/hooks
    rev: 1.2.3
    hooks:
      - id: black
        additional_dependencies: ['click<9']
        language_version: python3.12
      - id: lint
        args: [--from-config]
        files: ^src/
      - id: run-me
      - id: golang
      - id: missing
  - repo: https://example.invalid/gone
    rev: v1
    hooks:
      - id: anything
"""


def _fetch(calls: list[tuple[str, str]]) -> Any:
    def fetch(url: str, rev: str) -> Result[dict[str, dict[str, Any]], str]:
        calls.append((url, rev))
        return Success(HOOKS) if url.endswith("/hooks") else Failure("cannot fetch it: no such host")

    return fetch


def _translated() -> tuple[Imported, list[tuple[str, str]]]:
    calls: list[tuple[str, str]] = []
    made = translate(CONFIG, source="c.yaml", builtins=(), fetch=_fetch(calls))
    assert isinstance(made, Imported)
    return made, calls


def test_a_python_hook_keeps_its_manifest_fields_and_the_config_adds_to_them():
    made, _ = _translated()
    entries = {e["name"]: e for e in yaml.safe_load(made.text)["components"]}
    assert entries["black"]["repo"] == {
        "url": "https://example.invalid/hooks",
        "rev": "1.2.3",
        "language": "python",
        "entry": "black",
        "additional_dependencies": ["click<9"],
        "language_version": "python3.12",
    }
    assert entries["black"]["types_or"] == ["python", "pyi"] and entries["black"]["stages"] == ["pre-commit"]


def test_the_config_fields_win_over_the_manifest():
    made, _ = _translated()
    lint = {e["name"]: e for e in yaml.safe_load(made.text)["components"]}["lint"]
    assert lint["args"] == ["--from-config"] and lint["files"] == "^src/" and lint["pass_filenames"] is False
    assert lint["repo"]["entry"] == "lint --strict"


def test_a_script_hook_is_a_repo_entry_and_the_registry_loads():
    made, _ = _translated()
    assert {e["name"]: e for e in yaml.safe_load(made.text)["components"]}["run-me"]["repo"]["language"] == "script"
    assert isinstance(parse_registry_text(made.text, "omnibase.yaml"), Success)
    assert made.repositories == 3


def test_what_cannot_run_is_listed_by_name_and_each_repository_is_fetched_once():
    made, calls = _translated()
    why = {s.hook: s.reason for s in made.skipped}
    assert why["golang"].startswith("language 'golang' is not supported")
    assert why["missing"] == "https://example.invalid/hooks at 1.2.3 has no hook 'missing' in its .pre-commit-hooks.yaml"
    assert why["anything"] == "a hook of https://example.invalid/gone at v1: cannot fetch it: no such host"
    assert calls == [("https://example.invalid/hooks", "1.2.3"), ("https://example.invalid/gone", "v1")]


def test_a_repo_entry_of_an_unsupported_language_does_not_load():
    text = "components:\n  - name: x\n    repo: {url: file:///h, rev: v1, language: rust, entry: x}\n"
    loaded = parse_registry_text(text, "omnibase.yaml")
    assert isinstance(loaded, Failure)
    assert "language 'rust' is not supported" in loaded.failure().render()
