"""Hook environments: keyed by what they are built from, built once under a lock, swapped
in whole, and removed by gc only when unused and not being built."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from returns.result import Failure, Success

from omnibase.repos import HookSource, cache_dir, env_key, environment, environments
from omnibase.repos._gc import clean, needed, sweep

PY = ("/usr/bin/python3", "3.11.7")
LOCAL_ENV = HookSource(language="python", entry="true")  # a local hook with no dependencies: a bare venv


def test_the_key_changes_with_rev_dependencies_and_interpreter_but_not_dependency_order():
    base = HookSource(url="file:///h", rev="v1", language="python", entry="x", additional_dependencies=("a", "b"))
    assert env_key(base, PY) == env_key(HookSource(url="file:///h", rev="v1", language="python", entry="x", additional_dependencies=("b", "a")), PY)
    others = [
        HookSource(url="file:///h", rev="v2", language="python", entry="x", additional_dependencies=("a", "b")),
        HookSource(url="file:///g", rev="v1", language="python", entry="x", additional_dependencies=("a", "b")),
        HookSource(url="file:///h", rev="v1", language="python", entry="x", additional_dependencies=("a",)),
    ]
    keys = {env_key(base, PY), *(env_key(o, PY) for o in others), env_key(base, ("/usr/bin/python3.12", "3.12.1"))}
    assert len(keys) == 5


def test_the_cache_folder_follows_the_variable_then_xdg_then_home():
    assert cache_dir({"OMNIBASE_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"}) == "/c"
    assert cache_dir({"XDG_CACHE_HOME": "/x"}) == "/x/omnibase"
    assert cache_dir({"HOME": "/nonexistent"}).endswith(os.path.join(".cache", "omnibase"))


def test_an_environment_is_built_once_and_then_found(tmp_path):
    said: list[str] = []
    first = environment(LOCAL_ENV, cache=str(tmp_path), say=said.append)
    assert isinstance(first, Success), first
    assert os.access(os.path.join(first.unwrap(), "bin", "python"), os.X_OK)
    assert any("building" in line for line in said)
    said.clear()
    assert environment(LOCAL_ENV, cache=str(tmp_path), say=said.append) == first
    assert said == []


_BUILD = """
import sys
from omnibase.repos import HookSource, environment
built = environment(HookSource(language="python", entry="true"), cache=sys.argv[1])
print(built.unwrap())
"""


def test_two_runs_building_the_same_environment_build_it_once(tmp_path):
    runs = [
        subprocess.Popen([sys.executable, "-c", _BUILD, str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outs
    assert outs[0][0] == outs[1][0]  # the same folder
    assert sum(err.count("building the Python environment") for _, err in outs) == 1
    assert len([f for f in os.listdir(tmp_path / "envs") if not f.endswith(".lock")]) == 2  # the folder and its link


def test_a_failed_build_leaves_nothing_and_says_why(tmp_path):
    broken = HookSource(language="python", entry="x", additional_dependencies=(str(tmp_path / "no-such-package"),))
    built = environment(broken, cache=str(tmp_path), say=lambda _: None)
    assert isinstance(built, Failure)
    assert "installing 1 package(s)" in built.failure()
    assert [f for f in os.listdir(tmp_path / "envs") if not f.endswith(".lock")] == []


def test_an_unknown_interpreter_is_named(tmp_path):
    built = environment(HookSource(language="python", entry="x", language_version="python2.1"), cache=str(tmp_path))
    assert isinstance(built, Failure) and "python2.1" in built.failure()


def _finished(cache: Path, key: str, url: str) -> Path:
    """An environment folder as a finished build leaves it: its info, and its link."""
    import msgspec

    from omnibase.repos import EnvInfo

    folder = cache / "envs" / f"{key}.abc"
    folder.mkdir(parents=True)
    info = EnvInfo(key=key, url=url, rev="v0", dependencies=(), python=PY[0])
    (folder / ".omnibase-env.json").write_bytes(msgspec.json.encode(info))
    os.symlink(folder.name, cache / "envs" / key)
    return folder


def test_gc_keeps_what_is_needed_and_removes_the_rest_but_not_a_build_under_way(tmp_path):
    cache = str(tmp_path)
    kept = environment(LOCAL_ENV, cache=cache, say=lambda _: None).unwrap()
    old = _finished(tmp_path, "f" * 20, "file:///old-hooks")
    envs, clones = needed([LOCAL_ENV])
    unfinished = tmp_path / "envs" / "0123456789abcdef0123.xyz"
    unfinished.mkdir()
    with open(tmp_path / "envs" / "0123456789abcdef0123.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as a build under way holds it
        removed = sweep(cache, envs=envs, clones=clones)
        assert unfinished.is_dir()
    assert [(r.kind, r.what) for r in removed] == [("environment", "file:///old-hooks at v0")]
    assert not old.exists() and not os.path.lexists(tmp_path / "envs" / ("f" * 20))
    assert os.path.isdir(kept)
    removed = sweep(cache, envs=envs, clones=clones)  # the lock is free now: an unfinished build goes
    assert [r.what for r in removed] == ["an unfinished build"] and not unfinished.exists()
    assert [k for k, _, info in environments(cache) if info is not None] == sorted(envs)
    assert sweep(cache, envs=envs, clones=clones, dry_run=True) == []


def test_clean_removes_only_the_cache_own_folders(tmp_path):
    environment(LOCAL_ENV, cache=str(tmp_path), say=lambda _: None)
    (tmp_path / "mine.txt").write_text("not the cache's")
    clean(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["mine.txt"]


def test_gc_keeps_a_needed_environment_even_when_its_info_file_is_damaged(tmp_path):
    kept = environment(LOCAL_ENV, cache=str(tmp_path), say=lambda _: None).unwrap()
    (Path(kept) / ".omnibase-env.json").write_text("{not json")
    envs, clones = needed([LOCAL_ENV])
    assert sweep(str(tmp_path), envs=envs, clones=clones) == []
    assert [r.what for r in sweep(str(tmp_path), envs=set(), clones=set(), dry_run=True)] == ["an environment of unknown origin"]
    assert os.path.isdir(kept)
