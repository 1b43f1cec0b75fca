"""``omnibase registry import-pre-commit`` on configs like those of well-known projects."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from omnibase.builtins import CHECKS
from tests.support import cli_env

pytestmark = pytest.mark.e2e

# in the style of a typical library's config (attrs, pip, requests...): pre-commit-hooks,
# formatters and linters from their own repositories, a meta hook
LIBRARY = """\
exclude: ^(docs/_build/|vendor/)
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v6.0.0
    hooks:
      - id: trailing-whitespace
        args: [--markdown-linebreak-ext=md]
      - id: end-of-file-fixer
        exclude: ^tests/data/
      - id: check-yaml
        args: [--allow-multiple-documents]
        files: \\.(yaml|yml)$
      - id: check-added-large-files
        args: ['--maxkb=500']
      - id: check-toml
      - id: fix-encoding-pragma
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.6.9
    hooks:
      - id: ruff
        args: [--fix]
      - id: ruff-format
  - repo: https://github.com/psf/black
    rev: 24.8.0
    hooks:
      - id: black
  - repo: meta
    hooks:
      - id: check-useless-excludes
"""

# in the style of an application's config (Django projects, CPython's tooling): local hooks
LOCAL = """\
fail_fast: true
default_stages: [pre-commit, pre-push]
repos:
  - repo: local
    hooks:
      - id: no-rej-files
        name: no .rej files left from patches
        entry: leftover .rej files (from a failed patch)
        language: fail
        files: \\.rej$
      - id: has-answer
        name: files mention the answer
        entry: {python} -c "import sys; sys.exit(any(b'42' not in open(p, 'rb').read() for p in sys.argv[1:]))"
        language: system
        types: [text]
        exclude_types: [json]
      - id: mypy
        entry: mypy
        language: python
        additional_dependencies: [mypy==1.11.2, types-requests]
        types: [python]
      - id: push-only
        entry: 'true'
        language: system
        pass_filenames: false
        always_run: true
        stages: [push]
      - id: commit-message
        entry: 'true'
        language: system
        stages: [commit-msg]
"""


def _import(repo, cli, text: str, *extra: str):
    repo.write(".pre-commit-config.yaml", text)
    return cli("registry", "import-pre-commit", *extra)


def test_pre_commit_hooks_ids_become_built_ins_and_the_rest_is_listed(repo, cli):
    r = _import(repo, cli, LIBRARY)
    assert r.code == 0, r
    written = (repo.root / "omnibase.yaml").read_text()
    data = yaml.safe_load(written)
    entries = {e["name"]: e for e in data["components"]}
    assert entries["trailing-whitespace"] == {
        "name": "trailing-whitespace",
        "builtin": "trailing-whitespace",
        "tags": ["pre-commit", "imported"],
        "args": ["--markdown-linebreak-ext=md"],
    }
    assert entries["end-of-file-fixer"]["exclude"] == "^tests/data/"
    assert entries["check-yaml"]["files"] == "\\.(yaml|yml)$"
    assert entries["check-yaml"]["args"] == ["--allow-multiple-documents"]
    assert entries["check-added-large-files"]["args"] == ["--maxkb=500"]
    assert data["exclude"] == "^(docs/_build/|vendor/)"
    # no stage filter: the tags select (an entry added later runs too)
    assert "filter" not in data.get("stages", {}).get("pre-commit", {})
    skipped = {line.split()[0] for line in r.out.splitlines()[2:]}
    assert {"fix-encoding-pragma", "ruff", "ruff-format", "black", "check-useless-excludes"} <= skipped
    assert "ruff-pre-commit at v0.6.9: not fetched" in r.out  # OMNIBASE_FETCH=0 in the tests
    assert "meta hooks" in r.out
    assert "# Not imported:" in written  # the file says so too
    assert all(name in CHECKS for name in entries)


def test_local_hooks_become_command_entries_that_run(repo, cli):
    r = _import(repo, cli, LOCAL.format(python=sys.executable))
    assert r.code == 0, r
    data = yaml.safe_load((repo.root / "omnibase.yaml").read_text())
    entries = {e["name"]: e for e in data["components"]}
    assert set(entries) == {"no-rej-files", "has-answer", "mypy", "push-only", "commit-message"}
    assert entries["has-answer"]["command"][:2] == [sys.executable, "-c"]
    assert entries["has-answer"]["types"] == ["text"] and entries["has-answer"]["exclude_types"] == ["json"]
    assert entries["has-answer"]["stages"] == ["pre-commit", "pre-push"]  # default_stages
    assert entries["push-only"]["stages"] == ["pre-push"]  # push: the old name
    assert entries["push-only"]["pass_filenames"] is False and entries["push-only"]["always_run"] is True
    assert data["stages"]["pre-commit"]["fail_fast"] is True
    assert entries["mypy"]["repo"] == {  # an environment of its dependencies, built when it first runs
        "url": "local", "language": "python", "entry": "mypy", "additional_dependencies": ["mypy==1.11.2", "types-requests"]
    }
    assert entries["commit-message"]["stages"] == ["commit-msg"]  # every hook type pre-commit has is one of ours
    # the imported registry runs: the answer is everywhere, no .rej file
    repo.write("a.txt", "42\n")
    repo.stage("a.txt", "omnibase.yaml")
    r = cli("orch", "--format", "json", "--all-files")
    assert r.code == 0, r
    repo.write("b.txt", "41\n")
    repo.write("c.rej", "42\n")
    repo.stage("b.txt", "c.rej")
    r = cli("orch", "--format", "json", "--all-files")
    assert r.code == 1, r
    assert "has-answer" in r.out and "leftover .rej files" in r.out


def test_top_level_files_apply_to_every_hook(repo, cli):
    config = "files: ^src/\nrepos:\n  - repo: local\n    hooks:\n      - {id: x, entry: 'false', language: system, files: \\.py$}\n"
    assert _import(repo, cli, config).code == 0
    entry = yaml.safe_load((repo.root / "omnibase.yaml").read_text())["components"][0]
    import re

    pattern = re.compile(entry["files"])
    assert pattern.search("src/a.py") and not pattern.search("lib/a.py") and not pattern.search("src/a.txt")


def test_an_existing_registry_is_kept_unless_forced(repo, cli):
    repo.write("omnibase.yaml", "version: 1\ncomponents: []\n")
    r = _import(repo, cli, LOCAL.format(python=sys.executable))
    assert r.code == 2, r
    assert "--force" in r.err
    assert (repo.root / "omnibase.yaml").read_text() == "version: 1\ncomponents: []\n"
    assert cli("registry", "import-pre-commit", "--force").code == 0


_TWO_LOCAL = """repos:
  - repo: local
    hooks:
      - {id: no-rej, name: no .rej files, entry: 'leftover .rej files', language: fail, files: \\.rej$}
"""


def test_an_entry_added_after_the_import_runs_in_a_real_commit_and_force_keeps_it(repo, cli):
    repo.seed({"README": "x\n"})
    assert _import(repo, cli, _TWO_LOCAL).code == 0
    added = cli("registry", "add", "--entry", "{name: no-todo, type: validator, tags: [pre-commit], "
                "command: [sh, -c, '! grep -n TODO \"$@\"', x]}")
    assert added.code == 0, added
    assert cli("install").code == 0
    repo.write("a.txt", "TODO later\n")
    repo.stage("a.txt", "omnibase.yaml", ".pre-commit-config.yaml")
    done = subprocess.run(["git", "commit", "-q", "-m", "c"], cwd=repo.root, capture_output=True, text=True, env=cli_env(None))
    assert done.returncode != 0, done
    assert "no-todo" in done.stdout + done.stderr  # the later entry ran in the hook
    # importing again keeps it (and says so); the imported entry is replaced, not doubled
    r = cli("registry", "import-pre-commit", "--force")
    assert r.code == 0, r
    assert "kept 1 entries added since the last import: no-todo" in r.out
    names = [e["name"] for e in yaml.safe_load((repo.root / "omnibase.yaml").read_text())["components"]]
    assert names == ["no-rej", "no-todo"]


def test_force_refuses_when_an_entry_added_since_has_an_imported_name(repo, cli):
    assert _import(repo, cli, _TWO_LOCAL).code == 0
    registry = repo.root / "omnibase.yaml"
    text = registry.read_text()
    data = yaml.safe_load(text)
    data["components"][0]["tags"] = ["pre-commit"]  # made the user's own: no longer the import's
    registry.write_text(yaml.safe_dump(data))
    before = registry.read_text()
    r = cli("registry", "import-pre-commit", "--force")
    assert r.code == 2, r
    assert "no-rej added since the last import would be replaced" in r.err
    assert registry.read_text() == before


def test_force_over_an_older_import_drops_its_name_filter(repo, cli):
    repo.write("omnibase.yaml", "version: 1\nstages:\n  pre-commit:\n    filter: name=no-rej\n"
               "components:\n- {name: no-rej, command: ['false'], tags: [pre-commit]}\n"
               "- {name: mine, command: ['true'], tags: [pre-commit]}\n")
    r = _import(repo, cli, _TWO_LOCAL, "--force")
    assert r.code == 0, r
    data = yaml.safe_load((repo.root / "omnibase.yaml").read_text())
    assert [e["name"] for e in data["components"]] == ["no-rej", "mine"]
    assert "filter" not in data.get("stages", {}).get("pre-commit", {})


@pytest.mark.parametrize(
    ("text", "message"),
    [("repos: [\n", ".pre-commit-config.yaml:2:1: not valid YAML"), ("hooks: []\n", "no 'repos:' list")],
)
def test_a_broken_config_is_exit_2_with_the_place(repo, cli, text, message):
    r = _import(repo, cli, text)
    assert r.code == 2, r
    assert message in r.err and "Traceback" not in r.err
    assert not (repo.root / "omnibase.yaml").exists()


def test_a_missing_config_is_exit_2(repo, cli):
    r = cli("registry", "import-pre-commit", "nope.yaml")
    assert r.code == 2, r
    assert "nope.yaml: cannot read" in r.err
