"""The verdict cache's store and keys (a real SQLite file, real git repositories)."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from omnibase.builtins import run_builtin_checks
from omnibase.builtins import _cache
from omnibase.builtins._cache import MAX_SIGNATURES, Known, Record, VerdictCache, verdict_key


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "r"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "a.txt").write_bytes(b"one\r\ntwo\r\n")
    (root / "b.py").write_bytes(b"x = 1\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


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
    root = tmp_path / "r"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "f.txt").write_bytes(b"a\n \n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    cache = VerdictCache.for_git_dir(str(root / ".git"))
    run_builtin_checks(["f.txt"], ["end-of-file-fixer"], root=str(root), cache=cache)
    both = run_builtin_checks(["f.txt"], ["trailing-whitespace", "end-of-file-fixer"], root=str(root), cache=cache)
    assert {v.check: v.ok for v in both} == {"trailing-whitespace": False, "end-of-file-fixer": False}


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=8), st.text(max_size=8), st.binary(max_size=8))
def test_keys_differ_when_any_part_differs(blob, path, checks):
    base = verdict_key(blob, path, checks, "v1")
    assert base == verdict_key(blob, path, checks, "v1")
    assert base != verdict_key(blob + "x", path, checks, "v1")
    assert base != verdict_key(blob, path + "x", checks, "v1")
    assert base != verdict_key(blob, path, checks + b"x", "v1")
    assert base != verdict_key(blob, path, checks, "v2")


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
