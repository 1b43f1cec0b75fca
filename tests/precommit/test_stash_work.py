"""The stash in one process, on real repositories: what the checks see while the unstaged
work is set aside, that it comes back byte for byte and mode for mode, what the fixers'
changes become, and what a run cut short at each step leaves (always restorable)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from returns.result import Failure, Success

from omnibase.precommit._stash import (
    Entry,
    Stashed,
    capture,
    leftover_notice,
    leftover_patches,
    look_ahead,
    put_back,
    restore_leftovers,
    stash,
    staged_only,
    unstash,
    unusable,
)
from tests.precommit.conftest import BLOB, Snapshot
from tests.support import Repo, git_bytes

Snap = Callable[[Path], Snapshot]

CHANGED = [b"a.txt", b"bin.dat", b"deep/er/x.txt", b"gone.txt", b"link", b"run.sh"]


def _index(repo: Repo, rel: str) -> bytes:
    return git_bytes(repo.root, "show", f":{rel}")


def _gitdir(repo: Repo) -> str:
    return str(repo.root / ".git")


def _patches(repo: Repo) -> Path:
    return repo.root / ".git" / "omnibase" / "patches"


def _interrupted(repo: Repo) -> Stashed:
    """A run killed between setting the work aside and putting it back."""
    state = Stashed()
    assert isinstance(stash(str(repo.root), _gitdir(repo), state), Success)
    return state


# --- a run that ends normally -----------------------------------------------------------


def test_the_checks_see_the_index_and_every_unstaged_change_comes_back(work: Repo, snap: Snap) -> None:
    root = work.root
    before = snap(root)
    with staged_only(str(root), _gitdir(work)) as stashed:
        state = stashed.unwrap()
        assert sorted(e.path for e in state.entries) == CHANGED
        assert state.worktree_is_index
        assert (root / "a.txt").read_bytes() == b"one\ntwo\nthree\n"
        assert (root / "bin.dat").read_bytes() == BLOB
        assert (root / "run.sh").stat().st_mode & 0o111 == 0
        assert (root / "gone.txt").read_bytes() == b"bye\n"
        assert os.readlink(root / "link") == "a.txt"
        assert (root / "deep/er/x.txt").read_bytes() == b"x\n"
        assert (root / "staged.txt").read_bytes() == b"new\n"
        # untracked and intent-to-add files are not the commit's: left as they are
        assert (root / "untracked.txt").read_bytes() == b"mine\n"
        assert (root / "later.txt").read_bytes() == b"intent\n"
        assert [p.name for p in _patches(work).iterdir()] == [os.path.basename(state.patch or "")]
        assert stat.S_IMODE(os.stat(state.patch or "").st_mode) == 0o600
        assert stat.S_IMODE(_patches(work).stat().st_mode) == 0o700
        assert leftover_patches(_gitdir(work)) == [state.patch]
        assert state.status is not None and ("M", "staged.txt") in state.status.staged
    assert snap(root) == before
    assert list(_patches(work).iterdir()) == []
    assert not state.rolled_back and state.error is None


def test_nothing_unstaged_saves_nothing(repo: Repo, snap: Snap) -> None:
    repo.seed({"a.txt": "a\n"})
    repo.write("a.txt", "b\n")
    repo.stage("a.txt")
    before = snap(repo.root)
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        state = stashed.unwrap()
        assert state.entries == [] and state.patch is None and state.worktree_is_index
    assert snap(repo.root) == before
    assert leftover_patches(_gitdir(repo)) == []


def test_a_file_keeps_its_permission_bits_and_owner(repo: Repo, snap: Snap) -> None:
    repo.seed({"p.txt": "p\n"})
    repo.write("p.txt", "private\n")
    (repo.root / "p.txt").chmod(0o640)
    if os.getuid() == 0:
        os.chown(repo.root / "p.txt", 4321, 8765)
    before = snap(repo.root)
    with staged_only(str(repo.root), _gitdir(repo)):
        assert (repo.root / "p.txt").read_bytes() == b"p\n"
    assert snap(repo.root) == before
    if os.getuid() == 0:
        st = os.stat(repo.root / "p.txt")
        assert (st.st_uid, st.st_gid) == (4321, 8765)


def test_the_saved_file_holds_every_entry_in_format_version_1(work: Repo) -> None:
    """A later omnibase restores what this one saved: the saved file's layout is a contract."""
    state = _interrupted(work)
    raw = msgspec.msgpack.decode(Path(state.patch or "").read_bytes())
    assert raw["version"] == 1
    saved = {e[0]: e for e in raw["entries"]}
    assert sorted(saved) == CHANGED
    assert saved[b"bin.dat"][2] == BLOB[::-1]
    assert saved[b"gone.txt"][1:3] == [0, b""]
    assert stat.S_ISLNK(saved[b"link"][1]) and saved[b"link"][2] == b"bin.dat"
    assert stat.S_IMODE(saved[b"run.sh"][1]) == 0o755
    assert saved[b"a.txt"][3:] == [os.getuid(), os.getgid()]
    assert os.path.basename(state.patch or "").endswith(".stash")


# --- the fixers' changes ------------------------------------------------------------------


def test_a_fix_that_does_not_touch_the_users_lines_is_merged_into_them(repo: Repo) -> None:
    repo.seed({"f.txt": "1\n2\n3\n4\n5\n6\n7\n8\n", "g.txt": "g\n"})
    repo.write("f.txt", "1\n2\n3\n4\n5\n6\n7\n8, mine\n")
    (repo.root / "f.txt").chmod(0o600)
    if os.getuid() == 0:
        os.chown(repo.root / "f.txt", 4321, 8765)
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        repo.write("f.txt", "1, fixed\n2\n3\n4\n5\n6\n7\n8\n")
        repo.write("g.txt", "g, fixed\n")  # no unstaged change there: the fix stays as it is
    state = stashed.unwrap()
    assert not state.rolled_back and state.error is None
    assert (repo.root / "f.txt").read_bytes() == b"1, fixed\n2\n3\n4\n5\n6\n7\n8, mine\n"
    assert stat.S_IMODE((repo.root / "f.txt").stat().st_mode) == 0o600
    if os.getuid() == 0:
        st = (repo.root / "f.txt").stat()
        assert (st.st_uid, st.st_gid) == (4321, 8765)
    assert (repo.root / "g.txt").read_bytes() == b"g, fixed\n"
    assert leftover_patches(_gitdir(repo)) == []


def test_a_fix_that_conflicts_is_undone_everywhere_and_the_users_work_wins(repo: Repo, snap: Snap) -> None:
    repo.seed({"f.txt": "1\n2\n3\n", "g.txt": "g\n", "h.txt": "h\n"})
    repo.write("f.txt", "1\n2, mine\n3\n")
    repo.write("h.txt", "h, mine\n")
    before = snap(repo.root)
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        repo.write("f.txt", "1\n2, fixed\n3\n")
        repo.write("g.txt", "g, fixed\n")
    state = stashed.unwrap()
    assert state.rolled_back and state.error is None
    assert snap(repo.root) == before  # g.txt's fix undone too, h.txt back
    assert leftover_patches(_gitdir(repo)) == []


def test_a_rollback_leaves_untracked_and_intent_to_add_files_alone(work: Repo, snap: Snap) -> None:
    before = snap(work.root)
    with staged_only(str(work.root), _gitdir(work)) as stashed:
        work.write("a.txt", "one, fixed\ntwo\nthree\n")  # conflicts with the user's edit of every line
    assert stashed.unwrap().rolled_back
    assert snap(work.root) == before
    assert (work.root / "later.txt").read_bytes() == b"intent\n"


@pytest.mark.parametrize("fix", ["binary", "deleted", "symlink"])
def test_a_fix_to_a_file_that_cannot_be_merged_is_rolled_back(repo: Repo, snap: Snap, fix: str) -> None:
    repo.seed({"f.dat": BLOB, "f.txt": "1\n2\n3\n"})
    repo.write("f.dat", BLOB + b"mine")
    repo.write("f.txt", "1\n2\n3, mine\n")
    before = snap(repo.root)
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        if fix == "binary":
            repo.write("f.dat", b"fixed" + BLOB)
        elif fix == "deleted":
            (repo.root / "f.txt").unlink()
        else:
            (repo.root / "f.txt").unlink()
            os.symlink("f.dat", repo.root / "f.txt")
    assert stashed.unwrap().rolled_back
    assert snap(repo.root) == before


def test_a_fix_the_user_had_made_too_is_merged_once(repo: Repo) -> None:
    repo.seed({"f.txt": "a \nb\n"})
    repo.write("f.txt", "a\nb\nc\n")
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        repo.write("f.txt", "a\nb\n")
    assert not stashed.unwrap().rolled_back
    assert (repo.root / "f.txt").read_bytes() == b"a\nb\nc\n"


def test_fixes_that_cannot_be_undone_keep_the_work_saved(repo: Repo) -> None:
    repo.seed({"f.txt": "1\n2\n3\n", "g.txt": "g\n"})
    repo.write("f.txt", "1\n2, mine\n3\n")
    blob = git_bytes(repo.root, "rev-parse", ":g.txt").decode().strip()
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        repo.write("f.txt", "1\n2, fixed\n3\n")  # conflicts: every fix is to be undone
        repo.write("g.txt", "g, fixed\n")
        (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()  # g.txt's staged content is lost
    state = stashed.unwrap()
    assert state.rolled_back
    assert state.error is not None and state.error.startswith("cannot undo the fixes: ")
    assert (repo.root / "f.txt").read_bytes() == b"1\n2, mine\n3\n"  # the user's work is back all the same
    assert leftover_patches(_gitdir(repo)) == [state.patch]  # and kept: the run did not end cleanly


def test_a_broken_index_after_a_conflicting_fix_keeps_the_work_saved(repo: Repo) -> None:
    repo.seed({"f.txt": "1\n2\n3\n"})
    repo.write("f.txt", "1\n2, mine\n3\n")
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        repo.write("f.txt", "1\n2, fixed\n3\n")
        index = (repo.root / ".git" / "index").read_bytes()
        (repo.root / ".git" / "index").write_bytes(b"not an index")
    state = stashed.unwrap()
    assert state.rolled_back and state.patch is not None and state.error is not None
    assert state.error.startswith("cannot undo the fixes: ")
    assert state.error.endswith(f"; your unstaged changes are in {state.patch} (run 'omnibase restore --force')")
    assert (repo.root / "f.txt").read_bytes() == b"1\n2, fixed\n3\n"  # nothing written over blindly
    assert leftover_patches(_gitdir(repo)) == [state.patch]
    (repo.root / ".git" / "index").write_bytes(index)
    restore_leftovers(str(repo.root), _gitdir(repo), force=True).unwrap()
    assert (repo.root / "f.txt").read_bytes() == b"1\n2, mine\n3\n"


def test_a_folder_where_the_users_file_must_go_back_keeps_the_work_saved(repo: Repo) -> None:
    repo.seed({"f.txt": "f\n"})
    repo.write("f.txt", "mine\n")
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        (repo.root / "f.txt").unlink()
        (repo.root / "f.txt").mkdir()
    state = stashed.unwrap()
    assert state.rolled_back
    assert state.error is not None and state.patch is not None
    assert state.error == (
        f"cannot put your unstaged changes back ({repo.root / 'f.txt'}: a folder is in the way); they are safe in "
        f"{state.patch} (run 'omnibase restore')"
    )
    assert leftover_patches(_gitdir(repo)) == [state.patch]
    (repo.root / "f.txt").rmdir()
    assert restore_leftovers(str(repo.root), _gitdir(repo)).unwrap() == [(state.patch, "applied")]
    assert (repo.root / "f.txt").read_bytes() == b"mine\n"


# --- refusals before anything is touched -------------------------------------------------


def test_unmerged_files_refuse_the_run(repo: Repo, snap: Snap) -> None:
    repo.seed({"f.txt": "base\n"})
    repo.git("checkout", "-q", "-b", "other")
    repo.write("f.txt", "other\n")
    repo.stage("f.txt")
    repo.commit()
    repo.git("checkout", "-q", "main")
    repo.write("f.txt", "main\n")
    repo.stage("f.txt")
    repo.commit()
    with pytest.raises(Exception):
        repo.git("merge", "-q", "other")
    before = snap(repo.root)
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        assert stashed.failure().message == "unmerged files (f.txt): resolve them before committing"
    assert snap(repo.root) == before
    assert leftover_patches(_gitdir(repo)) == []


def test_many_unmerged_files_are_named_three_at_most(repo: Repo) -> None:
    names = ["a.txt", "b.txt", "c.txt", "d.txt"]
    repo.seed({n: "base\n" for n in names})
    repo.git("checkout", "-q", "-b", "other")
    for n in names:
        repo.write(n, "other\n")
    repo.stage(*names)
    repo.commit()
    repo.git("checkout", "-q", "main")
    for n in names:
        repo.write(n, "main\n")
    repo.stage(*names)
    repo.commit()
    with pytest.raises(Exception):
        repo.git("merge", "-q", "other")
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        assert stashed.failure().message == "unmerged files (a.txt, b.txt, c.txt): resolve them before committing"


def test_a_patches_folder_that_is_a_symlink_is_refused_before_anything_is_touched(
    repo: Repo, snap: Snap, tmp_path: Path
) -> None:
    repo.seed({"a.txt": "a\n"})
    repo.write("a.txt", "mine\n")
    (repo.root / ".git" / "omnibase").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, _patches(repo))
    before = snap(repo.root)
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        message = stashed.failure().message
    assert message == (
        f"cannot save the unstaged changes under {_gitdir(repo)}: {_patches(repo)}: a symbolic link; not writing "
        "through it"
    )
    assert snap(repo.root) == before
    assert list(elsewhere.iterdir()) == []


def test_a_folder_where_git_tracks_a_file_refuses_the_run(repo: Repo, snap: Snap) -> None:
    repo.seed({"f.txt": "f\n", "g.txt": "g\n"})
    repo.write("g.txt", "mine\n")
    (repo.root / "f.txt").unlink()
    (repo.root / "f.txt").mkdir()
    (repo.root / "f.txt" / "in").write_text("in\n")
    before = snap(repo.root)
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        message = stashed.failure().message
    assert message == "cannot set f.txt aside: not a file (git tracks a file there)"
    assert snap(repo.root) == before
    assert leftover_patches(_gitdir(repo)) == []


def test_a_broken_index_refuses_the_run(repo: Repo) -> None:
    repo.seed({"f.txt": "f\n"})
    (repo.root / ".git" / "index").write_bytes(b"not an index")
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        assert stashed.failure().message.startswith("cannot read the unstaged changes: ")


def test_a_checkout_that_fails_puts_the_work_back_at_once(repo: Repo, snap: Snap) -> None:
    repo.seed({"f.txt": "f\n"})
    repo.write("f.txt", "staged\n")
    repo.stage("f.txt")
    repo.write("f.txt", "mine\n")
    blob = git_bytes(repo.root, "rev-parse", ":f.txt").decode().strip()
    (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()  # the staged content is lost
    before = snap(repo.root)
    state = Stashed()
    done = stash(str(repo.root), _gitdir(repo), state)
    assert done.failure().message == (
        f"cannot reset the working tree to the index: error: unable to read sha1 file of f.txt ({blob})"
    )
    assert not state.worktree_is_index
    assert snap(repo.root) == before
    assert leftover_patches(_gitdir(repo)) == []


def test_a_state_folder_that_is_a_symlink_is_refused(repo: Repo, tmp_path: Path) -> None:
    repo.seed({"f.txt": "f\n"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, repo.root / ".git" / "omnibase")
    problem = unusable(_gitdir(repo))
    assert problem is not None
    assert problem.message.startswith("cannot set the unstaged changes aside: ")
    assert "symbolic link" in problem.message
    with staged_only(str(repo.root), _gitdir(repo)) as stashed:
        assert stashed.failure() == problem
    assert restore_leftovers(str(repo.root), _gitdir(repo)).failure() == problem
    assert list(elsewhere.iterdir()) == []


# --- a run cut short: the work is on disk, refused over, and restorable ------------------


def test_a_run_killed_after_setting_aside_leaves_work_that_restore_puts_back(work: Repo, snap: Snap) -> None:
    before = snap(work.root)
    state = _interrupted(work)
    gitdir = _gitdir(work)
    assert leftover_patches(gitdir) == [state.patch]
    assert leftover_notice(gitdir) == (
        f"an interrupted run left your unstaged changes in {state.patch}; run 'omnibase restore' to put them "
        "back into the working tree"
    )
    assert look_ahead(str(work.root), gitdir) is None
    again = Stashed()
    refused = stash(str(work.root), gitdir, again)
    assert refused.failure().message == (
        f"an interrupted run left your unstaged changes in {state.patch}; run 'omnibase restore' to put them "
        "back into the working tree, then commit again; nothing was checked"
    )
    assert again.patch is None and leftover_patches(gitdir) == [state.patch]
    assert restore_leftovers(str(work.root), gitdir).unwrap() == [(state.patch, "applied")]
    assert snap(work.root) == before
    assert leftover_patches(gitdir) == [] and leftover_notice(gitdir) is None
    assert restore_leftovers(str(work.root), gitdir).unwrap() == []


def test_two_interrupted_runs_are_named_oldest_first_and_both_restored(repo: Repo, snap: Snap) -> None:
    repo.seed({"f.txt": "f\n", "g.txt": "g\n"})
    repo.write("f.txt", "f, mine\n")
    first = _interrupted(repo)
    repo.write("g.txt", "g, mine\n")  # edited while the first run's work was away
    second = Stashed()
    os.unlink(first.patch or "")
    assert isinstance(stash(str(repo.root), _gitdir(repo), second), Success)
    Path(first.patch or "").write_bytes(msgspec.msgpack.encode({"version": 1, "entries": [
        [b"f.txt", 0o100644, b"f, mine\n", -1, -1]]}))  # fmt: skip
    assert leftover_patches(_gitdir(repo)) == [first.patch, second.patch]
    assert leftover_notice(_gitdir(repo)) == (
        f"an interrupted run left your unstaged changes in {first.patch} (and 1 more); run 'omnibase restore' "
        "to put them back into the working tree"
    )
    done = restore_leftovers(str(repo.root), _gitdir(repo)).unwrap()
    assert done == [(first.patch, "applied"), (second.patch, "applied")]
    assert (repo.root / "f.txt").read_bytes() == b"f, mine\n"
    assert (repo.root / "g.txt").read_bytes() == b"g, mine\n"


def test_a_file_a_cut_short_checkout_left_missing_comes_back(repo: Repo, snap: Snap) -> None:
    repo.seed({"f.txt": "f\n", "g.txt": "g\n", "h.txt": "h\n"})
    repo.write("f.txt", "f, mine\n")
    before = snap(repo.root)
    _interrupted(repo)
    (repo.root / "f.txt").unlink()  # the checkout of f.txt never happened
    (repo.root / "g.txt").unlink()  # nor of g.txt, which had no unstaged change
    restore_leftovers(str(repo.root), _gitdir(repo)).unwrap()
    assert snap(repo.root) == before


def test_a_missing_file_that_cannot_come_back_from_the_index_stops_restore(repo: Repo) -> None:
    repo.seed({"f.txt": "f\n", "g.txt": "g\n"})
    repo.write("f.txt", "f, mine\n")
    state = _interrupted(repo)
    (repo.root / "g.txt").unlink()
    blob = git_bytes(repo.root, "rev-parse", ":g.txt").decode().strip()
    (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    failed = restore_leftovers(str(repo.root), _gitdir(repo)).failure().message
    assert failed == f"cannot check out g.txt from the index: error: unable to read sha1 file of g.txt ({blob})"
    assert leftover_patches(_gitdir(repo)) == [state.patch]
    assert (repo.root / "f.txt").read_bytes() == b"f\n"  # nothing written yet: the work is all in the saved file


def test_a_file_that_already_holds_the_users_version_is_fine(repo: Repo, snap: Snap) -> None:
    repo.seed({"f.txt": "f\n", "g.txt": "g\n"})
    repo.write("f.txt", "f, mine\n")
    repo.write("g.txt", "g, mine\n")
    before = snap(repo.root)
    _interrupted(repo)
    repo.write("f.txt", "f, mine\n")  # a put-back cut short after this file
    assert [how for _, how in restore_leftovers(str(repo.root), _gitdir(repo)).unwrap()] == ["applied"]
    assert snap(repo.root) == before


def test_work_edited_over_since_is_not_written_back_without_force(repo: Repo) -> None:
    names = ["a.txt", "b.txt", "c.txt", "d.txt"]
    repo.seed({n: f"{n}\n" for n in names})
    for n in names:
        repo.write(n, f"{n}, mine\n")
    state = _interrupted(repo)
    for n in names:
        repo.write(n, f"{n}, since\n")
    refused = restore_leftovers(str(repo.root), _gitdir(repo))
    assert refused.failure().message == (
        f"an interrupted run left your unstaged changes in {state.patch} and the working tree has changed since "
        "(a.txt, b.txt, c.txt, ...); run 'omnibase restore --force' to put them back anyway (what those files "
        "hold now is kept beside it)"
    )
    assert (repo.root / "a.txt").read_bytes() == b"a.txt, since\n"
    assert leftover_patches(_gitdir(repo)) == [state.patch]
    assert leftover_notice(_gitdir(repo)) is not None


def test_one_file_edited_since_among_untouched_ones_stops_restore(repo: Repo) -> None:
    repo.seed({"a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n"})
    for n in ("a.txt", "b.txt", "c.txt"):
        repo.write(n, f"{n}, mine\n")
    state = _interrupted(repo)
    repo.write("c.txt", "c.txt, mine\n")  # already back (a put-back cut short)
    repo.write("b.txt", "b, since\n")
    failed = restore_leftovers(str(repo.root), _gitdir(repo)).failure().message
    assert f"left your unstaged changes in {state.patch} and the working tree has changed since (b.txt); " in failed
    assert (repo.root / "b.txt").read_bytes() == b"b, since\n"


def test_a_file_made_intent_to_add_and_edited_since_is_not_written_over(repo: Repo) -> None:
    repo.seed({"a.txt": "a\n"})
    repo.write("a.txt", "a, mine\n")
    _interrupted(repo)
    repo.git("rm", "-q", "--cached", "a.txt")
    repo.git("add", "-N", "a.txt")
    repo.write("a.txt", "a, since\n")
    assert "changed since (a.txt);" in restore_leftovers(str(repo.root), _gitdir(repo)).failure().message
    assert (repo.root / "a.txt").read_bytes() == b"a, since\n"


def test_three_files_edited_over_since_are_all_named(repo: Repo) -> None:
    names = ["a.txt", "b.txt", "c.txt"]
    repo.seed({n: f"{n}\n" for n in names})
    for n in names:
        repo.write(n, f"{n}, mine\n")
    _interrupted(repo)
    for n in names:
        repo.write(n, f"{n}, since\n")
    assert " has changed since (a.txt, b.txt, c.txt); run " in restore_leftovers(str(repo.root), _gitdir(repo)).failure().message


def test_force_keeps_what_the_files_hold_now_beside_the_saved_file(repo: Repo) -> None:
    repo.seed({"a.txt": "a\n", "b.txt": "b\n"})
    repo.write("a.txt", "a, mine\n")
    repo.write("b.txt", "b, mine\n")
    state = _interrupted(repo)
    repo.write("a.txt", "a, since\n")
    refused = restore_leftovers(str(repo.root), _gitdir(repo)).failure().message
    assert "changed since (a.txt);" in refused
    kept = (state.patch or "")[: -len(".stash")] + ".before-restore"
    done = restore_leftovers(str(repo.root), _gitdir(repo), force=True).unwrap()
    assert done == [(state.patch, f"applied over the working tree (what 1 file(s) held before it: {kept})")]
    assert (repo.root / "a.txt").read_bytes() == b"a, mine\n"
    assert (repo.root / "b.txt").read_bytes() == b"b, mine\n"
    held = msgspec.msgpack.decode(Path(kept).read_bytes())
    assert [(e[0], e[2]) for e in held["entries"]] == [(b"a.txt", b"a, since\n")]
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert leftover_patches(_gitdir(repo)) == []  # what is kept is no work to restore


def test_a_folder_in_the_way_of_restore_keeps_the_work(repo: Repo) -> None:
    repo.seed({"a.txt": "a\n", "b.txt": "b\n"})
    repo.write("a.txt", "a, mine\n")
    repo.write("b.txt", "b, mine\n")
    state = _interrupted(repo)
    (repo.root / "a.txt").unlink()
    (repo.root / "a.txt").mkdir()
    (repo.root / "a.txt" / "x").write_text("x\n")
    repo.write("b.txt", "b, since\n")
    assert "(a.txt, b.txt);" in restore_leftovers(str(repo.root), _gitdir(repo)).failure().message
    failed = restore_leftovers(str(repo.root), _gitdir(repo), force=True).failure().message
    assert failed == f"cannot write {repo.root / 'a.txt'} back: a folder is in the way; your work is still in {state.patch}"
    assert leftover_patches(_gitdir(repo)) == [state.patch]
    kept = Path((state.patch or "")[: -len(".stash")] + ".before-restore")
    held = msgspec.msgpack.decode(kept.read_bytes())  # what b.txt held; a folder is no file to keep
    assert [(e[0], e[2]) for e in held["entries"]] == [(b"b.txt", b"b, since\n")]


def test_a_saved_file_that_cannot_be_read_is_kept_and_named(repo: Repo) -> None:
    repo.seed({"a.txt": "a\n"})
    _patches(repo).mkdir(parents=True)
    saved = _patches(repo) / "1-1.stash"
    saved.write_bytes(b"\xc1 not msgpack")
    failed = restore_leftovers(str(repo.root), _gitdir(repo)).failure().message
    assert failed.startswith(f"cannot read {saved}: ")
    assert saved.exists()


def test_restore_with_a_broken_index_says_so(repo: Repo) -> None:
    repo.seed({"a.txt": "a\n"})
    repo.write("a.txt", "a, mine\n")
    _interrupted(repo)
    (repo.root / ".git" / "index").write_bytes(b"not an index")
    failed = restore_leftovers(str(repo.root), _gitdir(repo)).failure().message
    assert failed.startswith("cannot read the working tree's state: ")


def test_a_save_cut_short_leaves_nothing_behind_after_the_next_run(repo: Repo, snap: Snap) -> None:
    repo.seed({"a.txt": "a\n"})
    repo.write("a.txt", "a, mine\n")
    _patches(repo).mkdir(parents=True)
    (_patches(repo) / ".omnibase-partial").write_bytes(b"half")
    (_patches(repo) / "notes.txt").write_bytes(b"someone's")
    assert leftover_notice(_gitdir(repo)) is None  # no work of a run: nothing to restore
    with staged_only(str(repo.root), _gitdir(repo)):
        pass
    assert sorted(p.name for p in _patches(repo).iterdir()) == ["notes.txt"]
    (_patches(repo) / ".omnibase-partial2").write_bytes(b"half")
    assert restore_leftovers(str(repo.root), _gitdir(repo)).unwrap() == []
    assert sorted(p.name for p in _patches(repo).iterdir()) == ["notes.txt"]


def test_restore_waits_for_a_run_holding_the_lock_then_gives_up(repo: Repo) -> None:
    import fcntl

    repo.seed({"a.txt": "a\n"})
    repo.write("a.txt", "a, mine\n")
    state = _interrupted(repo)
    lock = repo.root / ".git" / "omnibase" / "stash.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        failed = restore_leftovers(str(repo.root), _gitdir(repo)).failure().message
    finally:
        os.close(fd)
    assert failed == (
        f"a pre-commit run is setting your unstaged changes aside right now (it holds {lock}); let it finish, "
        "then run 'omnibase restore' again"
    )
    assert leftover_patches(_gitdir(repo)) == [state.patch]
    assert restore_leftovers(str(repo.root), _gitdir(repo)).unwrap() == [(state.patch, "applied")]


# --- patches older versions left (git diffs) ---------------------------------------------


def _legacy_patch(repo: Repo) -> Path:
    """An older omnibase's leftover: the unstaged changes as a git diff, the tree reset."""
    diff = git_bytes(repo.root, "diff", "--binary")
    repo.git("checkout", "--", ".")
    _patches(repo).mkdir(parents=True, exist_ok=True)
    patch = _patches(repo) / "1-1.patch"
    patch.write_bytes(diff)
    return patch


def test_an_old_patch_is_applied(repo: Repo, snap: Snap) -> None:
    repo.seed({"a.txt": "a\nb\n", "bin.dat": BLOB})
    repo.write("a.txt", "a\nb, mine\n")
    repo.write("bin.dat", BLOB[::-1])
    before = snap(repo.root)
    patch = _legacy_patch(repo)
    assert leftover_patches(_gitdir(repo)) == [str(patch)]
    assert restore_leftovers(str(repo.root), _gitdir(repo)).unwrap() == [(str(patch), "applied")]
    assert snap(repo.root) == before
    assert not patch.exists()


def test_an_old_patch_already_in_the_tree_is_present(repo: Repo, snap: Snap) -> None:
    repo.seed({"a.txt": "a\nb\n"})
    repo.write("a.txt", "a\nb, mine\n")
    before = snap(repo.root)
    patch = _legacy_patch(repo)
    repo.git("apply", str(patch))
    assert restore_leftovers(str(repo.root), _gitdir(repo)).unwrap() == [(str(patch), "present")]
    assert snap(repo.root) == before
    assert not patch.exists()


def test_an_old_patch_that_no_longer_applies_needs_force(repo: Repo) -> None:
    repo.seed({"a.txt": "a\nb\n"})
    repo.write("a.txt", "a\nb, mine\n")
    patch = _legacy_patch(repo)
    repo.write("a.txt", "a\nb, since\n")
    refused = restore_leftovers(str(repo.root), _gitdir(repo)).failure().message
    assert refused == (
        f"an interrupted run left your unstaged changes in {patch} and the working tree has changed since; run "
        "'omnibase restore --force' to put them back anyway (what those files hold now is kept beside it)"
    )
    assert patch.exists()
    kept = _patches(repo) / "1-1.before-restore.diff"
    done = restore_leftovers(str(repo.root), _gitdir(repo), force=True).unwrap()
    assert done == [(str(patch), f"applied over the index (the working tree's changes before it: {kept})")]
    assert (repo.root / "a.txt").read_bytes() == b"a\nb, mine\n"
    assert b"+b, since" in kept.read_bytes()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert not patch.exists()


def test_an_old_patch_that_cannot_apply_even_over_the_index_is_kept(repo: Repo) -> None:
    repo.seed({"a.txt": "a\n"})
    _patches(repo).mkdir(parents=True)
    patch = _patches(repo) / "1-1.patch"
    patch.write_bytes(b"diff --git a/zz b/zz\n--- a/zz\n+++ b/zz\n@@ -1 +1 @@\n-old\n+new\n")
    failed = restore_leftovers(str(repo.root), _gitdir(repo), force=True).failure().message
    assert failed.startswith(f"cannot apply {patch}: ")
    assert patch.exists()
    assert (repo.root / "a.txt").read_bytes() == b"a\n"
    assert not (_patches(repo) / "1-1.before-restore.diff").exists()  # the tree held nothing to keep


# --- one file through ``capture`` and ``put_back`` ----------------------------------------


def test_capture_and_put_back_round_trip_each_kind_of_path(tmp_path: Path) -> None:
    root = str(tmp_path)
    (tmp_path / "f").write_bytes(BLOB)
    (tmp_path / "f").chmod(0o751)
    os.symlink("f", tmp_path / "l")
    f, link, missing = capture(root, b"f"), capture(root, b"l"), capture(root, b"nothing")
    assert (f.path, stat.S_IMODE(f.mode), f.data, f.uid, f.gid) == (b"f", 0o751, BLOB, os.getuid(), os.getgid())
    assert stat.S_ISREG(f.mode)
    assert (link.path, stat.S_ISLNK(link.mode), link.data) == (b"l", True, b"f")
    assert (missing.path, missing.mode, missing.data) == (b"nothing", 0, b"")
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        capture(root, b"d")
    put_back(root, Entry(b"new/deeper/f", f.mode, b"x"))  # folders made; owner: whoever writes
    made = os.stat(tmp_path / "new/deeper/f")
    assert (stat.S_IMODE(made.st_mode), made.st_uid, made.st_gid) == (0o751, os.getuid(), os.getgid())
    put_back(root, Entry(b"f", link.mode, b"new/deeper/f"))  # a file becomes a symlink
    assert os.readlink(tmp_path / "f") == "new/deeper/f"
    put_back(root, Entry(b"l", f.mode, b"was a link", f.uid, f.gid))  # a symlink becomes a file
    assert not os.path.islink(tmp_path / "l") and (tmp_path / "l").read_bytes() == b"was a link"
    put_back(root, Entry(b"l", 0, b""))
    put_back(root, Entry(b"l", 0, b""))  # deleting what is gone is fine
    assert not os.path.lexists(tmp_path / "l")
    assert sorted(os.listdir(tmp_path)) == ["d", "f", "new"]  # no temporary file left
    with pytest.raises(IsADirectoryError):
        put_back(root, Entry(b"d", f.mode, b"x"))


def test_unstash_without_anything_set_aside_does_nothing(repo: Repo, snap: Snap) -> None:
    repo.seed({"a.txt": "a\n"})
    repo.write("a.txt", "b\n")
    before = snap(repo.root)
    state = Stashed()
    unstash(str(repo.root), state)
    assert snap(repo.root) == before and not state.rolled_back and state.error is None
