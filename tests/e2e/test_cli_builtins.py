"""The real CLI on real git repositories: opt-in built-ins named in the registry."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e


def _steps(r) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(r.out)["steps"]}


def test_only_the_eleven_run_unless_the_registry_names_more(repo, cli):
    repo.write("a.py", 'import pdb\nx = "hi"\n')
    repo.stage("a.py")
    r = cli("orch", "--format", "json")
    assert r.code == 0, r
    assert "debug-statements" not in _steps(r) and len(_steps(r)) == 11
    repo.write("omnibase.yaml", "components:\n  - builtin: debug-statements\n  - builtin: double-quote-string-fixer\n")
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    steps = _steps(r)
    assert steps["debug-statements"]["status"] == "FAIL"
    assert "a.py:1:0: pdb imported" in steps["debug-statements"]["error"]["message"]
    assert steps["double-quote-string-fixer"]["status"] == "FAIL"
    assert (repo.root / "a.py").read_text() == "import pdb\nx = 'hi'\n"
    assert len(steps) == 13


def test_args_are_the_reference_flags(repo, cli):
    repo.write("data.json", '{"b": 1, "a": [1, 2]}')
    repo.stage("data.json")
    repo.write("omnibase.yaml", 'components:\n  - builtin: pretty-format-json\n    args: ["--autofix", "--indent", "4"]\n')
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    assert _steps(r)["pretty-format-json"]["status"] == "FAIL"
    assert (repo.root / "data.json").read_text() == '{\n    "a": [\n        1,\n        2\n    ],\n    "b": 1\n}\n'
    repo.stage("data.json")
    r = cli("orch", "--format", "json")
    assert r.code == 0, r


@pytest.mark.parametrize(
    ("registry", "where", "words"),
    [
        ("components:\n  - builtin: pretty-format-json\n    args: [--autofx]\n", ":3:", "unrecognized arguments: --autofx"),
        ("components:\n  - builtin: check-yaml\n    args: [--unsafe, extra.yaml]\n", ":3:", "unrecognized arguments"),
        ("components:\n  - builtin: mixed-line-ending\n    args: [--fix=dos]\n", ":3:", "invalid choice"),
        ("components:\n  - builtin: check-added-large-files\n    args: [--maxkb, lots]\n", ":3:", "invalid int value"),
        ("components:\n  - builtin: file-contents-sorter\n    args: [--unique, --ignore-case]\n", ":3:",
         "not allowed with argument"),
        ("components:\n  - name: x\n    builtin: no-such-hook\n", ":3:", "no built-in named 'no-such-hook'"),
        ("components:\n  - name: x\n    command: [echo]\n    args: [--x]\n", ":4:", "only a 'builtin' entry takes args"),
        ("components:\n  - builtin: check-xml\n  - builtin: check-xml\n", ":3:", "duplicate name 'check-xml'"),
        ("components:\n  - builtin: check-xml\n    types: [text]\n", ":3:", "types: not for a 'builtin' entry"),
    ],
)
def test_bad_args_are_a_config_error_with_the_line(repo, cli, registry, where, words):
    repo.write("omnibase.yaml", registry)
    repo.write("a.txt", "x\n")
    repo.stage("a.txt")
    r = cli("orch", "--format", "json")
    assert r.code == 2, r
    assert f"omnibase.yaml{where}" in r.err and words in r.err, r
    assert "Traceback" not in r.err


def test_files_and_exclude_choose_what_a_builtin_sees(repo, cli):
    repo.write("allow.txt", "b\na\n")
    repo.write("other.txt", "d\nc\n")
    repo.write("requirements.txt", "zed\nattrs\n")
    repo.write("vendor/requirements-dev.txt", "b\na\n")
    repo.stage("allow.txt", "other.txt", "requirements.txt", "vendor/requirements-dev.txt")
    repo.write(
        "omnibase.yaml",
        "components:\n"
        "  - builtin: file-contents-sorter\n    files: '^allow\\.txt$'\n"
        "  - name: sort-unique\n    builtin: file-contents-sorter\n    args: [--unique]\n    files: '^other'\n"
        "  - builtin: requirements-txt-fixer\n    exclude: '^vendor/'\n",
    )
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    steps = _steps(r)
    assert steps["file-contents-sorter"]["error"]["data"]["files"] == ["allow.txt"]
    assert steps["sort-unique"]["error"]["data"]["files"] == ["other.txt"]
    assert steps["requirements-txt-fixer"]["error"]["data"]["files"] == ["requirements.txt"]
    assert (repo.root / "allow.txt").read_text() == "a\nb\n"
    assert (repo.root / "other.txt").read_text() == "c\nd\n"
    assert (repo.root / "requirements.txt").read_text() == "attrs\nzed\n"
    assert (repo.root / "vendor/requirements-dev.txt").read_text() == "b\na\n"


def test_a_default_builtin_takes_args_under_its_own_name(repo, cli):
    repo.write("multi.yaml", "a: 1\n---\nb: 2\n")
    repo.stage("multi.yaml")
    r = cli("orch", "--format", "json")
    assert r.code == 1 and _steps(r)["check-yaml"]["status"] == "FAIL", r
    repo.write("omnibase.yaml", "components:\n  - builtin: check-yaml\n    args: [--allow-multiple-documents]\n")
    r = cli("orch", "--format", "json")
    assert r.code == 0, r
    assert len(_steps(r)) == 11


def test_no_commit_to_branch_runs_with_no_file_staged(repo, cli):
    repo.write("a.txt", "x\n")
    repo.stage("a.txt")
    repo.commit()
    repo.write("omnibase.yaml", "components:\n  - builtin: no-commit-to-branch\n    args: [--branch, main]\n")
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    assert "committing to branch 'main' is not allowed" in _steps(r)["no-commit-to-branch"]["error"]["message"]
    repo.git("checkout", "-q", "-b", "feature")
    r = cli("orch", "--format", "json")
    assert r.code == 0, r
    assert _steps(r)["no-commit-to-branch"]["status"] == "PASS"


def test_git_modes_reach_the_shebang_checks(repo, cli):
    script = repo.write("tool.sh", "#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    repo.stage("tool.sh")
    repo.write("omnibase.yaml", "components:\n  - builtin: check-shebang-scripts-are-executable\n"
               "  - builtin: check-executables-have-shebangs\n")
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    assert "tool.sh: has a shebang but is not marked executable!" in \
        _steps(r)["check-shebang-scripts-are-executable"]["error"]["message"]
    repo.git("update-index", "--chmod=+x", "tool.sh")
    script.chmod(0o755)
    r = cli("orch", "--format", "json")
    assert r.code == 0, r


def test_opt_in_tags_and_lifecycle_follow_the_entry(repo, cli):
    repo.write("a.xml", "<a><b></a>\n")
    repo.stage("a.xml")
    repo.write("omnibase.yaml", "components:\n  - builtin: check-xml\n    lifecycle: experimental\n")
    r = cli("orch", "--format", "json")
    assert r.code == 0, r  # the pre-commit stage leaves experimental components out
    repo.write("omnibase.yaml", "components:\n  - builtin: check-xml\n    tags: [xml]\n")
    r = cli("orch", "--format", "json", "--filter", "tag=xml")
    assert r.code == 1, r
    assert list(_steps(r)) == ["check-xml"]


def test_registry_add_and_remove_a_builtin_by_its_name(repo, cli):
    repo.write("omnibase.yaml", "components:\n  - name: lint\n    command: [echo]\n")
    r = cli("registry", "add", "--entry", "{builtin: check-xml, args: [], tags: [xml]}", "--format", "json")
    assert r.code == 0, r
    assert "added check-xml" in json.loads(r.out)["output"]
    r = cli("registry", "add", "--entry", "{builtin: check-xml}", "--format", "json")
    assert r.code == 2 and "duplicate name 'check-xml'" in r.err, r
    r = cli("registry", "remove", "check-xml", "--format", "json")
    assert r.code == 0, r
    assert (repo.root / "omnibase.yaml").read_text() == "components:\n  - name: lint\n    command: [echo]\n"


def test_a_default_fixer_given_args_still_chains_with_the_others(repo, cli):
    repo.write("notes.md", "hard break  \nspaces   \ttabs\t\nno final newline")
    repo.stage("notes.md")
    repo.write("omnibase.yaml", "components:\n  - builtin: trailing-whitespace\n    args: [--markdown-linebreak-ext=md]\n")
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    steps = _steps(r)
    assert list(steps)[:3] == ["trailing-whitespace", "end-of-file-fixer", "mixed-line-ending"]
    assert steps["end-of-file-fixer"]["error"]["data"]["fixed"] is True
    assert (repo.root / "notes.md").read_text() == "hard break  \nspaces   \ttabs\nno final newline\n"


def test_aws_secrets_are_found_and_never_reported(repo, cli, tmp_path):
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(f"[default]\naws_secret_access_key = {secret}\n")
    repo.write("settings.py", f"KEY = '{secret}'\n")
    repo.write("clean.py", "x = 1\n")
    repo.stage("settings.py", "clean.py")
    repo.write("omnibase.yaml", "components:\n  - builtin: detect-aws-credentials\n")
    for fmt in ("json", "human"):
        r = cli("orch", "--format", fmt, env={"HOME": str(home)})
        assert r.code == 1, r
        assert "AWS secret found in settings.py" in r.out + r.err
        assert secret[:4] not in r.out + r.err
    steps = _steps(cli("orch", "--format", "json", env={"HOME": str(home)}))
    assert steps["detect-aws-credentials"]["error"]["data"]["files"] == ["settings.py"]
    empty = tmp_path / "empty-home"
    empty.mkdir()
    r = cli("orch", "--format", "json", env={"HOME": str(empty)})
    # exit 2, as the reference: no credentials configured is a configuration error
    assert r.code == 2 and "No AWS keys were found" in _steps(r)["detect-aws-credentials"]["error"]["message"], r
    repo.write("omnibase.yaml", "components:\n  - builtin: detect-aws-credentials\n    args: [--allow-missing-credentials]\n")
    r = cli("orch", "--format", "json", env={"HOME": str(empty)})
    assert r.code == 0, r


def test_a_new_submodule_is_refused(repo, cli, tmp_path):
    import subprocess

    origin = tmp_path / "origin"
    origin.mkdir()
    for args in (["init", "-q", "-b", "main"], ["-c", "user.email=t@e.invalid", "-c", "user.name=t", "commit", "-q",
                                                 "--allow-empty", "-m", "x"]):
        subprocess.run(["git", *args], cwd=origin, check=True, capture_output=True)
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(origin), "sub")
    repo.write("omnibase.yaml", "components:\n  - builtin: forbid-new-submodules\n  - builtin: forbid-submodules\n")
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    steps = _steps(r)
    assert steps["forbid-new-submodules"]["error"]["message"].startswith("sub: new submodule introduced\n\n"
                                                                         "This commit introduces new submodules.")
    assert steps["forbid-submodules"]["error"]["data"]["files"] == ["sub"]
    repo.commit()
    r = cli("orch", "--format", "json", "--all-files")
    steps = _steps(r)
    assert steps["forbid-new-submodules"]["status"] == "PASS"  # committed: no longer new
    assert steps["forbid-submodules"]["status"] == "FAIL"
