"""``omnibase install``: real ``git commit`` and ``git push`` through the installed hooks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import cli_env, git_through_hooks

pytestmark = pytest.mark.e2e


def _git(repo, *args: str) -> subprocess.CompletedProcess[str]:
    return git_through_hooks(repo.root, *args)


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


# --- switching from pre-commit: its own hook script, and leaving nothing behind ----------------

PRE_COMMIT = os.path.join(os.path.dirname(sys.executable), "pre-commit")


@pytest.mark.skipif(not os.access(PRE_COMMIT, os.X_OK), reason="pre-commit is not installed beside this Python")
def test_chain_over_pre_commits_own_hook_says_to_uninstall_it_first_and_then_works(repo, cli):
    repo.seed({".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks:\n"
               "      - {id: ok, name: ok, entry: 'true', language: system}\n"})
    env = cli_env(None)
    done = subprocess.run([PRE_COMMIT, "install"], cwd=repo.root, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done
    hook = repo.root / ".git" / "hooks" / "pre-commit"
    theirs = hook.read_text()
    r = cli("install", "--chain")
    assert r.code == 2, r
    assert "pre-commit's own hook" in r.err and "pre-commit uninstall" in r.err
    assert hook.read_text() == theirs and not (hook.parent / "pre-commit.legacy").exists()
    done = subprocess.run([PRE_COMMIT, "uninstall"], cwd=repo.root, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done
    assert cli("registry", "import-pre-commit").code == 0
    assert cli("install", "--chain").code == 0
    repo.write("a.txt", "x\n")
    repo.stage("a.txt", "omnibase.yaml")
    done = _commit(repo)
    assert done.returncode == 0, done
    assert "migration mode" not in done.stdout + done.stderr


def test_uninstall_stops_the_server_and_removes_the_state_folder_only_when_asked(repo, cli):
    from omnibase.server import client as _client

    assert cli("install").code == 0
    repo.write("a.txt", "x\n")
    repo.stage("a.txt")
    served = cli_env(None)
    served.pop("OMNIBASE_SERVER", None)  # this test wants the warm server
    served["OMNIBASE_SERVER_IDLE"] = "60"
    done = subprocess.run(["git", "commit", "-q", "-m", "c"], cwd=repo.root, capture_output=True, text=True, env=served, check=False)
    assert done.returncode == 0, done
    folder = _client.socket_dir(str(repo.root / ".git"))
    import time

    for _ in range(200):  # the first commit starts the server behind it
        if _client.status_request(folder, b"STATUS") is not None:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("no server came up")
    state = repo.root / ".git" / "omnibase"
    r = cli("uninstall")
    assert r.code == 0, r
    assert "stopped the command server" in r.out
    assert "'omnibase uninstall --purge' removes it" in r.out  # not a terminal: said, nothing removed
    assert state.is_dir()
    for _ in range(200):
        if _client.status_request(folder, b"STATUS") is None:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the server still answers")
    # unstaged work kept there by an interrupted run is never purged
    (state / "patches").mkdir(exist_ok=True)
    (state / "patches" / "1.patch").write_text("work")
    r = cli("uninstall", "--purge")
    assert r.code == 2 and "omnibase restore" in r.err, r
    assert (state / "patches" / "1.patch").read_text() == "work"
    (state / "patches" / "1.patch").unlink()
    r = cli("uninstall", "--purge")
    assert r.code == 0, r
    assert not state.exists()


@pytest.mark.parametrize(("answer", "removed"), [("y\n", True), ("\n", False)])
def test_uninstall_on_a_terminal_asks_before_removing_the_state_folder(repo, cli, answer, removed):
    import pty

    assert cli("install").code == 0
    assert cli("orch", "--all-files", "--format", "json").code in (0, 1)  # something in the state folder
    state = repo.root / ".git" / "omnibase"
    state.mkdir(exist_ok=True)
    main_fd, tty = pty.openpty()
    try:
        os.write(main_fd, answer.encode())
        done = subprocess.run([sys.executable, "-m", "omnibase", "uninstall"], cwd=repo.root, stdin=tty,
                              capture_output=True, text=True, env=cli_env(None), timeout=60, check=False)
    finally:
        os.close(tty)
        os.close(main_fd)
    assert done.returncode == 0, done
    assert "remove .git/omnibase" in done.stdout
    assert state.exists() is not removed
