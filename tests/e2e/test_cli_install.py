"""``omnibase install``: real ``git commit`` and ``git push`` through the installed hooks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import cli_env

pytestmark = pytest.mark.e2e


def _git(repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo.root, capture_output=True, text=True, env=cli_env(None), check=False)


def _commit(repo, message: str = "c") -> subprocess.CompletedProcess[str]:
    return _git(repo, "commit", "-q", "-m", message)


def test_install_writes_an_executable_hook_that_calls_this_python(repo, cli):
    r = cli("install")
    assert r.code == 0, r
    hook = repo.root / ".git" / "hooks" / "pre-commit"
    assert os.access(hook, os.X_OK)
    assert sys.executable in hook.read_text()
    assert cli("install").code == 0  # again: ours, so simply rewritten


def test_commit_through_the_hook_fails_on_broken_staged_content_and_passes_when_fixed(repo, cli):
    assert cli("install").code == 0
    repo.write("a.py", "x = (\n")
    repo.stage("a.py")
    done = _commit(repo)
    assert done.returncode != 0, done
    assert "check-ast" in done.stdout + done.stderr
    assert _git(repo, "rev-parse", "--verify", "-q", "HEAD").returncode != 0  # nothing committed
    repo.write("a.py", "x = 1\n")
    repo.stage("a.py")
    done = _commit(repo)
    assert done.returncode == 0, done
    assert _git(repo, "show", "HEAD:a.py").stdout == "x = 1\n"


def test_commit_hook_fixes_and_blocks_then_the_fixed_file_commits(repo, cli):
    assert cli("install").code == 0
    repo.write("notes.txt", "trailing   \n")
    repo.stage("notes.txt")
    assert _commit(repo).returncode != 0
    assert (repo.root / "notes.txt").read_bytes() == b"trailing\n"
    repo.stage("notes.txt")
    assert _commit(repo).returncode == 0


def test_a_foreign_hook_is_refused_then_chained_then_put_back(repo, cli):
    hook = repo.root / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    foreign = "#!/bin/sh\necho legacy ran >&2\nexit 0\n"
    hook.write_text(foreign)
    hook.chmod(0o755)
    r = cli("install")
    assert r.code == 2, r
    assert "--chain" in r.err and hook.read_text() == foreign
    r = cli("install", "--chain")
    assert r.code == 0, r
    assert (hook.parent / "pre-commit.legacy").read_text() == foreign
    repo.write("a.py", "x = 1\n")
    repo.stage("a.py")
    done = _commit(repo)
    assert done.returncode == 0, done
    assert "legacy ran" in done.stderr
    # a failing legacy hook stops the commit
    (hook.parent / "pre-commit.legacy").write_text("#!/bin/sh\nexit 3\n")
    repo.write("a.py", "x = 2\n")
    repo.stage("a.py")
    assert _commit(repo).returncode != 0
    r = cli("uninstall")
    assert r.code == 0, r
    assert hook.read_text() == "#!/bin/sh\nexit 3\n"
    assert not (hook.parent / "pre-commit.legacy").exists()


def test_overwrite_replaces_a_foreign_hook_and_uninstall_leaves_foreign_hooks_alone(repo, cli):
    hook = repo.root / ".git" / "hooks" / "pre-push"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\nexit 0\n")
    assert cli("uninstall", "--hook-type", "pre-push").code == 0
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"
    r = cli("install", "--hook-type", "pre-push", "--overwrite")
    assert r.code == 0, r
    assert "omnibase" in hook.read_text()
    assert cli("uninstall", "--hook-type", "pre-push").code == 0
    assert not hook.exists()


def test_push_through_the_pre_push_hook_checks_what_is_pushed(repo, cli, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    repo.write("a.py", "x = 1\n")
    repo.stage("a.py")
    repo.commit()
    assert cli("install", "--hook-type", "pre-push").code == 0
    done = _git(repo, "push", "-q", "origin", "main")
    assert done.returncode == 0, done
    repo.write("b.json", "{broken\n")
    repo.stage("b.json")
    repo.commit()  # --no-verify: no pre-commit hook is installed anyway
    done = _git(repo, "push", "-q", "origin", "main")
    assert done.returncode != 0, done
    assert "check-json" in done.stdout + done.stderr
    repo.write("b.json", "{}\n")
    repo.stage("b.json")
    repo.commit()
    done = _git(repo, "push", "-q", "origin", "main")
    assert done.returncode == 0, done


def test_stages_say_at_which_hook_a_component_runs(repo, cli, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    registry = (
        "version: 1\ncomponents:\n"
        "  - {name: push-only, tags: [pre-commit], command: ['false'], stages: [pre-push], always_run: true,"
        " pass_filenames: false}\n"
    )
    repo.write("omnibase.yaml", registry)
    repo.stage("omnibase.yaml")
    assert cli("install", "--hook-type", "pre-commit", "--hook-type", "pre-push").code == 0
    done = _commit(repo)
    assert done.returncode == 0, done  # the failing component does not run at commit time
    done = _git(repo, "push", "-q", "origin", "main")
    assert done.returncode != 0, done
    assert "push-only" in done.stdout + done.stderr
    r = cli("orch", "--format", "json", "--hook-stage", "pre-push", "--all-files")
    assert r.code == 1, r
    r = cli("orch", "--format", "json", "--all-files")
    assert r.code == 0, r


def test_install_outside_a_repository_is_exit_2(tmp_path, cli):
    r = cli("install", cwd=tmp_path)
    assert r.code == 2, r
    assert "not inside a git repository" in r.err


def test_commit_all_and_commit_with_paths_check_what_they_commit(repo, cli):
    repo.write("a.py", "x = 1\n")
    repo.write("b.py", "y = 1\n")
    repo.stage("a.py", "b.py")
    repo.commit()
    assert cli("install").code == 0
    repo.write("a.py", "x = (\n")  # not staged: `git commit -a` takes it anyway
    done = _git(repo, "commit", "-q", "-a", "-m", "all")
    assert done.returncode != 0, done
    assert "check-ast" in done.stdout + done.stderr
    assert (repo.root / "a.py").read_bytes() == b"x = (\n"  # the working tree is left as it was
    repo.write("b.py", "y = 2\n")
    done = _git(repo, "commit", "-q", "-m", "only b", "--", "b.py")  # a partial commit: a.py is not in it
    assert done.returncode == 0, done
    assert _git(repo, "show", "HEAD:b.py").stdout == "y = 2\n"
    assert (repo.root / "a.py").read_bytes() == b"x = (\n"
