"""``_git.status``: one ``git status`` answers what two ``git diff`` calls answer (and
``existing``, which of git's paths exist, answers as ``os.path.lexists``).

A pre-commit run asks git two questions: what differs between the index and the work tree
(the stash needs it) and what is staged (the files to check). ``status`` answers both in
one call; these tests compare its answers with the two ``git diff`` calls it replaces, in
real repositories, on every combination hypothesis draws of a file's HEAD, index and
work-tree states, and on a merge conflict.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnibase._io.git import GitStatus, existing, staged, status, zsplit
from tests.support import git, git_bytes, init_repo

# a file's state in HEAD, in the index, in the work tree
HEAD = ("absent", "v1")
INDEX = ("absent", "same", "v2", "intent")  # same: as in HEAD; intent: ``git add -N``
WORK = ("absent", "same", "v3", "link", "trailing")  # same: as in the index


def _pairs(out: bytes) -> tuple[tuple[str, str], ...]:
    fields = zsplit(out)
    return tuple(zip(fields[0::2], fields[1::2]))


def _by_diff(root: Path) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """What the two ``git diff`` calls (those of the code before ``status``) say."""
    cached = git_bytes(root, "diff", "--cached", "--name-status", "--diff-filter=ACMR", "-z", "--no-ext-diff", "--no-renames")
    unstaged = git_bytes(root, "diff", "--name-status", "-z", "--no-renames", "--no-ext-diff", "--ignore-submodules")
    return _pairs(cached), _pairs(unstaged)


def _name(i: int) -> str:
    """Names with a space and a folder in them too (git status quotes neither with -z)."""
    return f"f{i}" if i % 2 == 0 else f"sub dir/f {i}"


def _build(root: Path, files: list[tuple[str, str, str]]) -> None:
    init_repo(root)
    (root / "keep").write_text("keep\n")  # HEAD is never empty
    for i, (head, _, _) in enumerate(files):
        if head == "v1":
            (root / _name(i)).parent.mkdir(exist_ok=True)
            (root / _name(i)).write_text(f"one {i}\n")
    git_bytes(root, "add", "-A")
    git_bytes(root, "commit", "-q", "--no-verify", "-m", "head")
    for i, (head, index, _) in enumerate(files):
        path = root / _name(i)
        path.parent.mkdir(exist_ok=True)
        if index == "absent" and head == "v1":
            git_bytes(root, "rm", "-q", "--cached", _name(i))
        elif index == "v2":
            path.write_text(f"two {i}\n")
            git_bytes(root, "add", _name(i))
        elif index == "intent":
            path.write_text(f"new {i}\n")
            if head == "v1":
                git_bytes(root, "rm", "-q", "--cached", _name(i))
            git_bytes(root, "add", "-N", _name(i))
    for i, (_, index, work) in enumerate(files):
        path = root / _name(i)
        if work == "same":
            continue  # the index's content (or, where the index has none, what is there)
        if os.path.lexists(path):
            path.unlink()
        if work == "v3":
            path.write_text(f"three {i}\n")
        elif work == "link":
            path.symlink_to("keep")
        elif work == "trailing":
            path.write_text(f"two {i}  \n")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(HEAD), st.sampled_from(INDEX), st.sampled_from(WORK)), min_size=1, max_size=6))
def test_status_answers_what_both_diffs_answer(files: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _build(root, files)
        found = status(str(root))
        assert isinstance(found.unwrap(), GitStatus)
        cached, unstaged = _by_diff(root)
        assert sorted(found.unwrap().staged) == sorted(cached)
        assert sorted(found.unwrap().unstaged) == sorted(unstaged)
        # and the staged files it gives a run are those ``staged`` (a git call) gives
        assert found.unwrap().staged_now(str(root)) == staged(str(root)).unwrap()


def test_a_merge_conflict_is_unmerged_in_both(tmp_path: Path) -> None:
    root = tmp_path
    init_repo(root)
    (root / "a.txt").write_text("base\n")
    git_bytes(root, "add", "a.txt")
    git_bytes(root, "commit", "-q", "-m", "base")
    git_bytes(root, "checkout", "-q", "-b", "other")
    (root / "a.txt").write_text("other\n")
    git_bytes(root, "commit", "-q", "-am", "other")
    git_bytes(root, "checkout", "-q", "main")
    (root / "a.txt").write_text("main\n")
    git_bytes(root, "commit", "-q", "-am", "main")
    subprocess.run(["git", "merge", "-q", "other"], cwd=root, capture_output=True, check=False)
    found = status(str(root)).unwrap()
    cached, unstaged = _by_diff(root)
    assert ("U", "a.txt") in found.unstaged and ("U", "a.txt") in unstaged
    assert found.staged == cached == ()


def test_submodules_staged_are_listed_and_their_work_trees_left_alone(tmp_path: Path) -> None:
    sub, root = tmp_path / "sub", tmp_path / "top"
    sub.mkdir()
    root.mkdir()
    init_repo(sub)
    (sub / "f").write_text("one\n")
    git_bytes(sub, "add", "f")
    git_bytes(sub, "commit", "-q", "-m", "one")
    (sub / "f").write_text("two\n")
    git_bytes(sub, "commit", "-q", "-am", "two")
    init_repo(root)
    (root / "keep").write_text("keep\n")
    git_bytes(root, "add", "keep")
    git_bytes(root, "commit", "-q", "-m", "keep")
    git_bytes(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "s")

    def same() -> None:
        found = status(str(root)).unwrap()
        cached, unstaged = _by_diff(root)
        assert sorted(found.staged) == sorted(cached) and sorted(found.unstaged) == sorted(unstaged)

    same()  # a new submodule, staged
    assert ("A", "s") in status(str(root)).unwrap().staged
    git_bytes(root, "commit", "-q", "-m", "with s")
    git_bytes(root / "s", "checkout", "-q", "HEAD~1")
    same()  # its commit moved, not staged
    git_bytes(root, "add", "s")
    same()  # staged
    assert ("M", "s") in status(str(root)).unwrap().staged
    (root / "s" / "f").write_text("dirty\n")
    same()  # and its work tree dirty


def test_outside_a_repository_it_is_a_value(tmp_path: Path) -> None:
    found = status(str(tmp_path))
    assert "not a git repository" in found.failure().message.lower()


def test_user_given_refs_are_names_never_options(tmp_path: Path) -> None:
    """``commit_of``/``tree_of``/``changed_files`` hand a ref to git after
    ``--end-of-options``: one spelled like an option names nothing and writes nothing."""
    from omnibase._io.git import changed_files, commit_of, tree_of

    root = init_repo(tmp_path / "r")
    (root / "a.txt").write_text("a\n")
    git(root, "add", "a.txt")
    git(root, "commit", "-q", "-m", "x")
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    for ref in (f"--output={victim}", "-p", "--all"):
        assert "not a commit" in commit_of(str(root), ref).failure().message
        assert changed_files(str(root), ref, "HEAD").failure().message.startswith(ref)
    assert victim.read_text() == "keep\n"
    empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    assert tree_of(str(root), empty_tree).unwrap() == empty_tree
    assert changed_files(str(root), empty_tree, "HEAD").unwrap() == ("a.txt",)


def test_all_files_are_the_tracked_paths_that_exist(tmp_path: Path) -> None:
    """``all_files`` lets git test which tracked paths are gone: its answer is the index's
    paths (a conflicted one once per stage, as ``git ls-files`` lists it) that
    ``os.path.lexists`` finds, whatever the reason one is missing."""
    from omnibase._io.git import all_files

    root = init_repo(tmp_path)
    for name in ("kept.txt", "gone.txt", "sub/dir-now-file.txt", "sparse.txt", "sparse-kept.txt", "dangling", "conflict.txt"):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text("base\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "other")
    (root / "conflict.txt").write_text("other\n")
    git(root, "commit", "-q", "-am", "other")
    git(root, "checkout", "-q", "-")
    (root / "conflict.txt").write_text("mine\n")
    git(root, "commit", "-q", "-am", "mine")
    subprocess.run(["git", "merge", "-q", "other"], cwd=root, capture_output=True, check=False)  # conflicts
    (root / "gone.txt").unlink()
    (root / "sub" / "dir-now-file.txt").unlink()
    (root / "sub").rmdir()
    (root / "sub").write_text("a file where a folder was\n")  # lstat of sub/... fails with ENOTDIR
    git(root, "update-index", "--skip-worktree", "sparse.txt", "sparse-kept.txt")
    (root / "sparse.txt").unlink()  # git does not look at it: omnibase does
    (root / "dangling").unlink()
    (root / "dangling").symlink_to("nowhere")  # a link to nothing is there (lexists)
    listed = zsplit(git_bytes(root, "ls-files", "-z", "--cached"))
    assert listed.count("conflict.txt") == 3 and "sparse.txt" in listed and "gone.txt" in listed
    expected = tuple(p for p in listed if os.path.lexists(root / p))
    assert all_files(str(root)).unwrap() == expected
    assert {"gone.txt", "sub/dir-now-file.txt", "sparse.txt"}.isdisjoint(expected)


def test_existing_keeps_exactly_the_paths_lexists_finds(tmp_path):
    # the folder listings must answer as os.path.lexists would, path by path, in order
    root = tmp_path / "tree"
    (root / "a").mkdir(parents=True)
    (root / "a" / "kept.txt").write_text("x")
    (root / "a" / "dangling").symlink_to("nowhere")
    (root / "a" / "now-a-folder").mkdir()
    (root / "top.txt").write_text("x")
    (root / "plain").write_text("x")  # a file where a folder was: plain/inner is gone (ENOTDIR)
    (root / "elsewhere").mkdir()
    (root / "elsewhere" / "f").write_text("x")
    (root / "via").symlink_to("elsewhere")  # a symlinked folder on the way is followed, as lstat does
    odd = os.fsdecode(b"caf\xe9.txt")  # not UTF-8: git's paths decode with surrogateescape
    (root / odd).write_text("x")
    paths = ["a/kept.txt", "a/gone.txt", "a/dangling", "a/now-a-folder", "top.txt", "missing-folder/x",
             "plain/inner", "via/f", "via/g", odd, "a/kept.txt"]
    expected = [p for p in paths if os.path.lexists(root / p)]
    assert existing(str(root), paths) == expected
    assert expected == ["a/kept.txt", "a/dangling", "a/now-a-folder", "top.txt", "via/f", odd, "a/kept.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not bind root")
def test_existing_asks_each_path_of_a_folder_it_cannot_search(tmp_path):
    root = tmp_path / "tree"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "f").write_text("x")
    (root / "locked").chmod(0o644)  # readable (it can be listed), not searchable (lstat fails)
    try:
        assert existing(str(root), ["locked/f"]) == [p for p in ["locked/f"] if os.path.lexists(root / p)] == []
    finally:
        (root / "locked").chmod(0o755)
