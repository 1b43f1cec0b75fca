"""Where the fixers' work reaches the user's files: ``apply_edits`` (with ``_inside`` and
``_write``), called in this process on real files.

What a user relies on: a fix is written once, by replacing the file whole (a reader sees
the old file or the new one), keeping its mode; a hard-linked file is fixed in place so
every link sees the fix; nothing is written outside the repository, through a symbolic
link, or into anything but a regular file; a file changed since it was checked is left as
the user left it; a write that fails is named with why, per file, and the others go on.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from omnibase.builtins import Edit, apply_edits
from omnibase.builtins import _run


def _file(path: Path, data: bytes, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mode is not None:
        path.chmod(mode)
    return path


def _fix(path: str, old: bytes, new: bytes) -> Edit:
    return Edit.make(path, old, new)


def test_a_fix_replaces_the_file_whole_keeping_its_mode(tmp_path: Path):
    target = _file(tmp_path / "src" / "x.sh", b"echo hi   \n", 0o751)
    before = target.stat()
    with open(target, "rb") as reader:  # opened before the fix, read after it
        assert apply_edits([_fix("src/x.sh", b"echo hi   \n", b"echo hi\n")], root=str(tmp_path)) == ("src/x.sh",)
        assert reader.read() == b"echo hi   \n"  # a reader of the old file sees it whole: not rewritten in place
    after = target.stat()
    assert target.read_bytes() == b"echo hi\n"
    assert stat.S_IMODE(after.st_mode) == 0o751
    assert after.st_ino != before.st_ino
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert sorted(os.listdir(tmp_path / "src")) == ["x.sh"]  # no temporary left


def test_a_file_owned_by_another_user_keeps_its_owner(tmp_path: Path):
    if os.geteuid() != 0:
        pytest.skip("giving a file away needs root")
    target = _file(tmp_path / "x.txt", b"a \n", 0o640)
    os.chown(target, 4321, 4322)
    assert apply_edits([_fix("x.txt", b"a \n", b"a\n")], root=str(tmp_path)) == ("x.txt",)
    st = target.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4321, 4322, 0o640)


def test_a_setuid_mode_is_kept_whole(tmp_path: Path):
    target = _file(tmp_path / "tool", b"#!/bin/sh  \n", 0o4755)
    assert apply_edits([_fix("tool", b"#!/bin/sh  \n", b"#!/bin/sh\n")], root=str(tmp_path)) == ("tool",)
    assert stat.S_IMODE(target.stat().st_mode) == 0o4755


def test_fixed_files_are_not_synced_to_disk(tmp_path: Path, monkeypatch):
    """The fixers' writes skip fsync (docs/precommit.md: they are made again by running the
    checks again, and a sync per file cost up to a second on a large tree)."""
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    _file(tmp_path / "x.txt", b"a \n")
    assert apply_edits([_fix("x.txt", b"a \n", b"a\n")], root=str(tmp_path)) == ("x.txt",)
    assert synced == []
    assert (tmp_path / "x.txt").read_bytes() == b"a\n"


def test_a_hard_linked_file_is_fixed_in_place_so_every_link_sees_it(tmp_path: Path):
    first = _file(tmp_path / "a.txt", b"a line   \nanother   \n", 0o604)
    os.link(first, tmp_path / "b.txt")
    inode = first.stat().st_ino
    assert apply_edits([_fix("a.txt", b"a line   \nanother   \n", b"a line\nanother\n")], root=str(tmp_path)) == ("a.txt",)
    # shorter than before: nothing of the old content is left at the end
    assert first.read_bytes() == (tmp_path / "b.txt").read_bytes() == b"a line\nanother\n"
    st = first.stat()
    assert (st.st_ino, st.st_nlink, stat.S_IMODE(st.st_mode)) == (inode, 2, 0o604)
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.txt"]


@pytest.mark.parametrize("links", [1, 2])
def test_a_file_swapped_for_a_link_after_the_check_is_not_written_through(tmp_path: Path, monkeypatch, links: int):
    """Between the check that the path is a regular file inside the repository and the
    write, the file becomes a symbolic link to a file outside: that file is never written."""
    root, outside = tmp_path / "repo", tmp_path / "outside"
    _file(root / "x.txt", b"same   \n")
    secret = _file(outside / "secret.txt", b"same   \n")
    if links == 2:
        os.link(secret, outside / "other-link.txt")  # a hard-linked target: the in-place path
    real_inside = _run._inside

    def swapped_after_check(top: str, path: str) -> str | None:
        full = real_inside(top, path)
        os.unlink(root / "x.txt")
        os.symlink(secret, root / "x.txt")
        return full

    monkeypatch.setattr(_run, "_inside", swapped_after_check)
    failed: dict[str, str] = {}
    written = apply_edits([_fix("x.txt", b"same   \n", b"same\n")], root=str(root), failed=failed)
    assert secret.read_bytes() == b"same   \n"
    if links == 2:
        assert written == () and failed == {"x.txt": os.strerror(40)}  # ELOOP: the link is not followed
        assert os.path.islink(root / "x.txt")
    else:  # the link itself is replaced by the fixed file; what it pointed to is untouched
        assert written == ("x.txt",) and failed == {}
        assert not os.path.islink(root / "x.txt") and (root / "x.txt").read_bytes() == b"same\n"


def test_nothing_outside_the_repository_or_through_a_link_is_written(tmp_path: Path):
    root, outside = tmp_path / "repo", tmp_path / "outside"
    _file(outside / "o.txt", b"o \n")
    _file(root / "real.txt", b"r \n")
    _file(root / "sub" / "s.txt", b"s \n")
    os.symlink(outside, root / "out")  # a folder link leading out
    os.symlink(root / "sub", root / "sublink")  # a folder link staying inside
    os.symlink("real.txt", root / "link.txt")  # a file link
    edits = [
        _fix("../outside/o.txt", b"o \n", b"o\n"),
        _fix(str(outside / "o.txt"), b"o \n", b"o\n"),
        _fix("out/o.txt", b"o \n", b"o\n"),
        _fix("sub/../../outside/o.txt", b"o \n", b"o\n"),
        _fix("sublink/s.txt", b"s \n", b"s\n"),
        _fix("link.txt", b"r \n", b"r\n"),
    ]
    assert apply_edits(edits, root=str(root)) == ()
    assert (outside / "o.txt").read_bytes() == b"o \n"
    assert (root / "real.txt").read_bytes() == b"r \n"
    assert (root / "sub" / "s.txt").read_bytes() == b"s \n"
    assert os.path.islink(root / "link.txt")


def test_a_repository_reached_through_a_link_is_still_fixed(tmp_path: Path):
    """The root itself may be a symbolic link (a checkout under a linked home folder):
    only links below the root are refused."""
    _file(tmp_path / "real-repo" / "d" / "x.txt", b"x \n")
    os.symlink(tmp_path / "real-repo", tmp_path / "repo")
    assert apply_edits([_fix("d/x.txt", b"x \n", b"x\n")], root=str(tmp_path / "repo")) == ("d/x.txt",)
    assert (tmp_path / "real-repo" / "d" / "x.txt").read_bytes() == b"x\n"
    assert os.path.islink(tmp_path / "repo")


def test_a_relative_root_and_the_default_root_are_the_current_folder(tmp_path: Path, monkeypatch):
    _file(tmp_path / "proj" / "a.txt", b"a \n")
    _file(tmp_path / "proj" / "b.txt", b"b \n")
    monkeypatch.chdir(tmp_path)
    assert apply_edits([_fix("a.txt", b"a \n", b"a\n")], root="proj") == ("a.txt",)
    monkeypatch.chdir(tmp_path / "proj")
    assert apply_edits([_fix("b.txt", b"b \n", b"b\n")]) == ("b.txt",)
    assert (tmp_path / "proj" / "a.txt").read_bytes() == b"a\n"
    assert (tmp_path / "proj" / "b.txt").read_bytes() == b"b\n"


def test_a_fifo_or_a_folder_given_an_edit_is_left_alone(tmp_path: Path):
    """Only regular files are written; a FIFO is not even opened (that would wait for a
    writer forever)."""
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    _file(tmp_path / "x.txt", b"x \n")
    edits = [_fix("pipe", b"", b"\n"), _fix("folder", b"", b"\n"), _fix("x.txt", b"x \n", b"x\n")]
    assert apply_edits(edits, root=str(tmp_path)) == ("x.txt",)
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)
    assert os.listdir(tmp_path / "folder") == []


def test_a_file_changed_since_the_check_is_left_as_the_user_left_it(tmp_path: Path):
    target = _file(tmp_path / "x.txt", b"checked   \n")
    edit = _fix("x.txt", b"checked   \n", b"checked\n")
    target.write_bytes(b"edited by the user   \n")  # after the check, before the write
    inode = target.stat().st_ino
    failed: dict[str, str] = {}
    assert apply_edits([edit], root=str(tmp_path), failed=failed) == ()
    assert target.read_bytes() == b"edited by the user   \n"
    assert target.stat().st_ino == inode  # not rewritten either
    assert failed == {}  # not a failure: the fix no longer applies


def test_the_edits_of_consecutive_fixers_chain_in_any_order(tmp_path: Path):
    target = _file(tmp_path / "x.txt", b"a  \r\nb")
    one = _fix("x.txt", b"a  \r\nb", b"a\r\nb")  # trailing whitespace
    two = _fix("x.txt", b"a\r\nb", b"a\r\nb\r\n")  # end of file
    three = _fix("x.txt", b"a\r\nb\r\n", b"a\nb\n")  # line endings
    assert apply_edits([three, one, two], root=str(tmp_path)) == ("x.txt",)
    assert target.read_bytes() == b"a\nb\n"
    # the user made the first fix by hand meanwhile: the rest of the chain still applies
    target.write_bytes(b"a\r\nb")
    assert apply_edits([one, two, three], root=str(tmp_path)) == ("x.txt",)
    assert target.read_bytes() == b"a\nb\n"


def test_each_file_is_written_once_however_many_edits_it_has(tmp_path: Path, monkeypatch):
    writes: list[str] = []
    real = _run._write
    monkeypatch.setattr(_run, "_write", lambda full, content, like: (writes.append(full), real(full, content, like))[1])
    _file(tmp_path / "x.txt", b"x  \n\n\n")
    _file(tmp_path / "y.txt", b"y  ")
    edits = [
        _fix("x.txt", b"x  \n\n\n", b"x\n\n\n"),
        _fix("y.txt", b"y  ", b"y"),
        _fix("x.txt", b"x\n\n\n", b"x\n"),
        _fix("y.txt", b"y", b"y\n"),
    ]
    assert apply_edits(edits, root=str(tmp_path)) == ("x.txt", "y.txt")
    assert writes == [os.path.join(str(tmp_path), "x.txt"), os.path.join(str(tmp_path), "y.txt")]
    assert (tmp_path / "x.txt").read_bytes() == b"x\n" and (tmp_path / "y.txt").read_bytes() == b"y\n"


def test_edits_that_undo_each_other_leave_the_file_untouched(tmp_path: Path):
    target = _file(tmp_path / "x.txt", b"a\n")
    inode = target.stat().st_ino
    there, back = _fix("x.txt", b"a\n", b"a\r\n"), _fix("x.txt", b"a\r\n", b"a\n")
    assert apply_edits([there, back], root=str(tmp_path)) == ()
    assert apply_edits([_fix("x.txt", b"a\n", b"a\n")], root=str(tmp_path)) == ()  # a fix that changes nothing
    assert target.read_bytes() == b"a\n" and target.stat().st_ino == inode


def test_a_write_that_fails_is_named_per_file_and_the_others_go_on(tmp_path: Path, file_size_limit):
    for name in ("big1.txt", "big2.txt", "linked.txt"):
        _file(tmp_path / name, b"x \n", 0o600)
    os.link(tmp_path / "linked.txt", tmp_path / "linked-too.txt")
    _file(tmp_path / "small.txt", b"s \n")
    edits = [
        _fix("gone.txt", b"g \n", b"g\n"),  # no such file: skipped, not a write failure
        _fix("big1.txt", b"x \n", b"x" * 10_000),
        _fix("small.txt", b"s \n", b"s\n"),
        _fix("big2.txt", b"x \n", b"y" * 10_000),
        _fix("linked.txt", b"x \n", b"z" * 10_000),  # written in place: fails in the write itself
    ]
    failed: dict[str, str] = {}
    with file_size_limit(4096):
        written = apply_edits(edits, root=str(tmp_path), failed=failed)
    assert written == ("small.txt",)
    assert failed == {"big1.txt": "File too large", "big2.txt": "File too large", "linked.txt": "File too large"}
    assert (tmp_path / "small.txt").read_bytes() == b"s\n"
    assert (tmp_path / "big1.txt").read_bytes() == (tmp_path / "big2.txt").read_bytes() == b"x \n"
    # the in-place write had begun: what the file held is back, seen through both links
    assert (tmp_path / "linked.txt").read_bytes() == (tmp_path / "linked-too.txt").read_bytes() == b"x \n"
    assert (tmp_path / "linked.txt").stat().st_nlink == 2
    assert sorted(os.listdir(tmp_path)) == ["big1.txt", "big2.txt", "linked-too.txt", "linked.txt", "small.txt"]


def test_a_failed_write_without_a_reason_from_the_system_is_named_by_its_message(tmp_path: Path, monkeypatch):
    from omnibase._io import atomic

    def no_free_name(folder: str) -> tuple[int, str]:
        raise FileExistsError(f"{folder}: no free temporary name")

    monkeypatch.setattr(atomic, "_new_file", no_free_name)
    _file(tmp_path / "x.txt", b"x \n")
    failed: dict[str, str] = {}
    assert apply_edits([_fix("x.txt", b"x \n", b"x\n")], root=str(tmp_path), failed=failed) == ()
    assert failed == {"x.txt": f"{tmp_path}: no free temporary name"}
    # without a place to tell it, the failure is still no exception
    assert apply_edits([_fix("x.txt", b"x \n", b"x\n")], root=str(tmp_path)) == ()
    assert (tmp_path / "x.txt").read_bytes() == b"x \n"


def test_a_hard_linked_file_of_only_line_breaks_is_fixed_to_empty(tmp_path: Path):
    first = _file(tmp_path / "a.txt", b"\n\n\r\n")
    os.link(first, tmp_path / "b.txt")
    assert apply_edits([_fix("a.txt", b"\n\n\r\n", b"")], root=str(tmp_path)) == ("a.txt",)
    assert first.read_bytes() == (tmp_path / "b.txt").read_bytes() == b""


def test_a_large_hard_linked_file_is_put_back_whole_when_its_fix_fails(tmp_path: Path, file_size_limit):
    """What the file held is read back whole (more than one read's worth) before the fix is
    written in place, and written back exactly when the fix does not fit."""
    old = b"".join(b"line %07d   \n" % i for i in range(200_000))  # 3 MB, several reads
    first = _file(tmp_path / "big.txt", old)
    os.link(first, tmp_path / "big-too.txt")
    failed: dict[str, str] = {}
    with file_size_limit(len(old) + 4096):
        written = apply_edits([_fix("big.txt", old, old + old)], root=str(tmp_path), failed=failed)
    assert written == () and failed == {"big.txt": "File too large"}
    assert first.read_bytes() == old
    assert (tmp_path / "big-too.txt").read_bytes() == old
