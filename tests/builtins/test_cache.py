"""The verdict cache's store and keys (a real SQLite file, real git repositories)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sqlite3
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnibase.builtins import DEFAULT_CHECKS, run_builtin_checks
from omnibase.builtins import _cache
from omnibase.builtins import _run as runner
from omnibase.builtins._cache import MAX_SIGNATURES, Known, Record, VerdictCache, verdict_key
from omnibase.components.builtin import BuiltinUse, CheckSummary, builtin_components, finish_run
from omnibase.core.combinators import all_of
from omnibase.core.values import ExecCtx
from omnibase.drivers import SyncDriver, run
from tests.support import git, git_bytes, init_repo


def _repo(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "r")
    (root / "a.txt").write_bytes(b"one\r\ntwo\r\n")
    (root / "b.py").write_bytes(b"x = 1\n")
    git(root, "add", "-A")
    return root


def _run(root: Path, cache: VerdictCache, check: str, path: str) -> tuple[bool, int]:
    """``check`` on ``path``: (passed or did not apply, verdicts that came from the cache)."""
    stats: dict[str, int] = {}
    verdicts = run_builtin_checks([path], [check], root=str(root), cache=cache, stats=stats)
    return all(v.ok for v in verdicts), stats.get(check, 0)


def _stage(root: Path, path: str, data: bytes, mode: int = 0o644) -> None:
    (root / path).write_bytes(data)
    (root / path).chmod(mode)
    git(root, "add", "--", path)


# --- hits and misses, from what a user relies on: a cached pass is a pass of this very file ---


def test_a_passing_file_is_served_from_the_cache_until_its_content_changes(tmp_path):
    root = init_repo(tmp_path / "r")
    cache = VerdictCache.for_git_dir(str(root / ".git"))
    _stage(root, "m.py", b"x = 1\n")
    assert _run(root, cache, "check-ast", "m.py") == (True, 0)
    assert _run(root, cache, "check-ast", "m.py") == (True, 1)
    _stage(root, "m.py", b"def broken(:\n")
    assert _run(root, cache, "check-ast", "m.py") == (False, 0)
    _stage(root, "m.py", b"x = 1\n")  # back to the content that passed
    assert _run(root, cache, "check-ast", "m.py") == (True, 1)


def test_a_failure_is_never_served_as_a_pass(tmp_path):
    root = init_repo(tmp_path / "r")
    cache = VerdictCache.for_git_dir(str(root / ".git"))
    _stage(root, "broken.py", b"def broken(:\n")
    for _ in range(3):
        assert _run(root, cache, "check-ast", "broken.py") == (False, 0)
    reopened = VerdictCache.for_git_dir(str(root / ".git"))  # another run, another process
    assert _run(root, reopened, "check-ast", "broken.py") == (False, 0)


def test_a_file_a_fixer_would_change_is_checked_every_time(tmp_path):
    root = init_repo(tmp_path / "r")
    cache = VerdictCache.for_git_dir(str(root / ".git"))
    _stage(root, "t.txt", b"trailing   \n")
    for _ in range(2):  # run_builtin_checks writes nothing: the file still needs its fix
        assert _run(root, cache, "trailing-whitespace", "t.txt") == (False, 0)


def test_the_executable_bit_is_part_of_what_was_checked(tmp_path):
    # the same bytes made executable: check-executables-have-shebangs now applies and fails
    root = init_repo(tmp_path / "r")
    cache = VerdictCache.for_git_dir(str(root / ".git"))
    checks = ["check-executables-have-shebangs", "end-of-file-fixer"]

    def run() -> tuple[dict[str, bool], dict[str, int]]:
        stats: dict[str, int] = {}
        verdicts = run_builtin_checks(["s.sh"], checks, root=str(root), cache=cache, stats=stats)
        return {v.check: v.ok for v in verdicts}, stats

    _stage(root, "s.sh", b"echo hi\n", 0o644)
    assert run() == ({"end-of-file-fixer": True}, {})
    assert run() == ({"end-of-file-fixer": True}, {"end-of-file-fixer": 1})
    _stage(root, "s.sh", b"echo hi\n", 0o755)
    assert run() == ({"check-executables-have-shebangs": False, "end-of-file-fixer": True}, {})


def test_a_file_whose_working_copy_differs_from_the_index_is_not_served(tmp_path):
    # the key is the index's blob: a working copy git cannot vouch for is read and checked
    root = init_repo(tmp_path / "r")
    cache = VerdictCache.for_git_dir(str(root / ".git"))
    _stage(root, "m.py", b"x = 1\n")
    assert _run(root, cache, "check-ast", "m.py") == (True, 0)
    (root / "m.py").write_bytes(b"def broken(:\n")  # not staged
    assert _run(root, cache, "check-ast", "m.py") == (False, 0)


def test_the_store_keeps_at_most_max_entries_and_drops_the_oldest(tmp_path, monkeypatch):
    monkeypatch.setattr(_cache, "MAX_ENTRIES", 50)
    cache = VerdictCache(str(tmp_path / "c.sqlite3"))
    batches = [[bytes([b, i]) for i in range(30)] for b in range(5)]
    for batch in batches:
        cache.add({k: Record(tags=frozenset({"text"}), size=1, passed={b"s": ("check-ast",)}) for k in batch})
    cache.close()
    rows = {r[0] for r in sqlite3.connect(tmp_path / "c.sqlite3").execute("SELECT key FROM ok")}
    assert len(rows) == 50
    assert set(batches[-1]) <= rows  # the newest survive
    assert not set(batches[0]) & rows
    again = VerdictCache(str(tmp_path / "c.sqlite3"))
    assert again.hits(batches[-1][:2]) == {
        k: Record(tags=frozenset({"text"}), size=1, passed={b"s": ("check-ast",)}) for k in batches[-1][:2]
    }


def test_options_are_part_of_the_key(tmp_path):
    root = _repo(tmp_path)
    cache = VerdictCache.for_git_dir(str(root / ".git"))
    opts = {"mixed-line-ending": {"fix": "no"}}
    for expected in (0, 1):
        stats: dict[str, int] = {}
        run_builtin_checks(["a.txt"], ["mixed-line-ending"], root=str(root), opts=opts, cache=cache, stats=stats)
        assert stats.get("mixed-line-ending", 0) == expected
    stats = {}
    run_builtin_checks(["a.txt"], ["mixed-line-ending"], root=str(root), opts={"mixed-line-ending": {"fix": "crlf"}},
                       cache=cache, stats=stats)
    assert stats.get("mixed-line-ending", 0) == 0


def test_a_fixer_handed_another_fixers_output_is_not_served_from_the_cache(tmp_path):
    # end-of-file-fixer passes on "a\n \n", but not once trailing-whitespace made it "a\n\n"
    root = init_repo(tmp_path / "r")
    (root / "f.txt").write_bytes(b"a\n \n")
    git(root, "add", "-A")
    cache = VerdictCache.for_git_dir(str(root / ".git"))
    run_builtin_checks(["f.txt"], ["end-of-file-fixer"], root=str(root), cache=cache)
    both = run_builtin_checks(["f.txt"], ["trailing-whitespace", "end-of-file-fixer"], root=str(root), cache=cache)
    assert {v.check: v.ok for v in both} == {"trailing-whitespace": False, "end-of-file-fixer": False}


_PART = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=6)
_PARTS = st.tuples(_PART, _PART, st.binary(max_size=6).filter(lambda b: b"\0" not in b), _PART)


@settings(max_examples=300, deadline=None)
@given(_PARTS, _PARTS)
def test_one_key_per_blob_path_checks_and_versions(one, two):
    # git paths, blob ids, JSON signatures and version strings hold no NUL: over such parts,
    # two keys are equal exactly when every part is (no part can stand in for another)
    assert (verdict_key(*one) == verdict_key(*two)) == (one == two)
    blob, path, checks, salt = one
    assert verdict_key(blob + "x", path, checks, salt) != verdict_key(blob, "x" + path, checks, salt)


def test_a_cache_of_another_shape_is_rebuilt(tmp_path):
    path = tmp_path / "c.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE ok (key BLOB PRIMARY KEY, used INTEGER)")
    db.commit()
    db.close()
    cache = VerdictCache(str(path))
    cache.add({b"k": Record(tags=frozenset(), size=0)})
    assert cache.hits([b"k"]) == {b"k": Record(tags=frozenset(), size=0)}


def test_a_record_holds_each_checks_verdict_and_the_newest_signatures(tmp_path):
    path = str(tmp_path / "c.sqlite3")
    known = Known(checks=("check-ast",), tags=frozenset({"python"}), size=3)
    first = VerdictCache(path, token="run1")
    first.learn({b"k": known}, b"sig-ast")
    first.learn({b"k": Known(checks=(), tags=frozenset({"python"}), size=3)}, b"sig-json")  # applied to nothing
    # another run (another process would be alike) reads both from the store
    second = VerdictCache(path, token="run2")
    assert second.passed({"a.py": b"k"}, b"sig-ast") == {"a.py": known}
    assert second.passed({"a.py": b"k"}, b"sig-json") == {"a.py": Known(checks=(), tags=frozenset({"python"}), size=3)}
    assert second.passed({"a.py": b"k"}, b"sig-other") == {}
    for i in range(MAX_SIGNATURES + 5):
        second.learn({b"k": known}, f"s{i}".encode())
    record = VerdictCache(path).hits([b"k"])[b"k"]
    assert len(record.passed) == MAX_SIGNATURES and b"sig-ast" not in record.passed
    assert f"s{MAX_SIGNATURES + 4}".encode() in record.passed


def test_the_checks_of_one_run_read_a_record_once(tmp_path, monkeypatch):
    path = str(tmp_path / "c.sqlite3")
    VerdictCache(path).add({b"k": Record(tags=frozenset({"text"}), size=1, passed={b"a": ("x",), b"b": ("y",)})})
    asked: list[list[bytes]] = []
    real = VerdictCache.hits
    monkeypatch.setattr(VerdictCache, "hits", lambda self, keys: (asked.append(list(keys)), real(self, keys))[1])
    for sig in (b"a", b"b", b"c"):
        assert len(VerdictCache(path, token="run").passed({"f": b"k"}, sig)) == (sig != b"c")
    assert asked == [[b"k"]]


def test_a_run_over_many_files_reads_every_record(tmp_path):
    # records are read in chunks (SQLite bounds the parameters of one query): none is lost
    path = str(tmp_path / "c.sqlite3")
    keys = [i.to_bytes(2, "big") for i in range(1234)]
    VerdictCache(path).add({k: Record(tags=frozenset({"text"}), size=i, passed={b"s": ("x",)}) for i, k in enumerate(keys)})
    got = VerdictCache(path).hits(keys)
    assert sorted(got) == sorted(keys) and {got[k].size for k in keys} == set(range(1234))


# --- a selection record: a run over many unchanged files answered at once ----------------------
#
# A run over more files than git is asked about by name is answered by one record when git
# vouches for every file; these runs go through the built-in components as the CLI runs them
# (every default check sharing one pass), in this process, where an audit hook sees each open.

MANY = _cache._PATHSPEC_MAX + 24
KINDS = [(".txt", b"plain text\n"), (".py", b"x = 1\n"), (".json", b'{"a": 1}\n'), (".yaml", b"a: 1\n")]


@pytest.fixture(scope="module")
def many_source(tmp_path_factory) -> Path:
    root = init_repo(tmp_path_factory.mktemp("many") / "repo")
    for i in range(MANY):
        ext, data = KINDS[i % len(KINDS)]
        (root / f"d{i % 10}").mkdir(exist_ok=True)
        (root / f"d{i % 10}" / f"f{i}{ext}").write_bytes(data)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "many")
    return root


@pytest.fixture
def many(many_source, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(many_source, root, symlinks=True)
    git(root, "update-index", "-q", "--refresh")  # the copy's stat data is new to the index
    monkeypatch.setattr(runner, "MIN_FILES_FOR_POOL", 10**9)  # every file read in this process
    return root


class _Opens:
    """The files of a working tree opened while ``counting`` (an audit hook stays for the
    process: it counts only when asked)."""

    hooked: list[_Opens] = []

    def __init__(self) -> None:
        self.prefix = ""
        self.seen: list[str] = []
        if not _Opens.hooked:
            sys.addaudithook(_Opens._hook)
        _Opens.hooked[:] = [self]

    @staticmethod
    def _hook(event: str, args: tuple) -> None:
        for me in _Opens.hooked:
            if me.prefix and event == "open" and isinstance(args[0], str) and args[0].startswith(me.prefix):
                rel = args[0][len(me.prefix):]
                if not rel.startswith(".git/"):
                    me.seen.append(rel)


@pytest.fixture
def opens() -> _Opens:
    counter = _Opens()
    yield counter
    counter.prefix = ""


def _files(root: Path) -> tuple[str, ...]:
    listed = git_bytes(root, "ls-files", "-z").split(b"\0")
    return tuple(os.fsdecode(p) for p in listed if p and (root / os.fsdecode(p)).exists())


def _checks(root: Path, opens: _Opens | None = None, uses=None, files=None) -> dict[str, tuple[str, int, int]]:
    """Every default check (or ``uses``) over the tracked files, as the CLI runs them with
    the cache on: per check, (status, files checked, of them from the cache)."""
    comps = builtin_components(uses)
    params = frozenset({("git_dir", str(root / ".git")), ("cache", "on")})
    ctx = ExecCtx(run_id=uuid.uuid4().hex, trace_id="0af7651916cd43dd8448eb211c80319c", stage="pre-commit",
                  root=str(root), files=files if files is not None else _files(root), dry_run=True, params=params)
    if opens is not None:
        opens.prefix, opens.seen[:] = str(root) + "/", []
    try:
        report = run(all_of(list(comps)), ctx.files, ctx, SyncDriver())
    finally:
        if opens is not None:
            opens.prefix = ""
        finish_run(ctx)
    out = {}
    for step in report.steps:
        value = step.value if isinstance(step.value, CheckSummary) else None
        out[step.name] = (step.status.value, value.checked if value else 0, value.cached if value else 0)
    return out


def _records(root: Path) -> int:
    db = sqlite3.connect(root / ".git/omnibase/cache/verdicts.sqlite3")
    try:
        return db.execute("SELECT count(*) FROM runs").fetchone()[0]
    finally:
        db.close()


def test_an_unchanged_tree_is_answered_by_one_record_and_no_file_is_opened(many, opens):
    first = _checks(many, opens)
    assert {status for status, _, _ in first.values()} == {"PASS", "SKIP"}
    assert first["check-ast"][1] == MANY // 4 and first["trailing-whitespace"][1] == MANY
    assert len(set(opens.seen)) == MANY  # the first run read every file
    assert _records(many) == 1
    second = _checks(many, opens)
    assert opens.seen == []
    # each check reports what it reported before, every file of it from the cache
    assert second == {name: (status, checked, checked) for name, (status, checked, _) in first.items()}


def _stage(root: Path, rel: str, data: bytes, mode: int = 0o644) -> None:
    (root / rel).write_bytes(data)
    (root / rel).chmod(mode)
    git(root, "add", "--", rel)


BROKEN = "d1/f1.py"  # a .py file of the tree


def test_a_changed_file_is_checked_again_and_its_failure_reported(many, opens):
    _checks(many)
    _stage(many, BROKEN, b"def broken(:\n")
    after = _checks(many, opens)
    assert after["check-ast"][0] == "FAIL"
    assert BROKEN in opens.seen


def test_a_working_copy_that_differs_from_the_index_is_read(many, opens):
    _checks(many)
    (many / BROKEN).write_bytes(b"def broken(:\n")  # not staged: git cannot vouch for it
    after = _checks(many, opens)
    assert after["check-ast"][0] == "FAIL"
    assert opens.seen == [BROKEN]  # the others are known by their own records


def test_a_file_git_is_told_not_to_compare_is_read(many, opens):
    # assume-unchanged (or skip-worktree): git would call the working copy unchanged
    _checks(many)
    git(many, "update-index", "--assume-unchanged", BROKEN)
    (many / BROKEN).write_bytes(b"def broken(:\n")
    after = _checks(many, opens)
    assert after["check-ast"][0] == "FAIL"
    assert BROKEN in opens.seen


def test_a_changed_mode_is_checked_again(many, opens):
    _checks(many)
    git(many, "update-index", "--chmod=+x", "d0/f0.txt")
    (many / "d0/f0.txt").chmod(0o755)
    after = _checks(many, opens)
    assert "d0/f0.txt" in opens.seen
    assert after["trailing-whitespace"][1:] == (MANY, MANY - 1)


def test_an_added_or_removed_file_is_another_selection(many, opens):
    _checks(many)
    _stage(many, "new.py", b"def broken(:\n")
    assert _checks(many, opens)["check-ast"][0] == "FAIL"
    git(many, "rm", "-q", "--cached", "new.py")
    (many / "new.py").unlink()
    again = _checks(many, opens)
    assert again["check-ast"][0] == "PASS"
    git(many, "rm", "-q", "d2/f2.json")
    gone = _checks(many, opens)
    assert gone["check-json"][1] == MANY // 4 - 1


def test_other_options_or_other_fixers_before_a_check_are_another_selection(many, opens):
    _checks(many)
    uses = [BuiltinUse(name=n, check=n) for n in DEFAULT_CHECKS]
    ws = uses.index(BuiltinUse(name="trailing-whitespace", check="trailing-whitespace"))
    flagged = [*uses[:ws], BuiltinUse(name="trailing-whitespace", check="trailing-whitespace", args=("--markdown-linebreak-ext=md",)), *uses[ws + 1:]]
    after = _checks(many, opens, flagged)
    assert after["trailing-whitespace"][1:] == (MANY, 0) and len(set(opens.seen)) == MANY
    without_first_fixer = uses[1:]  # end-of-file-fixer no longer starts from trailing-whitespace's output
    after = _checks(many, opens, without_first_fixer)
    assert after["end-of-file-fixer"][1:] == (MANY, 0)


def test_another_omnibase_version_is_another_selection(many, opens, monkeypatch):
    from omnibase import _version

    _checks(many)
    monkeypatch.setattr(_version, "__version__", "999.0")
    after = _checks(many, opens)
    assert len(set(opens.seen)) == MANY and after["check-ast"][1:] == (MANY // 4, 0)


def test_a_file_newly_staged_for_addition_is_judged_as_added(many):
    # the same index, but the large file is no longer in HEAD: now it is being added
    _stage(many, "big.bin", b"\0" * 600 * 1024)
    git(many, "commit", "-q", "-m", "big")
    assert _checks(many)["check-added-large-files"][0] == "PASS"  # committed before: not added
    assert _checks(many)["check-added-large-files"][0] == "PASS"
    git(many, "rm", "-q", "--cached", "big.bin")
    git(many, "commit", "-q", "-m", "drop")
    git(many, "add", "big.bin")
    assert _checks(many)["check-added-large-files"][0] == "FAIL"


def test_a_large_file_let_through_by_git_attributes_is_never_recorded(many):
    # whether a file is LFS is read from attributes the index does not hold (.git/info/attributes)
    (many / ".git/info").mkdir(exist_ok=True)
    (many / ".git/info/attributes").write_text("big.bin filter=lfs\n")
    _stage(many, "big.bin", b"\0" * 600 * 1024)
    assert _checks(many)["check-added-large-files"][0] == "PASS"
    assert _records(many) == 0
    (many / ".git/info/attributes").write_text("")
    assert _checks(many)["check-added-large-files"][0] == "FAIL"


def test_a_failing_run_is_never_recorded(many):
    _stage(many, BROKEN, b"def broken(:\n")
    for _ in range(2):
        assert _checks(many)["check-ast"][0] == "FAIL"
    assert _records(many) == 0


def test_a_case_conflict_with_a_new_file_is_found(many):
    _checks(many)
    (many / "D1").mkdir()
    _stage(many, "D1/f1.py", b"x = 1\n")
    assert _checks(many)["check-case-conflict"][0] == "FAIL"


def test_a_case_conflict_with_a_file_committed_outside_the_selection_is_found(many):
    # a selection's record stands for the whole index: a file committed meanwhile is neither
    # selected nor being added, yet a selected file's folder can clash with its folder
    selected = _files(many)
    assert _checks(many, files=selected)["check-case-conflict"][0] == "PASS"
    assert _records(many) == 1
    (many / "D1").mkdir()
    _stage(many, "D1/other.txt", b"x\n")
    git(many, "commit", "-q", "-m", "a folder that differs from d1 only in case")
    assert _checks(many, files=selected)["check-case-conflict"][0] == "FAIL"


def test_a_run_over_few_files_is_not_recorded(many):
    few = _files(many)[: _cache._PATHSPEC_MAX]
    _checks(many, files=few)
    assert _records(many) == 0


# --- what git vouches for, and the answers a run keeps ------------------------------------------


def _hash(root: Path, *paths: str) -> list[str]:
    """The blob ids git would give these files (``git hash-object``): an oracle apart from
    the index listing the cache reads."""
    return git(root, "hash-object", "--", *paths).split()


def test_git_vouches_for_staged_files_with_their_mode_and_blob_whatever_their_name(tmp_path):
    root = init_repo(tmp_path / "r")
    names = ["plain.txt", "with\ttab.txt", "with space.txt", os.fsdecode(b"caf\xe9.txt"), "run.sh"]
    for name in names:
        (root / name).write_bytes(name.encode("utf-8", "surrogateescape") + b"\n")
    (root / "run.sh").chmod(0o755)
    git(root, "add", "-A")
    (root / "untracked.txt").write_text("x")
    ids = _cache.blob_ids(str(root), [*names, "untracked.txt"])
    blobs = dict(zip(names, _hash(root, *names)))
    assert ids == {n: f"{'100755' if n == 'run.sh' else '100644'} {blobs[n]}" for n in names}


def test_git_is_not_asked_by_name_about_more_than_a_thousand_paths(tmp_path):
    # a command line of 1,001 names could pass the system's limit: the whole index is listed
    root = init_repo(tmp_path / "r")
    names = [f"f{i:04d}-{'x' * 200}.txt" for i in range(_cache._PATHSPEC_MAX + 1)]
    for name in names:
        (root / name).write_text(name)
    git(root, "add", "-A")
    ids = _cache.blob_ids(str(root), names)
    assert len(ids) == len(names)
    assert ids[names[-1]] == f"100644 {_hash(root, names[-1])[0]}"
    assert _cache.blob_ids(str(root), names[:3]) == {n: ids[n] for n in names[:3]}


def test_no_answer_from_git_means_no_cache_not_an_error(tmp_path):
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    (plain / "a.txt").write_text("x")
    assert _cache.blob_ids(str(plain), ["a.txt"]) == {}
    assert _cache.blob_ids(str(plain), ["a.txt"], worktree_is_index=True) == {}
    assert _cache.selection_key(str(plain), [f"f{i}" for i in range(_cache._PATHSPEC_MAX + 1)], b"sig") is None


def test_the_caller_who_knows_the_working_tree_holds_the_index_is_believed(tmp_path):
    # during a pre-commit run the unstaged changes are put aside: git is not asked about them
    root = init_repo(tmp_path / "r")
    _stage(root, "m.py", b"x = 1\n")
    (root / "m.py").write_bytes(b"x = 2\n")
    assert _cache.blob_ids(str(root), ["m.py"]) == {}
    assert _cache.blob_ids(str(root), ["m.py"], worktree_is_index=True) == {"m.py": "100644 " + _hash_of(b"x = 1\n")}


def _hash_of(data: bytes) -> str:
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_an_unmerged_file_is_not_vouched_for(tmp_path):
    root = init_repo(tmp_path / "r")
    _stage(root, "c.txt", b"base\n")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "other")
    _stage(root, "c.txt", b"other\n")
    git(root, "commit", "-q", "-m", "other")
    git(root, "checkout", "-q", "main")
    _stage(root, "c.txt", b"main\n")
    git(root, "commit", "-q", "-m", "main")
    subprocess.run(["git", "merge", "-q", "other"], cwd=root, capture_output=True)  # conflicts
    (root / "c.txt").write_bytes(b"resolved\n")  # resolved on disk, not yet staged
    _stage(root, "d.txt", b"fine\n")
    assert _cache.blob_ids(str(root), ["c.txt", "d.txt"], worktree_is_index=True) == {"d.txt": "100644 " + _hash_of(b"fine\n")}


def test_the_checks_of_one_run_get_one_answer_from_git(tmp_path):
    # git's answer is kept for the run (its token): what happens meanwhile is the next run's
    root = init_repo(tmp_path / "r")
    _stage(root, "m.py", b"x = 1\n")
    _stage(root, "n.py", b"y = 1\n")
    first = _cache.blob_ids(str(root), ["m.py"], token="run-1")
    assert set(first) == {"m.py"} and _cache.blob_ids(str(root), ["m.py"]) == first
    (root / "m.py").write_bytes(b"x = 2\n")
    assert _cache.blob_ids(str(root), ["m.py"], token="run-1") == first
    assert _cache.blob_ids(str(root), ["m.py"], token="run-2") == {}  # another run asks again
    assert _cache.blob_ids(str(root), ["m.py"]) == {}  # as does a caller with no run
    assert set(_cache.blob_ids(str(root), ["m.py", "n.py"], token="run-1")) == {"n.py"}  # another question
    assert set(_cache.blob_ids(str(root), ["m.py"], worktree_is_index=True, token="run-1")) == {"m.py"}
    _cache.forget_answers("run-1")
    assert _cache.blob_ids(str(root), ["m.py"], token="run-1") == {}


def test_a_run_over_many_files_asks_git_once_for_any_part_of_them(many):
    paths = list(_files(many))
    whole = _cache.blob_ids(str(many), paths, token="big-run")
    (many / BROKEN).write_bytes(b"changed\n")
    again = _cache.blob_ids(str(many), paths[::-1], token="big-run")  # another part of many: the same answer
    assert again == whole and BROKEN in again
    assert BROKEN not in _cache.blob_ids(str(many), paths, token="next-run")


def test_a_finished_run_forgets_its_answers_and_the_others_keep_theirs(tmp_path):
    root = init_repo(tmp_path / "r")
    _stage(root, "m.py", b"x = 1\n")
    _cache._BLOBS.clear()
    first = _cache.blob_ids(str(root), ["m.py"], token="ended")
    assert set(first) == {"m.py"} and _cache.blob_ids(str(root), ["m.py"], token="going-on") == first
    (root / "m.py").write_bytes(b"x = 2\n")
    _cache.forget_answers("ended")
    assert _cache.blob_ids(str(root), ["m.py"], token="ended") == {}  # asked again: git no longer vouches
    assert _cache.blob_ids(str(root), ["m.py"], token="going-on") == first  # still the run's own answer


def test_a_process_keeps_git_answers_for_a_few_runs_only(tmp_path):
    root = init_repo(tmp_path / "r")
    _stage(root, "m.py", b"x = 1\n")
    _cache._BLOBS.clear()
    _cache.blob_ids(str(root), ["m.py"], token="old")
    (root / "m.py").write_bytes(b"x = 2\n")
    for i in range(7):  # eight runs' answers fit
        _cache.blob_ids(str(root), ["m.py"], token=f"later-{i}")
    assert "m.py" in _cache.blob_ids(str(root), ["m.py"], token="old")
    _cache.blob_ids(str(root), ["m.py"], token="one-more")  # the ninth: the old ones are dropped
    assert _cache.blob_ids(str(root), ["m.py"], token="old") == {}


# --- keys ------------------------------------------------------------------------------------------


def test_a_path_that_is_not_utf8_has_a_key_of_its_own():
    salt = _cache.versions()
    one, two = os.fsdecode(b"caf\xe9.txt"), os.fsdecode(b"caf\xe8.txt")
    assert verdict_key("100644 ab", one, b"", salt) != verdict_key("100644 ab", two, b"", salt)
    assert _cache.file_key("100644 ab", one, salt) == verdict_key("100644 ab", one, b"", salt)
    assert _cache.file_key("100644 ab", one, salt) != _cache.file_key("100644 ab", one, salt + "x")


def test_the_checks_and_the_versions_cannot_stand_in_for_each_other():
    assert verdict_key("b", "p", b"ab", "c") != verdict_key("b", "p", b"a", "bc")


def test_a_key_is_a_16_byte_digest():
    assert len(verdict_key("b", "p", b"", "s")) == 16
    assert _cache.digest(b"x") != _cache.digest(b"y") and len(_cache.digest(b"x")) == 16


def test_the_versions_name_the_key_format_python_and_omnibase():
    from omnibase import _version

    fmt, python, ours, identify, ruamel = _cache.versions().split("\0")
    assert fmt == _cache.FORMAT and python == f"{sys.implementation.name}-{sys.version}" and ours == _version.__version__
    assert identify.startswith("identify ") and ruamel.startswith("ruamel.yaml ")  # tests/builtins/test_cache_versions.py


def test_a_selection_key_changes_with_each_thing_it_is_made_of(many):
    paths = list(_files(many))
    key = _cache.selection_key(str(many), paths, b"sig", frozenset({"a"}))
    assert key is not None and len(key) == 16
    assert _cache.selection_key(str(many), paths, b"sig", frozenset({"a"})) == key
    others = [
        _cache.selection_key(str(many), paths, b"other", frozenset({"a"})),
        _cache.selection_key(str(many), paths, b"sig", frozenset({"b"})),
        _cache.selection_key(str(many), paths, b"sig", frozenset()),
        _cache.selection_key(str(many), paths[1:], b"sig", frozenset({"a"})),
        _cache.selection_key(str(many), paths[::-1], b"sig", frozenset({"a"})),
    ]
    assert None not in others and len({key, *others}) == 6
    (many / "d0/f0.txt").write_text("changed\n")  # not staged: no key while it differs
    assert _cache.selection_key(str(many), paths, b"sig", frozenset({"a"})) is None
    git(many, "add", "d0/f0.txt")
    assert _cache.selection_key(str(many), paths, b"sig", frozenset({"a"})) not in (None, key)
    assert _cache.selection_key(str(many), paths[: _cache._PATHSPEC_MAX], b"sig") is None
    assert _cache.selection_key(str(many), paths[: _cache._PATHSPEC_MAX + 1], b"sig") is not None


# --- the store -------------------------------------------------------------------------------------


def test_the_store_of_a_repository_is_in_its_state_folder(tmp_path):
    root = init_repo(tmp_path / "r")
    cache = VerdictCache.for_git_dir(str(root / ".git"))
    assert cache.path == str(root / ".git/omnibase/cache/verdicts.sqlite3")
    cache.add({b"k": Record(tags=frozenset(), size=0)})
    cache.close()
    assert (root / ".git/omnibase/cache/verdicts.sqlite3").is_file()
    assert VerdictCache.for_git_dir(str(root / ".git")).hits([b"k"]) == {b"k": Record(tags=frozenset(), size=0)}


def test_the_store_is_never_written_through_a_planted_symlink(tmp_path):
    root = init_repo(tmp_path / "r")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / ".git/omnibase").symlink_to(elsewhere)
    cache = VerdictCache.for_git_dir(str(root / ".git"))
    cache.add({b"k": Record(tags=frozenset(), size=0)})
    cache.keep_selection(b"s", _cache.Selection(checked=(1,)))
    assert cache.hits([b"k"]) == {} and cache.selection(b"s") is None
    assert list(elsewhere.iterdir()) == []


def test_a_store_outside_a_state_folder_gets_its_folder_made(tmp_path):
    cache = VerdictCache(str(tmp_path / "deep" / "er" / "c.sqlite3"))
    cache.add({b"k": Record(tags=frozenset(), size=0)})
    assert (tmp_path / "deep/er/c.sqlite3").is_file()


def _locked(path: str, *, readers_too: bool = False):
    """Another run holding the store's write lock (``BEGIN EXCLUSIVE``; ``readers_too``: in
    SQLite's exclusive locking mode, which keeps out readers as well)."""
    import contextlib

    @contextlib.contextmanager
    def held():
        other = sqlite3.connect(path, isolation_level=None)
        if readers_too:
            other.execute("PRAGMA locking_mode=EXCLUSIVE")
        other.execute("BEGIN EXCLUSIVE")
        other.execute("DELETE FROM ok WHERE key = x'00'")
        try:
            yield other
        finally:
            other.execute("ROLLBACK")
            other.close()

    return held()


def test_a_store_busy_for_long_is_done_without_and_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(_cache, "_BUSY_TIMEOUT_S", 0.2)
    path = str(tmp_path / "c.sqlite3")
    record = Record(tags=frozenset({"text"}), size=1, passed={b"s": ("x",)})
    first = VerdictCache(path)
    first.add({b"k": record})
    first.close()
    with _locked(path, readers_too=True):
        busy = VerdictCache(path)
        busy.add({b"other": record})  # no error: a miss next time
        assert busy.hits([b"k"]) == {}
        assert busy.selection(b"s") is None
        busy.keep_selection(b"s", _cache.Selection(checked=(1,)))
        busy.close()
    # not taken for a damaged store: what it held is still there, and it takes writes again
    again = VerdictCache(path)
    assert again.hits([b"k", b"other"]) == {b"k": record}
    again.add({b"other": record})
    assert VerdictCache(path).hits([b"other"]) == {b"other": record}


def test_a_store_of_another_shape_that_cannot_be_deleted_is_no_cache_at_every_use(tmp_path, monkeypatch):
    # an older omnibase's store in a folder this user may not write to: it cannot be rebuilt
    path = str(tmp_path / "c.sqlite3")
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE runs (key BLOB PRIMARY KEY, used INTEGER NOT NULL)")
    old.commit()
    old.close()
    unlink = os.unlink

    def refused(name, *args, **kwargs):  # the tests run as root, whom a folder's mode does not stop
        if os.fspath(name).startswith(path):
            raise PermissionError(13, "Permission denied", name)
        return unlink(name, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refused)
    cache = VerdictCache(path)
    for _ in range(2):  # each use goes without the store, none fails
        assert cache.hits([b"k"]) == {} and cache.selection(b"s") is None
        cache.add({b"k": Record(tags=frozenset(), size=0)})
        cache.keep_selection(b"s", _cache.Selection(checked=(1,)))
    cache.close()
    assert os.path.exists(path)


def test_a_write_that_finds_the_store_locked_is_dropped_and_the_store_works_after(tmp_path, monkeypatch):
    monkeypatch.setattr(_cache, "_BUSY_TIMEOUT_S", 0.2)
    path = str(tmp_path / "c.sqlite3")
    record = Record(tags=frozenset(), size=0)
    cache = VerdictCache(path)
    assert cache.hits([b"k"]) == {}  # open now: the lock comes after
    with _locked(path):
        cache.add({b"k": record})
        cache.keep_selection(b"s", _cache.Selection(checked=(1,)))
    cache.add({b"j": record})  # the connection is usable: no transaction was left open
    cache.keep_selection(b"t", _cache.Selection(checked=(2,)))
    assert VerdictCache(path).hits([b"k", b"j"]) == {b"j": record}
    assert VerdictCache(path).selection(b"s") is None and VerdictCache(path).selection(b"t") == _cache.Selection((2,))


def test_a_store_that_is_no_database_is_rebuilt_with_its_journal(tmp_path):
    path = tmp_path / "c.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).write_bytes(b"this is not a database" * 200)
    cache = VerdictCache(str(path))
    cache.add({b"k": Record(tags=frozenset(), size=0)})
    cache.keep_selection(b"s", _cache.Selection(checked=(3,)))
    cache.close()
    assert VerdictCache(str(path)).hits([b"k"]) == {b"k": Record(tags=frozenset(), size=0)}
    assert VerdictCache(str(path)).selection(b"s") == _cache.Selection(checked=(3,))


def test_a_store_that_cannot_be_made_is_no_cache(tmp_path):
    (tmp_path / "file").write_text("x")
    cache = VerdictCache(str(tmp_path / "file" / "c.sqlite3"))  # a folder that is a file
    cache.add({b"k": Record(tags=frozenset(), size=0)})
    assert cache.hits([b"k"]) == {} and cache.selection(b"s") is None
    assert cache.records({"a": b"k"}) == {}


def test_a_damaged_row_is_a_miss(tmp_path):
    path = str(tmp_path / "c.sqlite3")
    fine = {k: Record(tags=frozenset(), size=i) for i, k in enumerate([b"b", b"c", b"d"])}
    VerdictCache(path).add({b"a": Record(tags=frozenset(), size=0), **fine})
    VerdictCache(path).keep_selection(b"s", _cache.Selection(checked=(1,)))
    db = sqlite3.connect(path)
    db.execute("UPDATE ok SET known = x'c1' WHERE key = x'61'")  # the first row read
    db.execute("UPDATE runs SET checked = x'c1'")
    db.commit()
    db.close()
    assert VerdictCache(path).hits([b"a", b"b", b"c", b"d"]) == fine  # the rows after it are read
    assert VerdictCache(path).selection(b"s") is None


def _used(path: str, table: str) -> dict[bytes, int]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute(f"SELECT key, used FROM {table}"))
    finally:
        db.close()


def _age(path: str, table: str, ns: int) -> None:
    db = sqlite3.connect(path)
    db.execute(f"UPDATE {table} SET used = used - ?", (ns,))
    db.commit()
    db.close()


def test_a_record_read_is_marked_used_at_most_once_a_day(tmp_path):
    # least recently used go first: a record still read must not look old
    path = str(tmp_path / "c.sqlite3")
    day = 86_400 * 10**9
    VerdictCache(path).add({b"k": Record(tags=frozenset(), size=0), b"j": Record(tags=frozenset(), size=0)})
    VerdictCache(path).keep_selection(b"s", _cache.Selection(checked=(1,)))
    before, selections = _used(path, "ok"), _used(path, "runs")
    assert VerdictCache(path).hits([b"k"]) and VerdictCache(path).selection(b"s")
    assert _used(path, "ok") == before and _used(path, "runs") == selections  # read today: not written again
    _age(path, "ok", day + 10**9)
    _age(path, "runs", day + 10**9)
    old = _used(path, "ok")
    assert VerdictCache(path).hits([b"k"]) and VerdictCache(path).selection(b"s")
    now = _used(path, "ok")
    assert now[b"k"] > old[b"k"] + day and now[b"j"] == old[b"j"]
    assert _used(path, "runs")[b"s"] > old[b"k"] + day
    assert VerdictCache(path).selection(b"s") == _cache.Selection(checked=(1,))  # what it held, refreshed
    assert VerdictCache(path).hits([b"k"]) == {b"k": Record(tags=frozenset(), size=0)}
    _age(path, "ok", day - 10**10)  # not a day old yet: left as it is
    younger = _used(path, "ok")
    VerdictCache(path).hits([b"k"])
    assert _used(path, "ok") == younger


def test_the_store_keeps_at_most_max_selections_and_drops_the_oldest(tmp_path, monkeypatch):
    monkeypatch.setattr(_cache, "MAX_SELECTIONS", 3)
    path = str(tmp_path / "c.sqlite3")
    cache = VerdictCache(path)
    for i in range(5):
        cache.keep_selection(bytes([i]), _cache.Selection(checked=(i,)))
    assert sorted(_used(path, "runs")) == [bytes([2]), bytes([3]), bytes([4])]
    assert cache.selection(bytes([4])) == _cache.Selection(checked=(4,)) and cache.selection(bytes([1])) is None
    cache.keep_selection(bytes([2]), _cache.Selection(checked=(7,)))  # written again: the newest
    cache.keep_selection(bytes([5]), _cache.Selection(checked=(5,)))
    assert sorted(_used(path, "runs")) == [bytes([2]), bytes([4]), bytes([5])]
    assert cache.selection(bytes([2])) == _cache.Selection(checked=(7,))


def test_the_records_of_one_run_are_read_once_and_a_few_runs_are_kept(tmp_path):
    path = str(tmp_path / "c.sqlite3")
    record = Record(tags=frozenset({"text"}), size=1, passed={b"s": ("x",)})
    VerdictCache(path).add({b"k": record})
    _cache._READ.clear()
    assert VerdictCache(path, token="r1").records({"a": b"k"}) == {"a": record}
    db = sqlite3.connect(path)
    db.execute("DELETE FROM ok")
    db.commit()
    db.close()
    assert VerdictCache(path, token="r1").records({"a": b"k"}) == {"a": record}  # this run read it before
    assert VerdictCache(path, token="r2").records({"a": b"k"}) == {}
    assert VerdictCache(path).records({"a": b"k"}) == {}
    for i in range(2):
        VerdictCache(path, token=f"r{i + 3}")
    assert VerdictCache(path, token="r1").records({"a": b"k"}) == {"a": record}  # four runs kept
    VerdictCache(path, token="r5")  # a fifth: the earlier ones are dropped
    assert VerdictCache(path, token="r1").records({"a": b"k"}) == {}


def test_a_record_whose_tags_or_size_changed_starts_again(tmp_path):
    path = str(tmp_path / "c.sqlite3")
    cache = VerdictCache(path)
    cache.learn({b"k": Known(checks=("check-ast",), tags=frozenset({"python"}), size=3)}, b"s1")
    cache.learn({b"k": Known(checks=("check-ast",), tags=frozenset({"python"}), size=3)}, b"s2")
    cache.learn({b"k": Known(checks=("x",), tags=frozenset({"text"}), size=3)}, b"s3")
    assert VerdictCache(path).hits([b"k"])[b"k"] == Record(tags=frozenset({"text"}), size=3, passed={b"s3": ("x",)})
    cache.learn({b"k": Known(checks=("y",), tags=frozenset({"text"}), size=4)}, b"s4")
    assert VerdictCache(path).hits([b"k"])[b"k"] == Record(tags=frozenset({"text"}), size=4, passed={b"s4": ("y",)})


def test_a_closed_store_opens_again_when_asked(tmp_path):
    path = str(tmp_path / "c.sqlite3")
    cache = VerdictCache(path)
    cache.add({b"k": Record(tags=frozenset(), size=0)})
    cache.close()
    cache.close()  # twice is fine
    assert cache.hits([b"k"]) == {b"k": Record(tags=frozenset(), size=0)}
    cache.close()
    assert VerdictCache(path).hits([]) == {}


def test_a_selection_key_stands_for_the_whole_index_not_only_the_selected_paths(many):
    paths = list(_files(many))
    key = _cache.selection_key(str(many), paths, b"sig")
    _stage(many, "outside.txt", b"x\n")
    git(many, "commit", "-q", "-m", "a file outside the selection")
    assert _cache.selection_key(str(many), paths, b"sig") not in (None, key)


def test_a_selection_key_believes_the_caller_who_knows_the_working_tree_holds_the_index(many):
    paths = list(_files(many))
    (many / BROKEN).write_bytes(b"x = 2\n")  # as if put aside by the stash: the caller says so
    assert _cache.selection_key(str(many), paths, b"sig") is None
    assert _cache.selection_key(str(many), paths, b"sig", worktree_is_index=True) is not None


def test_a_selection_key_is_asked_of_git_once_per_run(many):
    paths = list(_files(many))
    key = _cache.selection_key(str(many), paths, b"sig", token="sel-run")
    (many / BROKEN).write_bytes(b"x = 2\n")
    assert _cache.selection_key(str(many), paths, b"sig", token="sel-run") == key
    assert _cache.selection_key(str(many), paths, b"sig", token="sel-next") is None
    _cache.forget_answers("sel-run")


def test_a_selection_with_paths_that_are_not_utf8_has_a_key(many):
    odd = os.fsdecode(b"caf\xe9.txt")
    (many / odd).write_bytes(b"x\n")
    git(many, "add", "--", odd)
    paths = list(_files(many))
    assert odd in paths
    key = _cache.selection_key(str(many), paths, b"sig", frozenset({odd}))
    other = _cache.selection_key(str(many), paths, b"sig", frozenset({os.fsdecode(b"caf\xe8.txt")}))
    assert None not in (key, other) and key != other


def test_the_store_of_a_run_keeps_the_records_it_read_for_the_run(tmp_path):
    root = init_repo(tmp_path / "r")
    git_dir = str(root / ".git")
    record = Record(tags=frozenset(), size=0)
    VerdictCache.for_git_dir(git_dir).add({b"k": record})
    assert VerdictCache.for_git_dir(git_dir, "run-a").records({"a": b"k"}) == {"a": record}
    assert VerdictCache.for_git_dir(git_dir).records({"a": b"k"}) == {"a": record}
    db = sqlite3.connect(root / ".git/omnibase/cache/verdicts.sqlite3")
    db.execute("DELETE FROM ok")
    db.commit()
    db.close()
    assert VerdictCache.for_git_dir(git_dir, "run-a").records({"a": b"k"}) == {"a": record}
    assert VerdictCache.for_git_dir(git_dir).records({"a": b"k"}) == {}  # no run: read afresh
    assert VerdictCache.for_git_dir(git_dir).records({"a": b"k"}) == {}


def test_a_signature_learnt_again_is_the_newest_and_kept(tmp_path):
    path = str(tmp_path / "c.sqlite3")
    cache = VerdictCache(path)
    known = Known(checks=("x",), tags=frozenset(), size=0)
    for i in range(MAX_SIGNATURES):
        cache.learn({b"k": known}, f"s{i}".encode())
    cache.learn({b"k": known}, b"s0")  # the oldest, passed again just now
    cache.learn({b"k": known}, b"new")
    passed = VerdictCache(path).hits([b"k"])[b"k"].passed
    assert b"s0" in passed and b"s1" not in passed and b"new" in passed and len(passed) == MAX_SIGNATURES


def test_a_write_that_fails_halfway_is_rolled_back(tmp_path):
    # a write refused after it began (a full disk, say; here a trigger that refuses it)
    # must not leave the store locked by a transaction that never ends
    path = str(tmp_path / "c.sqlite3")
    cache = VerdictCache(path)
    assert cache.hits([b"k"]) == {} and cache.selection(b"s") is None  # opened
    other = sqlite3.connect(path, isolation_level=None, timeout=2)
    other.execute("CREATE TRIGGER no_ok BEFORE INSERT ON ok BEGIN SELECT RAISE(FAIL, 'disk full'); END")
    other.execute("CREATE TRIGGER no_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(FAIL, 'disk full'); END")
    cache.add({b"k": Record(tags=frozenset(), size=0)})
    other.execute("DROP TRIGGER no_ok")  # would wait, then fail, while a write of the cache is open
    cache.keep_selection(b"s", _cache.Selection(checked=(1,)))
    other.execute("DROP TRIGGER no_runs")
    other.close()
    cache.add({b"j": Record(tags=frozenset(), size=0)})
    cache.keep_selection(b"t", _cache.Selection(checked=(2,)))
    assert VerdictCache(path).hits([b"k", b"j"]) == {b"j": Record(tags=frozenset(), size=0)}
    assert VerdictCache(path).selection(b"s") is None
    assert VerdictCache(path).selection(b"t") == _cache.Selection(checked=(2,))


def test_asking_about_nothing_makes_no_store(tmp_path):
    path = tmp_path / "c.sqlite3"
    assert VerdictCache(str(path)).hits([]) == {}
    assert VerdictCache(str(path)).records({}) == {}
    assert not path.exists()


def test_a_busy_store_is_waited_for_only_so_long(tmp_path, monkeypatch):
    # a run waits _BUSY_TIMEOUT_S for a busy store, then goes on without it (it does not
    # wait for the other run to finish): here the other run holds it far longer
    import threading

    monkeypatch.setattr(_cache, "_BUSY_TIMEOUT_S", 0.1)
    path = str(tmp_path / "c.sqlite3")
    first = VerdictCache(path)
    first.add({b"k": Record(tags=frozenset(), size=0)})
    first.close()
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with _locked(path, readers_too=True):
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    timer = threading.Timer(4, release.set)  # a run that waited SQLite's default 5 s would get it
    holder.start()
    try:
        taken.wait(10)
        timer.start()
        assert VerdictCache(path).hits([b"k"]) == {}
    finally:
        timer.cancel()
        release.set()
        holder.join()
    assert VerdictCache(path).hits([b"k"]) == {b"k": Record(tags=frozenset(), size=0)}
