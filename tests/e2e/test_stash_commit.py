"""Every unstaged byte and mode comes back: real ``git commit`` runs through the installed hook.

pre-commit's ``staged_files_only`` scenarios (binary files, CRLF under ``core.autocrlf`` and
``text=auto``, submodules, intent-to-add files, non-UTF-8 names, a reset that cannot
happen) and the ways to lose work issue 24 found beyond them (a ``textconv`` driver that
hides or rewrites lines, ``diff.context 0``, ``assume-unchanged``/``skip-worktree`` files,
permission bits beyond +x, thousands of intent-to-add files with long paths). After each
commit the working tree is compared, byte for byte and mode for mode, with what it held
before, and the commit with what was staged.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import cli_env as _env, git_through_hooks

pytestmark = pytest.mark.e2e


def _tree(root: Path) -> dict[bytes, tuple[int, bytes]]:
    """Every path under ``root`` but ``.git`` and Python's bytecode caches (written when a
    component is imported, unless PYTHONDONTWRITEBYTECODE is set): (full mode, bytes or a
    symlink's target)."""
    out: dict[bytes, tuple[int, bytes]] = {}
    base = os.fsencode(root)
    for folder, dirs, names in os.walk(base):
        dirs[:] = [d for d in dirs if d not in (b".git", b"__pycache__")]
        for name in names:
            full = os.path.join(folder, name)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(full)
            else:
                with open(full, "rb") as f:
                    data = f.read()
            out[os.path.relpath(full, base)] = (st.st_mode, data)
    return out


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return git_through_hooks(root, *args, text=False, check=check)


def _commit(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-q", "-m", "through the hook"], cwd=root, capture_output=True,
                          text=True, env=_env(None), check=False)


def _patches(root: Path) -> list[Path]:
    """Saved work under .git/omnibase/patches (and any other file left there)."""
    folder = root / ".git" / "omnibase" / "patches"
    return sorted(folder.iterdir()) if folder.exists() else []


def _saved(root: Path) -> list[Path]:
    """Only the saved work (a temporary file of an interrupted save is not work)."""
    return [p for p in _patches(root) if p.suffix in (".stash", ".patch")]


@pytest.fixture
def hooked(repo, cli):
    """The repository with omnibase's hook installed and a first commit."""
    repo.seed({"a.txt": "one\ntwo\n"})
    assert cli("install").code == 0
    return repo


def _commits_keeping_the_tree(repo, *, staged: dict[str, bytes]) -> None:
    """Commit through the hook; the working tree is exactly as before, the commit holds
    ``staged``, nothing is left under .git/omnibase/patches."""
    before = _tree(repo.root)
    done = _commit(repo.root)
    assert done.returncode == 0, done
    assert _tree(repo.root) == before
    for path, data in staged.items():
        assert _git(repo.root, "show", f"HEAD:{path}").stdout == data
    assert _patches(repo.root) == []


def test_an_unstaged_binary_change_comes_back(hooked):
    blob = bytes(range(256)) * 8
    hooked.write("img.bin", blob)
    hooked.stage("img.bin")
    hooked.commit()
    hooked.write("img.bin", blob[:100] + b"\x00changed\xff" + blob[100:])
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n"})


@pytest.mark.parametrize("autocrlf", ["false", "true", "input"])
@pytest.mark.parametrize("attributes", ["", "* text=auto\n"])
@pytest.mark.parametrize("edit", [b"one\r\ntwo\r\n", b"one\ntwo\nthree\n", b"one\r\ntwo changed\r\n"],
                         ids=["crlf-only", "lf-edit", "crlf-edit"])
def test_line_endings_come_back_exactly(hooked, autocrlf, attributes, edit):
    hooked.git("config", "core.autocrlf", autocrlf)
    if attributes:
        hooked.write(".gitattributes", attributes)
        hooked.stage(".gitattributes")
        hooked.commit()
    hooked.write("a.txt", edit)
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n"})


def test_a_staged_and_further_edited_file_commits_the_staged_version(hooked):
    hooked.write("a.txt", "one\ntwo\nstaged\n")
    hooked.stage("a.txt")
    hooked.write("a.txt", "one\r\ntwo\r\nstaged\r\nunstaged\r\n")
    _commits_keeping_the_tree(hooked, staged={"a.txt": b"one\ntwo\nstaged\n"})


def test_a_textconv_driver_that_hides_a_line_cannot_revert_its_edit(hooked):
    hooked.write(".gitattributes", "*.txt diff=conv\n")
    hooked.write("s.txt", "public\nSECRET=1\n")
    hooked.stage(".gitattributes", "s.txt")
    hooked.commit()
    hooked.git("config", "diff.conv.textconv", "grep -v SECRET")
    hooked.write("s.txt", "public\nSECRET=2\n")  # an edit the driver hides
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n"})


def test_a_textconv_driver_that_rewrites_cannot_change_what_comes_back(hooked):
    hooked.write(".gitattributes", "*.txt diff=upper\n")
    hooked.stage(".gitattributes")
    hooked.commit()
    hooked.git("config", "diff.upper.textconv", "tr a-z A-Z <")
    hooked.write("a.txt", "one\ntwo, edited\n")
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n"})


def test_diff_context_zero_changes_nothing(hooked):
    hooked.git("config", "diff.context", "0")
    hooked.git("config", "diff.noprefix", "true")
    hooked.write("a.txt", "one\ntwo, edited\n")
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n"})


def test_assume_unchanged_and_skip_worktree_edits_are_left_alone(hooked):
    hooked.seed({"au.txt": "au\n", "sw.txt": "sw\n"})
    hooked.git("update-index", "--assume-unchanged", "au.txt")
    hooked.git("update-index", "--skip-worktree", "sw.txt")
    hooked.write("au.txt", "local edit\n")
    hooked.write("sw.txt", "local edit too\n")
    hooked.write("a.txt", "one\ntwo, edited\n")
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n", "au.txt": b"au\n", "sw.txt": b"sw\n"})


def test_permission_bits_beyond_the_executable_bit_come_back(hooked):
    hooked.seed({"run.sh": "#!/bin/sh\necho hi\n", "shared.txt": "shared\n"})
    os.chmod(hooked.root / "shared.txt", 0o664)  # git does not see this one
    os.chmod(hooked.root / "a.txt", 0o664)
    hooked.write("a.txt", "one\ntwo, edited\n")  # ... nor this mode, but the edit it does
    os.chmod(hooked.root / "run.sh", 0o775)  # +x: git sees a mode change
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n"})


def test_deletions_and_symlink_changes_come_back(hooked):
    hooked.seed({"gone.txt": "soon deleted\n", "link": b""})
    (hooked.root / "link").unlink()
    os.symlink("a.txt", hooked.root / "link")
    hooked.stage("link")
    hooked.commit()
    (hooked.root / "gone.txt").unlink()
    (hooked.root / "link").unlink()
    os.symlink("elsewhere", hooked.root / "link")
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n", "gone.txt": b"soon deleted\n"})


def test_non_utf8_names_come_back(hooked):
    name = b"caf\xe9 \xff.txt"
    full = os.path.join(os.fsencode(hooked.root), name)
    with open(full, "wb") as f:
        f.write(b"committed\n")
    _git(hooked.root, "add", "--", os.fsdecode(name))
    hooked.commit()
    with open(full, "wb") as f:
        f.write(b"edited \xe9\n")
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n"})


def test_a_submodule_with_new_commits_and_dirty_files_is_left_alone(hooked, tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    for args in (("init", "-q", "-b", "main"), ("config", "user.email", "t@example.invalid"), ("config", "user.name", "t")):
        _git(sub, *args)
    (sub / "s.txt").write_text("s\n")
    _git(sub, "add", "s.txt")
    _git(sub, "commit", "-q", "-m", "s")
    _git(hooked.root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "sub")
    hooked.commit()
    inner = hooked.root / "sub"
    (inner / "s.txt").write_text("s, edited in the submodule\n")
    (inner / "new.txt").write_text("untracked in the submodule\n")
    hooked.write("a.txt", "one\ntwo, edited\n")
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n"})


def _intent_to_add(hooked, count: int) -> None:
    deep = "d" * 60 + "/" + "e" * 60 + "/"
    names = [f"{deep}{i:05d}-{'x' * 120}.txt" for i in range(count)]
    for name in names:
        hooked.write(name, f"new file {name[-20:]}\n")
    listed = "\0".join(names).encode()
    subprocess.run(["git", "add", "--intent-to-add", "--pathspec-from-file=-", "--pathspec-file-nul"],
                   cwd=hooked.root, input=listed, check=True, capture_output=True)
    hooked.write("a.txt", "one\ntwo, edited\n")
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    before = _git(hooked.root, "ls-files", "-z").stdout
    _commits_keeping_the_tree(hooked, staged={"b.txt": b"staged\n"})
    after = set(_git(hooked.root, "ls-files", "-z").stdout.split(b"\0"))
    assert set(before.split(b"\0")) == after  # still intended to be added


def test_intent_to_add_files_with_long_paths_come_back(hooked):
    _intent_to_add(hooked, 300)


@pytest.mark.slow
def test_25000_intent_to_add_files_with_long_paths_come_back(hooked):
    _intent_to_add(hooked, 25_000)


def test_a_folder_where_a_file_was_stops_the_commit_and_touches_nothing(hooked):
    (hooked.root / "a.txt").unlink()
    hooked.write("a.txt/inside.txt", "untracked work inside\n")
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    before = _tree(hooked.root)
    done = _commit(hooked.root)
    assert done.returncode != 0, done
    assert "a.txt" in done.stderr
    assert _tree(hooked.root) == before
    assert _patches(hooked.root) == []


def test_fixes_that_conflict_say_so_and_fixes_that_do_not_are_kept(hooked):
    hooked.write("t.txt", "one\n\n\n\n\n\ntwo\n")
    hooked.stage("t.txt")
    hooked.commit()
    hooked.write("t.txt", "one   \n\n\n\n\n\ntwo\n")
    hooked.stage("t.txt")
    hooked.write("t.txt", b"one   \n\n\n\n\n\ntwo, edited\r\n")
    done = _commit(hooked.root)
    assert done.returncode != 0, done
    assert "rolled back" not in done.stderr
    assert (hooked.root / "t.txt").read_bytes() == b"one\n\n\n\n\n\ntwo, edited\r\n"  # the fix, and the edit as it was
    hooked.write("t.txt", "one   \n\n\n\n\n\ntwo\n")
    hooked.stage("t.txt")
    mine = b"one   # edited\n\n\n\n\n\ntwo\n"
    hooked.write("t.txt", mine)
    done = _commit(hooked.root)
    assert done.returncode != 0, done
    assert "rolled back" in done.stderr
    assert (hooked.root / "t.txt").read_bytes() == mine


def test_no_word_of_conflicting_fixes_when_no_fixer_ran(hooked):
    hooked.write("a.py", "x = (\n")
    hooked.stage("a.py")
    hooked.write("a.py", "x = 1  \n")  # unstaged fix of the broken staged file
    done = _commit(hooked.root)
    assert done.returncode != 0, done
    assert "fixes conflicted" not in done.stderr and "rolled back" not in done.stderr
    assert (hooked.root / "a.py").read_bytes() == b"x = 1  \n"


PLUGIN = """
import os

def leaves(ctx, value):
    os._exit(0)
"""


def test_a_component_that_exits_the_process_cannot_let_the_commit_through(hooked):
    hooked.write("plugin.py", PLUGIN)
    hooked.write("omnibase.yaml", "version: 1\ncomponents:\n  - {name: leaves, tags: [pre-commit], always_run: true,"
                 " python: 'plugin:leaves', isolation: none}\n")
    hooked.stage("plugin.py", "omnibase.yaml")
    hooked.commit()
    hooked.write("a.txt", "one\ntwo, unstaged\n")
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    head = _git(hooked.root, "rev-parse", "HEAD").stdout
    before = _tree(hooked.root)
    done = _commit(hooked.root)
    assert done.returncode != 0, done
    assert "before it finished" in done.stderr
    assert _git(hooked.root, "rev-parse", "HEAD").stdout == head  # nothing committed
    assert _tree(hooked.root) == before
    assert _patches(hooked.root) == []


def test_a_component_that_exits_the_process_cannot_let_a_commit_with_nothing_unstaged_through(hooked):
    """With no unstaged change nothing is set aside, and a run of built-ins alone skips the
    supervisor's fork: a Python component (which may leave the process) still gets it."""
    hooked.write("plugin.py", PLUGIN)
    hooked.write("omnibase.yaml", "version: 1\ncomponents:\n  - {name: leaves, tags: [pre-commit], always_run: true,"
                 " python: 'plugin:leaves', isolation: none}\n")
    hooked.stage("plugin.py", "omnibase.yaml")
    hooked.commit()
    hooked.write("b.txt", "staged\n")
    hooked.stage("b.txt")
    head = _git(hooked.root, "rev-parse", "HEAD").stdout
    done = _commit(hooked.root)
    assert done.returncode != 0, done
    assert "before it finished" in done.stderr
    assert _git(hooked.root, "rev-parse", "HEAD").stdout == head


def test_restore_waits_for_the_stash_lock(hooked, cli, tmp_path):
    import fcntl

    lock = hooked.root / ".git" / "omnibase" / "stash.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a run is setting work aside
    try:
        r = cli("restore")
    finally:
        os.close(fd)
    assert r.code == 2, r
    assert "let it finish" in r.err
    assert cli("restore").code == 0


def test_sigterm_to_restore_is_143(hooked):
    # SIGTERM while restore waits for the lock a run holds
    import fcntl

    lock = hooked.root / ".git" / "omnibase" / "stash.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "omnibase", "restore"], cwd=hooked.root, env=_env(None),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        import time

        time.sleep(1.0)
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    finally:
        os.close(fd)
    assert proc.returncode == 143, err
