"""The git-state built-ins against pre-commit-hooks 6.0.0, in real temporary repositories.

Each scenario builds a repository (executable bits, symlinks, submodules, branches), then
runs our check through ``run_builtin_checks`` (which gathers the git facts) and the
reference hook in the same repository on the files pre-commit would pass it, and compares
which files fail and what is printed.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from tests.builtins._builtins_ref import FAIL_HOOKS, git, init_repo, run_reference

from omnibase.builtins import CHECKS, run_builtin_checks, select, tags_for
from omnibase.builtins._output import hook_output


def _write(root: Path, rel: str, data: bytes, mode: int = 0o644) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    target.chmod(mode)


def _selected(check: str, root: Path, paths: list[str]) -> list[str]:
    tagged = [(p, tags_for(str(root / p))) for p in paths]
    return select(CHECKS[check], tagged)


def _compare(check: str, root: Path, paths: list[str], args: list[str] = ()) -> list[str]:
    """Ours and the reference on the same files; returns the paths we fail."""
    from omnibase.builtins import options_from_args
    import msgspec

    opts = msgspec.structs.asdict(options_from_args(check, list(args)))
    ours = run_builtin_checks(paths, [check], root=str(root), opts={check: opts}, jobs=1)
    given = _selected(check, root, paths)
    ref = run_reference(check, [*args, *given], cwd=root)
    failed = sorted(v.path for v in ours if not v.ok)
    assert (ref.code == 0) == (not failed), (check, failed, ref.out, ref.err)
    # what the hook prints, as the reference prints it (the shebang checks to stderr)
    printed = "".join(line + "\n" for line in hook_output(check, options_from_args(check, list(args)), ours))
    if check in ("check-executables-have-shebangs", "check-shebang-scripts-are-executable"):
        assert printed == ref.err and not ref.out
    elif check in ("check-symlinks", "forbid-new-submodules"):
        assert printed == ref.out
    elif check == "destroyed-symlinks":
        listed = [line[2:] for line in ref.out.splitlines() if line.startswith("- ")]
        assert listed == failed
    return failed


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "repo")


SHEBANG_FILES = {
    "run.sh": (b"#!/bin/sh\necho hi\n", 0o755),
    "noshebang.sh": (b"echo hi\n", 0o755),
    "script.py": (b"#!/usr/bin/env python\nprint(1)\n", 0o644),
    "plain.txt": (b"hello\n", 0o644),
    "bare": (b"#!", 0o755),
    "space name.sh": (b"echo\n", 0o755),
    "dir/nested.py": (b"#!python\n", 0o644),
    "bom.sh": (b"\xef\xbb\xbf#!/bin/sh\n", 0o755),
    "empty.sh": (b"", 0o755),
}


@pytest.mark.parametrize("file_mode", [True, False])
@pytest.mark.parametrize("check", ["check-executables-have-shebangs", "check-shebang-scripts-are-executable"])
def test_executable_bits_and_shebangs(check: str, file_mode: bool, repo: Path):
    for rel, (data, mode) in SHEBANG_FILES.items():
        _write(repo, rel, data, mode)
    git(repo, "add", ".")
    if not file_mode:
        # git ignores the work tree's bits: the index says what is executable
        git(repo, "config", "core.fileMode", "false")
        git(repo, "update-index", "--chmod=+x", "plain.txt")
        git(repo, "update-index", "--chmod=-x", "run.sh")
    _write(repo, "untracked.sh", b"#!/bin/sh\n", 0o644)
    failed = _compare(check, repo, sorted([*SHEBANG_FILES, "untracked.sh"]))
    assert failed  # every scenario has something to find


def test_symlinks(repo: Path):
    _write(repo, "target.txt", b"x\n")
    (repo / "d").mkdir()
    os.symlink("target.txt", repo / "good")
    os.symlink("missing.txt", repo / "broken")
    os.symlink("d", repo / "to_dir")
    os.symlink("broken", repo / "chain")
    git(repo, "add", ".")
    paths = ["target.txt", "good", "broken", "to_dir", "chain"]
    assert _compare("check-symlinks", repo, paths) == ["broken", "chain"]


@pytest.mark.parametrize(
    ("content", "destroyed"),
    [(b"target.txt", True), (b"target.txt\n", True), (b"target.txt\r\n", True), (b"other", False),
     (b"target.txt\n\n\n", False), (b"  target.txt", False)],
)
def test_destroyed_symlinks(content: bytes, destroyed: bool, repo: Path):
    _write(repo, "target.txt", b"x\n")
    os.symlink("target.txt", repo / "link")
    os.symlink("target.txt", repo / "kept")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "links")
    os.unlink(repo / "link")
    _write(repo, "link", content)
    _write(repo, "target.txt", b"changed\n")
    git(repo, "add", ".")
    assert _compare("destroyed-symlinks", repo, ["link", "kept", "target.txt"]) == (["link"] if destroyed else [])


def _submodule(repo: Path, name: str) -> None:
    sub = init_repo(repo.parent / f"{name}-origin")
    _write(sub, "f.txt", b"x\n")
    git(sub, "add", ".")
    git(sub, "commit", "-qm", "sub")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), name)


def test_new_submodules_and_any_submodule(repo: Path, monkeypatch: pytest.MonkeyPatch):
    _write(repo, "a.txt", b"a\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "a")
    _submodule(repo, "old")
    git(repo, "commit", "-qm", "old submodule")
    _submodule(repo, "new")
    paths = [".gitmodules", "a.txt", "old", "new"]
    assert _compare("forbid-new-submodules", repo, paths) == ["new"]
    # a push: the refs pre-commit passes in the environment decide what is new
    git(repo, "commit", "-qm", "new submodule")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "HEAD~2")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    assert _compare("forbid-new-submodules", repo, paths) == ["new", "old"]
    ours = run_builtin_checks(paths, ["forbid-submodules"], root=str(repo), jobs=1)
    pattern, types = FAIL_HOOKS["forbid-submodules"]
    assert sorted(v.path for v in ours if not v.ok) == sorted(_selected("forbid-submodules", repo, paths)) == ["new", "old"]
    assert types == ["directory"] and not pattern


@pytest.mark.parametrize(
    ("branch", "args"),
    [("main", []), ("master", []), ("feature", []), ("feature", ["--branch", "feature"]),
     ("release/1.0", ["-p", "release/.*"]), ("xrelease/1", ["-p", "release/.*"]), ("main", ["-b", "dev"]),
     (None, [])],
)
def test_no_commit_to_branch(branch: str | None, args: list[str], repo: Path):
    _write(repo, "a.txt", b"a\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "a")
    if branch is None:
        git(repo, "checkout", "-q", "--detach")
    else:
        git(repo, "checkout", "-q", "-B", branch)
    failed = _compare("no-commit-to-branch", repo, [], args)
    assert failed in ([], ["HEAD"])


def test_illegal_windows_names_follow_the_manifest_pattern(repo: Path):
    names = ["ok.txt", "CON", "con.txt", "dir/aux", "lpt1.log", "com¹", "COM10", "a:b", "q?", "tail.", "tail ",
             "dir./x", "x/ y", "nul/inner.txt", "fine/CONSOLE.txt"]
    for rel in names:
        _write(repo, rel, b"x\n")
    pattern, _ = FAIL_HOOKS["check-illegal-windows-names"]
    ours = run_builtin_checks(names, ["check-illegal-windows-names"], root=str(repo), jobs=1)
    assert sorted(v.path for v in ours if not v.ok) == sorted(n for n in names if re.search(pattern, n))
    assert {v.path for v in ours} == set(names)


def test_git_state_is_asked_of_git_not_taken_from_names(repo: Path):
    # a file named like a pathspec pattern must not stand for the files it would match
    _write(repo, "*.sh", b"echo\n", 0o644)
    _write(repo, "x.sh", b"#!/bin/sh\n", 0o644)
    git(repo, "add", ".")
    ours = run_builtin_checks(["*.sh"], ["check-shebang-scripts-are-executable"], root=str(repo), jobs=1)
    assert [v.ok for v in ours] == [True]
    assert subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.split() == ["*.sh", "x.sh"]
