"""Every git hook type pre-commit supports, installed and run by real git commands: what
each is given (the message file, the refs, git's other arguments) and what runs at it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import cli_env, git_through_hooks

pytestmark = pytest.mark.e2e


def _git(repo, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return git_through_hooks(repo.root, *args, env=env)


def _registry(*entries: str) -> str:
    return "version: 1\ncomponents:\n" + "".join(entries)


def _entry(name: str, stages: str, script: str, *, files: bool = True, write: str = "") -> str:
    extra = "" if files else "    pass_filenames: false\n    always_run: true\n"
    if write:  # the command writes there too (commands may write only in the repository by default)
        extra += f"    sandbox: {{write: ['.', {write!r}]}}\n"
    return (f"  - name: {name}\n    type: validator\n    tags: [pre-commit]\n    stages: [{stages}]\n{extra}"
            f"    command: [sh, -c, {script!r}, {name}]\n")


FEAT = _entry("conventional", "commit-msg",
              'grep -q "^feat" "$1" || { echo "the message must start with feat: $(head -1 "$1")"; exit 1; }')


def test_commit_msg_hook_checks_the_message_file_and_only_what_names_it_runs(repo, cli):
    repo.seed({"omnibase.yaml": _registry(FEAT)})
    r = cli("install", "-t", "pre-commit", "-t", "commit-msg")
    assert r.code == 0, r
    assert os.access(repo.root / ".git" / "hooks" / "commit-msg", os.X_OK)
    repo.write("a.txt", "x\n")
    repo.stage("a.txt")
    done = _git(repo, "commit", "-q", "-m", "fix things   ")
    assert done.returncode == 1, done
    assert "the message must start with feat: fix things" in done.stdout + done.stderr
    done = _git(repo, "commit", "-q", "-m", "feat: things   ")  # trailing blanks: no file check runs on it
    assert done.returncode == 0, done
    assert _git(repo, "log", "-1", "--format=%s").stdout.strip() == "feat: things"
    # the commit-msg component did not run at pre-commit (it would have failed on a.txt)
    repo.write("b.txt", "y\n")
    repo.stage("b.txt")
    r = cli("orch", "--format", "json")
    assert "conventional" not in r.out and r.code == 0, r


def test_prepare_commit_msg_edits_the_message_and_sees_its_source(repo, cli):
    script = 'printf "\\nsource: %s\\n" "$PRE_COMMIT_COMMIT_MSG_SOURCE" >> "$1"'
    repo.seed({"omnibase.yaml": _registry(_entry("sign", "prepare-commit-msg", script))})
    assert cli("install", "-t", "prepare-commit-msg").code == 0
    repo.write("a.txt", "x\n")
    repo.stage("a.txt")
    done = _git(repo, "commit", "-q", "-m", "hello")
    assert done.returncode == 0, done
    assert _git(repo, "log", "-1", "--format=%B").stdout.strip() == "hello\n\nsource: message"


def test_post_hooks_and_pre_rebase_get_git_arguments_and_no_files(repo, cli, tmp_path: Path):
    log = tmp_path / "hooks.log"
    entries = [
        _entry("after-commit", "post-commit", f'echo "post-commit $#" >> {log}', files=False, write=str(tmp_path)),
        _entry("after-checkout", "post-checkout",
               f'echo "post-checkout $PRE_COMMIT_FROM_REF $PRE_COMMIT_TO_REF $PRE_COMMIT_CHECKOUT_TYPE" >> {log}', files=False, write=str(tmp_path)),
        _entry("after-merge", "post-merge", f'echo "post-merge $PRE_COMMIT_IS_SQUASH_MERGE" >> {log}', files=False, write=str(tmp_path)),
        _entry("after-rewrite", "post-rewrite", f'echo "post-rewrite $PRE_COMMIT_REWRITE_COMMAND" >> {log}', files=False, write=str(tmp_path)),
        _entry("no-rebase", "pre-rebase", f'echo "pre-rebase $PRE_COMMIT_PRE_REBASE_UPSTREAM"; exit 1', files=False),
    ]
    repo.seed({"omnibase.yaml": _registry(*entries)})
    for hook in ("post-commit", "post-checkout", "post-merge", "post-rewrite", "pre-rebase"):
        assert cli("install", "-t", hook).code == 0, hook
    first = _git(repo, "rev-parse", "HEAD").stdout.strip()
    repo.write("a.txt", "x\n")
    repo.stage("a.txt")
    assert _git(repo, "commit", "-q", "-m", "two").returncode == 0
    assert _git(repo, "commit", "-q", "--amend", "-m", "two again").returncode == 0
    second = _git(repo, "rev-parse", "HEAD").stdout.strip()
    assert _git(repo, "checkout", "-q", "-b", "side", first).returncode == 0
    repo.write("b.txt", "y\n")
    repo.stage("b.txt")
    assert _git(repo, "commit", "-q", "-m", "side").returncode == 0
    assert _git(repo, "merge", "-q", "--no-edit", "main").returncode == 0
    rebase = _git(repo, "rebase", "-q", "main")
    assert rebase.returncode != 0  # the pre-rebase component said no
    assert "pre-rebase main" in rebase.stdout + rebase.stderr
    lines = log.read_text().splitlines()
    assert lines[:3] == ["post-commit 0", "post-commit 0", "post-rewrite amend"]
    assert f"post-checkout {second} {first} 1" in lines
    assert "post-merge 0" in lines


def test_default_install_hook_types_of_an_imported_config_are_installed(repo, cli):
    repo.write(".pre-commit-config.yaml", "default_install_hook_types: [pre-commit, commit-msg, pre-push]\n"
               "repos:\n  - repo: local\n    hooks:\n      - {id: ok, entry: 'true', language: system}\n")
    assert cli("registry", "import-pre-commit").code == 0
    r = cli("install")
    assert r.code == 0, r
    hooks = repo.root / ".git" / "hooks"
    assert {h for h in ("pre-commit", "commit-msg", "pre-push", "post-commit") if (hooks / h).exists()} == {
        "pre-commit", "commit-msg", "pre-push"}
    r = cli("uninstall")  # every hook of ours, by default
    assert r.code == 0, r
    assert not any((hooks / h).exists() for h in ("pre-commit", "commit-msg", "pre-push"))


def test_commit_msg_in_a_linked_worktree_gets_the_message_file_outside_the_work_tree(repo, cli, tmp_path: Path):
    repo.seed({"omnibase.yaml": _registry(FEAT)})
    assert cli("install", "-t", "commit-msg").code == 0
    other = tmp_path / "other"
    assert _git(repo, "worktree", "add", "-q", str(other)).returncode == 0
    (other / "b.txt").write_text("y\n")
    subprocess.run(["git", "add", "b.txt"], cwd=other, check=True)
    done = subprocess.run(["git", "commit", "-q", "-m", "wip"], cwd=other, capture_output=True, text=True, env=cli_env(None))
    assert done.returncode == 1, done
    assert "the message must start with feat: wip" in done.stdout + done.stderr
    done = subprocess.run(["git", "commit", "-q", "-m", "feat: b"], cwd=other, capture_output=True, text=True, env=cli_env(None))
    assert done.returncode == 0, done
