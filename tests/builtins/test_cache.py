"""The verdict cache's store and keys (a real SQLite file, real git repositories)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from omnibase.builtins import run_builtin_checks
from omnibase.builtins import _cache
from omnibase.builtins._cache import MAX_SIGNATURES, Known, Record, VerdictCache, verdict_key
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
