"""The shared pass lets its pool go once every chunk is back (``close_pool_soon``).

Over a tree large enough for the worker processes, a run's one pass over its files is the
last thing the run asks of the pool: the workers are told to exit as soon as their
results are in, and the run reports while they leave. What a user relies on: the same
verdicts as the pass in one process, no worker left once the run has ended
(``release_pool``), and a later run in the same process still getting workers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from omnibase.builtins import CHECKS, _run
from omnibase.builtins._shared import forget, shared_pass
from omnibase.builtins._run import ScopedCheck
from omnibase.builtins._classify import parse_options
from tests.support import alive, git, init_repo

NAMES = ("trailing-whitespace", "end-of-file-fixer", "check-ast", "check-json", "check-case-conflict")


def _stages() -> list[ScopedCheck]:
    return [ScopedCheck(n, parse_options(n, None)) for n in CHECKS if n in NAMES]


@pytest.fixture()
def tree(tmp_path: Path) -> tuple[Path, tuple[str, ...]]:
    root = init_repo(tmp_path / "repo")
    paths = []
    for i in range(300):  # above MIN_FILES_FOR_POOL: the pool takes part
        name = f"d{i % 5}/f{i}." + ("py" if i % 3 else "json")
        body = b"x = 1   \n" if i % 7 == 0 else b"def f(:\n" if i % 11 == 0 else b'{"a": 1}' if name.endswith("json") else b"y = 2\n"
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(body)
        paths.append(name)
    git(root, "add", "-A")
    return root, tuple(sorted(paths))


@pytest.fixture()
def workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the workers of each pool ``close_pool_soon`` lets go."""
    seen: list[int] = []
    close = _run.close_pool_soon

    def recording() -> None:
        if _run._POOL:
            seen.extend(_run._POOL[0][0].pids)
        close()

    monkeypatch.setattr(_run, "close_pool_soon", recording)
    yield seen
    _run.release_pool()


def _pass(root: Path, files: tuple[str, ...], token: str) -> tuple[list[object], list[object]]:
    done = shared_pass(_stages(), files, root=str(root), token=token, jobs=2)
    forget(token)
    return [o for o in done.outcomes], sorted(done.infos)


def test_the_pass_lets_its_workers_go_and_the_end_of_the_run_leaves_none(tree, workers, monkeypatch):
    root, files = tree
    pooled = _pass(root, files, "pooled")
    assert len(workers) == 2, "the pass ran on two worker processes"
    assert _run._POOL == []  # let go: nothing more is asked of it
    _run.release_pool()
    assert _run._CLOSING == []
    assert not any(alive(pid) for pid in workers)  # exited and reaped: no orphan, no zombie
    monkeypatch.setattr(_run, "MIN_FILES_FOR_POOL", 10**9)  # the same pass in this process
    alone = _pass(root, files, "alone")
    assert pooled == alone
    failing = {v.check for o in pooled[0] if o is not None for v in o.notable}
    assert {"trailing-whitespace", "check-ast", "end-of-file-fixer"} <= failing


def test_a_run_after_a_pass_let_its_pool_go_gets_workers_again(tree, workers):
    root, files = tree
    first = _pass(root, files, "first")
    second = _pass(root, files, "second")  # the pool of the first is still closing, or gone
    assert first == second
    assert len(workers) == 4 and len(set(workers)) == 4, "a new pool, with workers of its own"
    _run.release_pool()
    assert not any(alive(pid) for pid in workers)


def test_letting_go_without_a_pool_does_nothing():
    assert _run._POOL == []
    _run.close_pool_soon()
    assert _run._POOL == [] and _run._CLOSING == []
