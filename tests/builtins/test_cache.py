"""The verdict cache's store and keys (a real SQLite file, real git repositories)."""

from __future__ import annotations

import shutil
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
from tests.support import git, init_repo


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
    return tuple(p for p in git(root, "ls-files", "-z").split("\0") if p and (root / p).exists())


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


def test_a_run_over_few_files_is_not_recorded(many):
    few = _files(many)[: _cache._PATHSPEC_MAX]
    _checks(many, files=few)
    assert _records(many) == 0
