"""``install``, ``uninstall``, ``restore`` and ``hook-impl`` in process, in a real repository
(the command line parsed by omnibase's own parser): which hook files are written, kept,
chained or refused, what is said, the exit codes, and what a hook run asks the stage for."""

from __future__ import annotations

import io
import os
import shlex
import socket
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omnibase._io.git import repo_paths
from omnibase.cli._main import _parser
from omnibase.orchestrators.table import HOOK_TYPES
from omnibase.precommit._install import (
    hook_impl_command,
    hook_script,
    install_command,
    restore_command,
    uninstall_command,
)
from omnibase.precommit._stash import Stashed, stash
from omnibase.server import client
from tests.support import Repo, git

#: The line that makes a hook file omnibase's (hooks installed by earlier versions carry it too).
MARKER = "# omnibase-hook: written by 'omnibase install'; 'omnibase uninstall' removes it"


def _cmd(*words: str) -> int:
    args = _parser(words[0]).parse_args(list(words))
    if args.command == "hook-impl":
        raise AssertionError("use _hook")
    return int({"install": install_command, "uninstall": uninstall_command, "restore": restore_command}[args.command](args))


@pytest.fixture
def here(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """The repository (one commit), as the current directory; stdin is no terminal."""
    repo.seed({"a.txt": "a\n"})
    monkeypatch.chdir(repo.root)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    return repo


def _hooks(repo: Repo) -> Path:
    return repo.root / ".git" / "hooks"


def _ours(path: Path) -> bool:
    return path.is_file() and MARKER in path.read_text()


# --- install ------------------------------------------------------------------------------


def test_install_writes_an_executable_pre_commit_hook(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    shutil.rmtree(_hooks(here), ignore_errors=True)  # made when missing
    assert _cmd("install") == 0
    hook = _hooks(here) / "pre-commit"
    script = hook.read_text()
    assert script.startswith("#!/bin/sh\n" + MARKER + "\n")
    assert f"\nINSTALL_PYTHON={shlex.quote(sys.executable)}\n" in script
    assert 'hook-impl --hook-type=pre-commit --hook-dir "$HERE" -- "$@"' in script
    assert stat.S_IMODE(hook.stat().st_mode) == 0o755
    assert sorted(p.name for p in _hooks(here).iterdir()) == ["pre-commit"]
    assert capsys.readouterr().out == f"omnibase installed at {hook}\n"


@pytest.mark.parametrize("hook_type", HOOK_TYPES)
def test_every_hook_type_installs_a_script_that_runs_that_hook(here: Repo, hook_type: str) -> None:
    assert _cmd("install", "-t", hook_type) == 0
    script = (_hooks(here) / hook_type).read_text()
    assert script.startswith("#!/bin/sh\n" + MARKER + "\n")
    assert script.count(f" --hook-type={hook_type} --hook-dir ") == 2  # through the server's client, or not
    assert stat.S_IMODE((_hooks(here) / hook_type).stat().st_mode) == 0o755


def test_the_script_runs_omnibase_with_the_python_that_installed_it(here: Repo, tmp_path: Path) -> None:
    python = str(tmp_path / "my env" / "bin" / "python3")  # a space: quoted for sh
    script = hook_script("pre-push", python)
    assert script.startswith("#!/bin/sh\n" + MARKER + "\n")
    assert f"INSTALL_PYTHON={shlex.quote(python)}\n" in script
    assert f"CLIENT={shlex.quote(os.path.abspath(client.__file__))}\n" in script
    assert f"RUN={shlex.quote(client.RUN)}" in script
    assert 'hook-impl --hook-type=pre-push --hook-dir "$HERE" -- "$@"' in script


def test_the_registry_file_says_which_hooks_install_writes(here: Repo) -> None:
    here.write("omnibase.yaml", "version: 1\ndefault_install_hook_types: [commit-msg, pre-push]\ncomponents: []\n")
    assert _cmd("install") == 0
    assert sorted(p.name for p in _hooks(here).iterdir() if _ours(p)) == ["commit-msg", "pre-push"]


def test_a_broken_registry_file_installs_the_pre_commit_hook(here: Repo) -> None:
    here.write("omnibase.yaml", "version: [\n")
    assert _cmd("install") == 0
    assert sorted(p.name for p in _hooks(here).iterdir() if _ours(p)) == ["pre-commit"]


def test_installing_again_replaces_our_own_hook(here: Repo) -> None:
    hook = _hooks(here) / "pre-commit"
    hook.write_text("#!/bin/sh\n" + MARKER + "\nold version\n")
    assert _cmd("install") == 0
    assert "old version" not in hook.read_text() and _ours(hook)
    assert not (_hooks(here) / "pre-commit.legacy").exists()


def test_a_foreign_hook_is_refused_and_left_alone(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    hook = _hooks(here) / "pre-commit"
    hook.write_text("#!/bin/sh\nmine\n")
    assert _cmd("install") == 2
    assert hook.read_text() == "#!/bin/sh\nmine\n"
    assert capsys.readouterr().err == (
        f"omnibase: {hook} exists and is not omnibase's: --chain keeps it (run first, as pre-commit.legacy), "
        "--overwrite replaces it\n"
    )


def test_a_hook_that_quotes_our_marker_deep_inside_is_not_ours(here: Repo) -> None:
    hook = _hooks(here) / "pre-commit"
    hook.write_text("#!/bin/sh\n" + "# notes\n" * 600 + "# " + MARKER + "\n")  # past the first 4 KiB
    assert _cmd("install") == 2
    assert _cmd("uninstall") == 0
    assert hook.exists() and MARKER in hook.read_text()


def test_a_foreign_symlink_is_refused_too(here: Repo, tmp_path: Path) -> None:
    target = tmp_path / "theirs"
    target.write_text("#!/bin/sh\ntheirs\n")
    os.symlink(target, _hooks(here) / "pre-commit")
    assert _cmd("install") == 2
    os.unlink(target)  # dangling: still someone's
    assert _cmd("install") == 2
    assert os.path.islink(_hooks(here) / "pre-commit")


def test_chain_keeps_the_foreign_hook_as_legacy(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    hook = _hooks(here) / "pre-commit"
    hook.write_text("#!/bin/sh\nmine\n")
    assert _cmd("install", "--chain") == 0
    assert (_hooks(here) / "pre-commit.legacy").read_text() == "#!/bin/sh\nmine\n"
    assert _ours(hook)
    err = capsys.readouterr().err
    assert err == f"omnibase: kept the existing pre-commit hook as {hook}.legacy; it runs first\n"
    assert _cmd("install", "--chain") == 0  # ours now: nothing more is kept
    assert (_hooks(here) / "pre-commit.legacy").read_text() == "#!/bin/sh\nmine\n"


def test_chain_refuses_when_a_legacy_hook_is_kept_already(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    hook = _hooks(here) / "pre-commit"
    hook.write_text("#!/bin/sh\nnew\n")
    (_hooks(here) / "pre-commit.legacy").write_text("#!/bin/sh\nold\n")
    assert _cmd("install", "--chain") == 2
    assert hook.read_text() == "#!/bin/sh\nnew\n"
    assert (_hooks(here) / "pre-commit.legacy").read_text() == "#!/bin/sh\nold\n"
    assert capsys.readouterr().err == f"omnibase: {hook}.legacy exists already; move it away first\n"


@pytest.mark.parametrize("mark", ["# File generated by pre-commit: https://pre-commit.com", "# ID: 138fd403232d2ddd5efb44317e38bf03"])
def test_chain_refuses_pre_commits_own_hook(here: Repo, capsys: pytest.CaptureFixture[str], mark: str) -> None:
    hook = _hooks(here) / "pre-commit"
    hook.write_text("#!/usr/bin/env bash\n" + "# filler\n" * 300 + mark + "\n")  # past the first 4 KiB
    assert _cmd("install", "--chain") == 2
    assert not (_hooks(here) / "pre-commit.legacy").exists()
    assert capsys.readouterr().err == (
        f"omnibase: {hook} is pre-commit's own hook, which cannot run chained; omnibase runs the same checks "
        "(omnibase registry import-pre-commit): run 'pre-commit uninstall' first (it puts back a hook it had "
        "kept), then 'omnibase install --chain' again, or replace it with --overwrite\n"
    )
    assert _cmd("install", "--overwrite") == 0
    assert _ours(hook)


def test_a_hook_that_only_mentions_pre_commit_late_is_chained(here: Repo) -> None:
    hook = _hooks(here) / "pre-commit"
    hook.write_text("#!/bin/sh\n" + "#" * 9000 + "\n# File generated by pre-commit: https://pre-commit.com\n")
    assert _cmd("install", "--chain") == 0
    assert (_hooks(here) / "pre-commit.legacy").exists()


def test_chain_keeps_a_dangling_symlink_as_legacy(here: Repo, tmp_path: Path) -> None:
    hook = _hooks(here) / "pre-commit"
    os.symlink(tmp_path / "gone", hook)  # nothing to read: no sign of pre-commit's own hook
    assert _cmd("install", "--chain") == 0
    assert os.readlink(_hooks(here) / "pre-commit.legacy") == str(tmp_path / "gone")
    assert _ours(hook)


def test_overwrite_replaces_a_foreign_symlink_without_writing_through_it(here: Repo, tmp_path: Path) -> None:
    target = tmp_path / "theirs"
    target.write_text("#!/bin/sh\ntheirs\n")
    hook = _hooks(here) / "pre-commit"
    os.symlink(target, hook)
    assert _cmd("install", "--overwrite") == 0
    assert not hook.is_symlink() and _ours(hook)
    assert target.read_text() == "#!/bin/sh\ntheirs\n"
    assert not (_hooks(here) / "pre-commit.legacy").exists()


def test_install_refuses_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for command in ("install", "uninstall", "restore"):
        assert _cmd(command) == 2
        err = capsys.readouterr().err
        assert err.startswith("omnibase: not inside a git repository (")
        assert err.endswith(")\n")


def test_install_refuses_a_hooks_path_it_does_not_manage(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    here.git("config", "core.hooksPath", "elsewhere")
    for command in ("install", "uninstall"):
        assert _cmd(command) == 2
        assert capsys.readouterr().err == (
            "omnibase: core.hooksPath is set: git runs hooks from that folder, which omnibase does not manage; "
            "unset it (git config --unset-all core.hooksPath) or add omnibase's hook there yourself\n"
        )
    assert not (here.root / "elsewhere").exists()
    assert not (_hooks(here) / "pre-commit").exists()


def test_install_in_a_subfolder_writes_the_repositorys_hooks(here: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    (here.root / "sub").mkdir()
    monkeypatch.chdir(here.root / "sub")
    assert _cmd("install") == 0
    assert _ours(_hooks(here) / "pre-commit")


# --- uninstall ----------------------------------------------------------------------------


def test_uninstall_removes_every_hook_of_ours_and_puts_the_legacy_back(
    here: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    (_hooks(here) / "pre-push").write_text("#!/bin/sh\nmine\n")
    (_hooks(here) / "post-merge").write_text("#!/bin/sh\nlfs\n")  # another tool's: left, silently
    (_hooks(here) / "pre-commit").write_text("#!/bin/sh\nother\n")  # before ours in the list: no stop there
    assert _cmd("install", "--chain", "-t", "pre-push", "-t", "commit-msg") == 0
    capsys.readouterr()
    assert _cmd("uninstall") == 0
    hooks = _hooks(here)
    assert (hooks / "pre-push").read_text() == "#!/bin/sh\nmine\n"
    assert (hooks / "post-merge").read_text() == "#!/bin/sh\nlfs\n"
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\nother\n"
    assert not (hooks / "commit-msg").exists() and not (hooks / "pre-push.legacy").exists()
    assert capsys.readouterr().out == (  # no state folder yet: nothing to offer
        f"{hooks / 'pre-push'} removed\nrestored the previous hook from {hooks / 'pre-push'}.legacy\n"
        f"{hooks / 'commit-msg'} removed\n"
    )


def test_uninstall_of_a_named_foreign_hook_says_it_is_left_alone(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    (_hooks(here) / "pre-push").write_text("#!/bin/sh\nmine\n")
    assert _cmd("uninstall", "-t", "pre-push") == 0
    assert (_hooks(here) / "pre-push").exists()
    assert capsys.readouterr().err == f"omnibase: {_hooks(here) / 'pre-push'} is not omnibase's; left alone\n"


def test_uninstall_of_one_hook_leaves_the_others(here: Repo) -> None:
    assert _cmd("install", "-t", "pre-commit", "-t", "pre-push") == 0
    assert _cmd("uninstall", "-t", "pre-push") == 0
    assert _ours(_hooks(here) / "pre-commit") and not (_hooks(here) / "pre-push").exists()


def _state(repo: Repo) -> Path:
    path = repo.root / ".git" / "omnibase"
    (path / "cache").mkdir(parents=True, exist_ok=True)
    (path / "cache" / "x").write_text("x")
    return path


def test_the_state_folder_is_kept_unless_purged(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    state = _state(here)
    shown = os.path.relpath(state)
    assert _cmd("install") == 0
    capsys.readouterr()
    (state / "patches").mkdir()  # no set-aside work in it: nothing to keep the folder for
    assert _cmd("uninstall") == 0
    assert state.is_dir()
    assert capsys.readouterr().out == (
        f"{_hooks(here) / 'pre-commit'} removed\n"
        f"kept {shown} (cache, snapshots, run history); 'omnibase uninstall --purge' removes it\n"
    )
    assert _cmd("uninstall", "--purge") == 0
    assert not state.exists()
    assert capsys.readouterr().out == f"{shown} removed\n"
    assert _cmd("uninstall", "--purge") == 0  # nothing left to remove
    assert capsys.readouterr().out == ""


def test_the_state_folder_stays_while_other_hooks_of_ours_use_it(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    state = _state(here)
    assert _cmd("install", "-t", "pre-commit", "-t", "pre-push") == 0
    capsys.readouterr()
    assert _cmd("uninstall", "-t", "pre-push") == 0
    assert state.is_dir()
    assert capsys.readouterr().out == f"{_hooks(here) / 'pre-push'} removed\n"
    assert _cmd("uninstall", "-t", "pre-push", "--purge") == 0  # asked for: removed all the same
    assert not state.exists()


def test_set_aside_work_keeps_the_state_folder_even_with_purge(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    here.write("a.txt", "mine\n")
    stash(str(here.root), str(here.root / ".git"), Stashed()).unwrap()  # a run killed after this
    state = here.root / ".git" / "omnibase"
    shown = os.path.relpath(state)
    message = (f"omnibase: {shown} is kept: it holds unstaged work an interrupted run set aside; 'omnibase restore' "
               "puts it back\n")  # fmt: skip
    assert _cmd("uninstall") == 0
    assert capsys.readouterr().err == message
    assert _cmd("uninstall", "--purge") == 2
    assert capsys.readouterr().err == message
    assert state.is_dir()
    assert _cmd("restore") == 0
    assert (here.root / "a.txt").read_text() == "mine\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "removed"), [("y\n", True), (" YES \n", True), ("n\n", False), ("", False), ("\n", False)])
def test_on_a_terminal_uninstall_asks_before_removing_the_state_folder(
    here: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], answer: str, removed: bool
) -> None:
    state = _state(here)
    shown = os.path.relpath(state)
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    assert _cmd("uninstall") == 0
    assert state.exists() is not removed
    out = capsys.readouterr().out
    assert out.startswith(f"remove {shown} (the verdict cache, snapshots, saved outputs, run history)? [y/N] ")
    assert out.endswith(f"{shown} removed\n" if removed else "'omnibase uninstall --purge' removes it\n")


def test_purge_on_a_terminal_asks_nothing(here: Repo, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    state = _state(here)
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    assert _cmd("uninstall", "--purge") == 0
    assert not state.exists()
    assert capsys.readouterr().out == f"{os.path.relpath(state)} removed\n"


def test_a_state_folder_that_is_a_symlink_is_never_removed(here: Repo, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("k")
    os.symlink(elsewhere, here.root / ".git" / "omnibase")
    assert _cmd("uninstall", "--purge") == 0
    assert (elsewhere / "keep").exists() and (here.root / ".git" / "omnibase").is_symlink()


@pytest.fixture
def server(here: Repo) -> Iterator[list[bytes]]:
    """A stand-in for the repository's command server (its socket, its pid file: this
    process); what it was sent."""
    folder = here.root / ".git" / "omnibase" / "server"
    folder.mkdir(parents=True, mode=0o700)
    folder.chmod(0o700)
    (here.root / ".git" / "omnibase").chmod(0o700)
    pid = folder / "pid"
    pid.write_text(str(os.getpid()))
    pid.chmod(0o600)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(folder / "s"))
    (folder / "s").chmod(0o600)
    listener.listen(1)
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            got.append(client.read_message(conn))
            conn.sendall(client.frame(b"bye"))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield got
    listener.close()


def test_uninstall_stops_the_command_server(here: Repo, server: list[bytes], capsys: pytest.CaptureFixture[str]) -> None:
    assert _cmd("uninstall") == 0
    assert server == [b"STOP"]
    assert capsys.readouterr().out.startswith("stopped the command server\n")


# --- restore ------------------------------------------------------------------------------


def test_restore_with_nothing_to_restore_says_so(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cmd("restore") == 0
    assert capsys.readouterr().out == "nothing to restore\n"


def test_restore_puts_the_work_back_and_names_each_saved_file(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    here.write("a.txt", "mine\n")
    state = Stashed()
    stash(str(here.root), str(here.root / ".git"), state).unwrap()
    assert (here.root / "a.txt").read_text() == "a\n"
    assert _cmd("restore") == 0
    assert (here.root / "a.txt").read_text() == "mine\n"
    assert capsys.readouterr().out == f"{state.patch}: applied\n"


def test_restore_that_cannot_apply_fails_with_2_until_forced(here: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    here.write("a.txt", "mine\n")
    state = Stashed()
    stash(str(here.root), str(here.root / ".git"), state).unwrap()
    here.write("a.txt", "since\n")
    assert _cmd("restore") == 2
    assert capsys.readouterr().err.startswith(f"omnibase: an interrupted run left your unstaged changes in {state.patch}")
    assert (here.root / "a.txt").read_text() == "since\n"
    assert _cmd("restore", "--force") == 0
    assert (here.root / "a.txt").read_text() == "mine\n"
    assert capsys.readouterr().out.startswith(f"{state.patch}: applied over the working tree (what 1 file(s)")


# --- hook-impl: what a hook run asks for --------------------------------------------------


class _Stdin:
    """git's standard input to a hook: a pipe (not a terminal) holding ``data``."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)

    def isatty(self) -> bool:
        return False


@pytest.fixture
def calls(here: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[list[str], dict[str, str]]]]:
    for name in list(os.environ):
        if name.startswith("PRE_COMMIT_"):
            monkeypatch.delenv(name)
    yield []
    import psutil

    # the git call a hook starts ahead is reaped by the hook itself, even when it ends
    # before the stage asked for it (a legacy hook that failed, a refusal)
    left = [c for c in psutil.Process().children() if c.name() == "git"]
    assert left == [], [c.cmdline() if c.status() != psutil.STATUS_ZOMBIE else "zombie" for c in left]


def _stage(calls: list[tuple[list[str], dict[str, str]]], argv: list[str], code: int) -> int:
    """What the command line's entry point would do first (find the repository: the git call
    the hook started ahead is answered and reaped), then record what the stage was asked."""
    repo_paths(os.getcwd())
    calls.append((argv, {k: v for k, v in os.environ.items() if k.startswith("PRE_COMMIT_")}))
    return code


def _hook(repo: Repo, calls: list[tuple[list[str], dict[str, str]]], hook_type: str, *hook_args: str,
          stdin: bytes = b"", code: int = 0, monkeypatch: pytest.MonkeyPatch) -> int:  # fmt: skip
    monkeypatch.setattr(sys, "stdin", _Stdin(stdin))
    words = ["hook-impl", f"--hook-type={hook_type}", "--hook-dir", str(_hooks(repo)), "--", *hook_args]
    args = _parser("hook-impl").parse_args(words)

    def main(argv: list[str]) -> int:
        return _stage(calls, argv, code)

    return hook_impl_command(args, main)


def _base(hook_type: str) -> list[str]:
    return ["orch", "--stage", "pre-commit", "--hook-stage", hook_type, "--format", "human"]


@pytest.mark.parametrize("hook_type", ["pre-commit", "pre-merge-commit"])
def test_a_commit_hook_runs_the_stage_on_the_staged_files(here: Repo, calls: list, monkeypatch: pytest.MonkeyPatch,
                                                          hook_type: str) -> None:  # fmt: skip
    assert _hook(here, calls, hook_type, code=1, monkeypatch=monkeypatch) == 1
    assert calls == [(_base(hook_type), {})]


def test_a_message_hook_checks_the_message_file_and_sees_gits_arguments(
    here: Repo, calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _hook(here, calls, "prepare-commit-msg", ".git/COMMIT_EDITMSG", "message", "abc", monkeypatch=monkeypatch) == 0
    assert calls == [([*_base("prepare-commit-msg"), "--files", ".git/COMMIT_EDITMSG"],
                      {"PRE_COMMIT_COMMIT_MSG_SOURCE": "message", "PRE_COMMIT_COMMIT_OBJECT_NAME": "abc"})]  # fmt: skip
    calls.clear()
    monkeypatch.delenv("PRE_COMMIT_COMMIT_MSG_SOURCE")
    monkeypatch.delenv("PRE_COMMIT_COMMIT_OBJECT_NAME")
    assert _hook(here, calls, "commit-msg", ".git/COMMIT_EDITMSG", monkeypatch=monkeypatch) == 0
    assert calls == [([*_base("commit-msg"), "--files", ".git/COMMIT_EDITMSG"], {})]


def test_a_post_hook_runs_on_no_file_with_gits_arguments_in_the_environment(
    here: Repo, calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    here.write("omnibase.yaml", "version: 1\ncomponents: []\n# unstaged\n")  # only file hooks refuse this
    assert _hook(here, calls, "post-checkout", "old", "new", "1", monkeypatch=monkeypatch) == 0
    assert calls == [([*_base("post-checkout"), "--files"],
                      {"PRE_COMMIT_FROM_REF": "old", "PRE_COMMIT_TO_REF": "new", "PRE_COMMIT_CHECKOUT_TYPE": "1"})]  # fmt: skip


def test_a_registry_file_with_unstaged_changes_refuses_a_commit(
    here: Repo, calls: list, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    here.seed({"omnibase.yaml": "version: 1\ncomponents: []\n"})
    here.write("omnibase.yaml", "version: 1\ncomponents: []\n# edited\n")
    assert _hook(here, calls, "pre-commit", monkeypatch=monkeypatch) == 2
    assert calls == []
    assert capsys.readouterr().err == (
        "omnibase: omnibase.yaml has changes that are not staged, so this commit would be checked with settings "
        "it does not hold; stage them (git add omnibase.yaml) or set them aside (git stash push --keep-index), "
        "then commit again\n"
    )
    here.stage("omnibase.yaml")
    assert _hook(here, calls, "pre-commit", monkeypatch=monkeypatch) == 0
    assert calls == [(_base("pre-commit"), {})]


def test_an_untracked_or_committed_registry_file_does_not_refuse(here: Repo, calls: list,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    here.write("omnibase.yaml", "version: 1\ncomponents: []\n")
    assert _hook(here, calls, "pre-commit", monkeypatch=monkeypatch) == 0
    here.stage("omnibase.yaml")
    here.commit()
    assert _hook(here, calls, "pre-commit", monkeypatch=monkeypatch) == 0
    assert len(calls) == 2


def _legacy(repo: Repo, tmp_path: Path, code: int) -> Path:
    seen = tmp_path / "legacy-saw"
    hook = _hooks(repo) / "pre-push.legacy"
    hook.write_text(f'#!/bin/sh\necho "$@" > {shlex.quote(str(seen))}\ncat >> {shlex.quote(str(seen))}\nexit {code}\n')
    hook.chmod(0o755)
    return seen


def test_a_chained_legacy_hook_runs_first_with_gits_arguments_and_stdin(
    here: Repo, calls: list, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _legacy(here, tmp_path, 0)
    assert _hook(here, calls, "pre-push", "origin", "url", stdin=b"", monkeypatch=monkeypatch) == 0
    assert seen.read_text() == "origin url\n"
    seen.unlink()
    _hook(here, calls, "pre-push", "origin", "url", stdin=b"line one\n", monkeypatch=monkeypatch)
    assert seen.read_text() == "origin url\nline one\n"


def test_a_failing_legacy_hook_stops_the_run_with_its_code(
    here: Repo, calls: list, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _legacy(here, tmp_path, 3)
    assert _hook(here, calls, "pre-push", "origin", "url", monkeypatch=monkeypatch) == 3
    assert calls == []
    assert capsys.readouterr().err == "omnibase: the legacy pre-push hook failed (exit 3)\n"


def test_a_legacy_hook_that_is_not_executable_is_not_run(
    here: Repo, calls: list, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _legacy(here, tmp_path, 3)
    (_hooks(here) / "pre-push.legacy").chmod(0o644)
    assert _hook(here, calls, "pre-commit", monkeypatch=monkeypatch) == 0
    assert not seen.exists()


def test_a_hook_git_writes_nothing_to_never_reads_stdin(
    here: Repo, calls: list, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = tmp_path / "legacy-saw"
    hook = _hooks(here) / "pre-commit.legacy"
    hook.write_text(f"#!/bin/sh\ncat > {shlex.quote(str(seen))}\n")
    hook.chmod(0o755)
    assert _hook(here, calls, "pre-commit", stdin=b"not for it\n", monkeypatch=monkeypatch) == 0
    assert seen.read_text() == ""


# --- pre-push ranges ----------------------------------------------------------------------

ZERO = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@pytest.fixture
def pushed(here: Repo, tmp_path: Path) -> dict[str, str]:
    """``here`` with a remote ``origin`` that has ``main``; commits: base (on the remote),
    one, two (not pushed), and a branch ``side`` from one with ``three``."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    here.git("remote", "add", "origin", str(remote))
    here.git("push", "-q", "origin", "main")
    ids = {"base": here.git("rev-parse", "HEAD").strip()}
    for name in ("one", "two"):
        here.write(f"{name}.txt", name)
        here.stage(f"{name}.txt")
        here.commit(name)
        ids[name] = here.git("rev-parse", "HEAD").strip()
    here.git("checkout", "-q", "-b", "side", ids["one"])
    here.write("three.txt", "three")
    here.stage("three.txt")
    here.commit("three")
    ids["three"] = here.git("rev-parse", "HEAD").strip()
    return ids


def _push(here: Repo, calls: list, monkeypatch: pytest.MonkeyPatch, lines: list[str], code: int = 0,
          remote: str = "origin") -> int:  # fmt: skip
    stdin = "".join(line + "\n" for line in lines).encode()
    return _hook(here, calls, "pre-push", remote, "url", stdin=stdin, code=code, monkeypatch=monkeypatch)


def _ranges(calls: list) -> list[tuple[str, str]]:
    out = []
    for argv, env in calls:
        assert argv[:7] == _base("pre-push")
        assert argv[7:] == ["--from-ref", env["PRE_COMMIT_FROM_REF"], "--to-ref", env["PRE_COMMIT_TO_REF"]]
        assert env["PRE_COMMIT_REMOTE_NAME"] == "origin" and env["PRE_COMMIT_REMOTE_URL"] == "url"
        out.append((argv[8], argv[10]))
    return out


def test_pushing_a_branch_the_remote_has_checks_what_changed_since(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = f"refs/heads/main {pushed['two']} refs/heads/main {pushed['base']}"
    assert _push(here, calls, monkeypatch, [line]) == 0
    assert _ranges(calls) == [(pushed["base"], pushed["two"])]


def test_pushing_a_new_branch_checks_from_its_first_commit_no_remote_has(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = f"refs/heads/side {pushed['three']} refs/heads/side {ZERO}"
    assert _push(here, calls, monkeypatch, [line]) == 0
    assert _ranges(calls) == [(pushed["base"], pushed["three"])]


def test_a_new_root_commit_is_checked_from_the_empty_tree(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    here.git("checkout", "-q", "--orphan", "fresh")
    here.commit("root")
    root = here.git("rev-parse", "HEAD").strip()
    assert _push(here, calls, monkeypatch, [f"refs/heads/fresh {root} refs/heads/fresh {ZERO}"]) == 0
    assert _ranges(calls) == [(EMPTY_TREE, root)]


def test_pushing_to_a_branch_of_another_name_checks_the_local_commits(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = f"refs/heads/side {pushed['three']} refs/heads/main {pushed['base']}"  # git push origin side:main
    assert _push(here, calls, monkeypatch, [line]) == 0
    assert _ranges(calls) == [(pushed["base"], pushed["three"])]


def test_the_remote_sha_git_gives_is_the_start_even_past_the_remote_tracking_branch(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the remote's main is at `one` (pushed from elsewhere); origin/main here still says base
    line = f"refs/heads/main {pushed['two']} refs/heads/main {pushed['one']}"
    assert _push(here, calls, monkeypatch, [line]) == 0
    assert _ranges(calls) == [(pushed["one"], pushed["two"])]


def test_lines_with_nothing_to_check_do_not_stop_the_ones_after_them(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        f"(delete) {ZERO} refs/heads/old {pushed['base']}",
        f"refs/heads/x {'2' * 40} refs/heads/x {ZERO}",
        f"refs/heads/copy {pushed['base']} refs/heads/copy {ZERO}",
        f"refs/heads/side {pushed['three']} refs/heads/side {ZERO}",
    ]
    assert _push(here, calls, monkeypatch, lines, code=1) == 1
    assert _ranges(calls) == [(pushed["base"], pushed["three"])]


def test_a_remote_sha_this_repository_lacks_is_treated_as_a_new_branch(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = f"refs/heads/main {pushed['two']} refs/heads/main {'1' * 40}"
    assert _push(here, calls, monkeypatch, [line]) == 0
    assert _ranges(calls) == [(pushed["base"], pushed["two"])]


def test_nothing_to_check_for_deletions_known_commits_and_unknown_shas(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        f"(delete) {ZERO} refs/heads/old {pushed['base']}",  # a deletion pushes no content
        f"refs/heads/copy {pushed['base']} refs/heads/copy {ZERO}",  # every commit is on the remote
        f"refs/heads/x {'2' * 40} refs/heads/x {ZERO}",  # no such commit here
        "a line git would never write",
        "",
    ]
    assert _push(here, calls, monkeypatch, lines, code=1) == 0
    assert calls == []


def test_each_pushed_ref_is_checked_and_the_worst_code_wins(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = iter([1, 0])
    monkeypatch.setattr(sys, "stdin", _Stdin(
        f"refs/heads/main {pushed['two']} refs/heads/main {pushed['base']}\n"
        f"refs/heads/side {pushed['three']} refs/heads/side {ZERO}\n".encode()))  # fmt: skip
    args = _parser("hook-impl").parse_args(["hook-impl", "--hook-type=pre-push", "--hook-dir", str(_hooks(here)), "--",
                                           "origin", "url"])  # fmt: skip

    def main(argv: list[str]) -> int:
        return _stage(calls, argv, next(codes))

    assert hook_impl_command(args, main) == 1
    assert _ranges(calls) == [(pushed["base"], pushed["two"]), (pushed["base"], pushed["three"])]


def test_the_remote_pushed_to_is_the_one_whose_branches_count(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = tmp_path / "other.git"
    git(tmp_path, "init", "-q", "--bare", str(other))
    here.git("remote", "add", "other", str(other))
    here.git("push", "-q", "other", f"{pushed['one']}:refs/heads/main")  # `other` has one, origin only base
    line = f"refs/heads/side {pushed['three']} refs/heads/side {ZERO}"
    assert _hook(here, calls, "pre-push", "other", "url", stdin=(line + "\n").encode(), monkeypatch=monkeypatch) == 0
    assert [(argv[8], argv[10]) for argv, _ in calls] == [(pushed["one"], pushed["three"])]


def test_a_ref_name_that_is_not_utf8_does_not_stop_the_push_check(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = (f"refs/heads/caf\xe9 {pushed['three']} refs/heads/caf\xe9 {ZERO}\n".encode("latin-1")
             + f"refs/heads/main {pushed['two']} refs/heads/main {pushed['base']}\n".encode())  # fmt: skip
    assert _hook(here, calls, "pre-push", "origin", "url", stdin=stdin, monkeypatch=monkeypatch) == 0
    assert _ranges(calls) == [(pushed["base"], pushed["three"]), (pushed["base"], pushed["two"])]


def test_a_push_with_no_remote_named_looks_at_origin(
    here: Repo, pushed: dict[str, str], calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    here.git("remote", "add", "other", str(here.root / "nowhere"))
    monkeypatch.setattr(sys, "stdin", _Stdin(f"refs/heads/side {pushed['three']} refs/heads/side {ZERO}\n".encode()))
    args = _parser("hook-impl").parse_args(["hook-impl", "--hook-type=pre-push", "--hook-dir", str(_hooks(here))])
    assert hook_impl_command(args, lambda argv: _stage(calls, argv, 0)) == 0
    assert calls[0][0][8] == pushed["base"]  # origin has base: the range starts there
