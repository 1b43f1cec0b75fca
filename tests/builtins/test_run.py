"""The edge: run_builtin_checks (read once, worker processes, git facts) and apply_edits."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.builtins._builtins_ref import (
    JSON_CORPUS,
    PY_CORPUS,
    TEXT_CORPUS,
    TOML_CORPUS,
    YAML_CORPUS,
    git,
    init_repo,
    run_reference,
)

from omnibase.builtins import CHECKS, DEFAULT_CHECKS, Edit, apply_edits, options_from_args, run_builtin_checks
from omnibase.builtins import _run
from omnibase.builtins._output import hook_output

SMALL = {
    name: data
    for corpus in (TEXT_CORPUS, YAML_CORPUS, JSON_CORPUS, TOML_CORPUS, PY_CORPUS)
    for name, data in corpus.items()
    if len(data) < 50_000
}


def _write(root: Path, files: dict[str, bytes]) -> list[str]:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return list(files)


@pytest.fixture
def many(tmp_path: Path) -> tuple[Path, list[str]]:
    files = {}
    items = sorted(SMALL.items())
    for i in range(320):
        name, data = items[i % len(items)]
        files[f"d{i % 7}/{i:03d}_{name}"] = data
    return tmp_path, _write(tmp_path, files)


def test_worker_processes_give_the_same_verdicts_as_one_process(many):
    root, paths = many
    one = run_builtin_checks(paths, list(CHECKS), root=str(root), jobs=1)
    two = run_builtin_checks(paths, list(CHECKS), root=str(root), jobs=2)
    assert len(one) > len(paths)
    assert one == two
    assert any(not v.ok for v in one) and any(v.ok for v in one)
    rank = {n: i for i, n in enumerate(CHECKS)}
    assert [(rank[v.check], v.path) for v in one] == sorted((rank[v.check], v.path) for v in one)


def test_worker_processes_also_work_when_other_threads_run(many):
    root, paths = many
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        pooled = run_builtin_checks(paths[:100], ["check-json", "end-of-file-fixer"], root=str(root), jobs=2)
    finally:
        stop.set()
    assert pooled == run_builtin_checks(paths[:100], ["check-json", "end-of-file-fixer"], root=str(root), jobs=1)


def test_checking_writes_nothing(many):
    root, paths = many
    before = {p: (root / p).read_bytes() for p in paths}
    verdicts = run_builtin_checks(paths, list(CHECKS), root=str(root), jobs=2)
    assert any(v.edit is not None for v in verdicts)
    assert {p: (root / p).read_bytes() for p in paths} == before


def test_fixers_chain_and_their_edits_apply_in_one_run(tmp_path: Path):
    (tmp_path / "notes.txt").write_bytes(b"trailing   \r\nmixed\nno final newline")
    verdicts = run_builtin_checks(["notes.txt"], DEFAULT_CHECKS, root=str(tmp_path))
    edits = [v.edit for v in verdicts if v.edit is not None]
    assert [e.path for e in edits] == ["notes.txt"] * 3
    assert edits[1].original == edits[0].content and edits[2].original == edits[1].content
    # applied in any order, the chain gives what the three hooks in a row would
    assert apply_edits(reversed(edits), root=str(tmp_path)) == ("notes.txt",)
    assert (tmp_path / "notes.txt").read_bytes() == b"trailing\nmixed\nno final newline\n"
    assert all(v.ok for v in run_builtin_checks(["notes.txt"], DEFAULT_CHECKS, root=str(tmp_path)))


def test_checks_other_than_fixers_see_the_file_as_it_is(tmp_path: Path):
    (tmp_path / "a.json").write_bytes(b"{}\n\n")  # end-of-file-fixer would change it
    (tmp_path / "b.json").write_bytes(b'{"a": 1 ')
    verdicts = {(v.check, v.path): v for v in run_builtin_checks(["a.json", "b.json"], list(CHECKS), root=str(tmp_path))}
    assert verdicts["end-of-file-fixer", "a.json"].edit is not None
    assert verdicts["check-json", "a.json"].ok
    assert not verdicts["check-json", "b.json"].ok
    assert verdicts["check-json", "b.json"].findings[0].message.startswith("b.json: Failed to json decode (")


def test_apply_edits_is_atomic_and_keeps_the_mode(tmp_path: Path):
    target = tmp_path / "x.txt"
    target.write_bytes(b"old \n")
    target.chmod(0o751)
    edit = Edit.make("x.txt", b"old \n", b"old\n")
    assert apply_edits([edit], root=str(tmp_path)) == ("x.txt",)
    assert target.read_bytes() == b"old\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert sorted(os.listdir(tmp_path)) == ["x.txt"]  # no temporary file left behind
    # the file no longer holds what the edit was made from: left alone
    assert apply_edits([edit], root=str(tmp_path)) == ()
    assert target.read_bytes() == b"old\n"


def test_apply_edits_leaves_symlinks_and_missing_files_alone(tmp_path: Path):
    (tmp_path / "real.txt").write_bytes(b"a \n")
    os.symlink("real.txt", tmp_path / "link.txt")
    edits = [Edit.make("link.txt", b"a \n", b"a\n"), Edit.make("gone.txt", b"", b"\n")]
    assert apply_edits(edits, root=str(tmp_path)) == ()
    assert (tmp_path / "real.txt").read_bytes() == b"a \n"
    assert os.path.islink(tmp_path / "link.txt")


def test_a_failed_write_leaves_the_file_and_no_temporary(tmp_path: Path, monkeypatch):
    target = tmp_path / "x.txt"
    target.write_bytes(b"a \n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_run.os, "replace", broken_replace)
    failed: dict[str, str] = {}
    assert apply_edits([Edit.make("x.txt", b"a \n", b"a\n")], root=str(tmp_path), failed=failed) == ()
    assert target.read_bytes() == b"a \n"
    assert sorted(os.listdir(tmp_path)) == ["x.txt"]
    assert failed == {"x.txt": "disk full"}


def test_a_write_past_the_file_size_limit_is_told_with_why(tmp_path: Path):
    """EFBIG for real: the file-size limit in a child process that applies an edit."""
    import subprocess
    import sys

    (tmp_path / "x.txt").write_bytes(b"a\n")
    (tmp_path / "y.txt").write_bytes(b"b \n")
    program = (
        "import resource, signal, sys\n"
        "from omnibase.builtins import Edit, apply_edits\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "failed = {}\n"
        "edits = [Edit.make('x.txt', b'a\\n', b'a' * 10000), Edit.make('y.txt', b'b \\n', b'b\\n')]\n"
        "print(apply_edits(edits, root=sys.argv[1], failed=failed), failed)\n"
    )
    done = subprocess.run([sys.executable, "-c", program, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "('y.txt',) {'x.txt': 'File too large'}", done
    assert (tmp_path / "x.txt").read_bytes() == b"a\n"
    assert sorted(os.listdir(tmp_path)) == ["x.txt", "y.txt"]


def test_bad_files_give_failing_verdicts_never_exceptions(tmp_path: Path, monkeypatch):
    (tmp_path / "locked.py").write_bytes(b"x = 1\n")
    (tmp_path / "fine.py").write_bytes(b"x = 1\n")
    os.mkfifo(tmp_path / "pipe.txt")
    real_open = os.open  # the checks read with the operating system's calls (root may read a chmod 000 file)

    def guarded_open(path, *args, **kwargs):
        if str(path).endswith("locked.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    paths = ["locked.py", "fine.py", "pipe.txt", "vanished.py"]
    verdicts = run_builtin_checks(paths, ["check-ast", "end-of-file-fixer"], root=str(tmp_path), jobs=1)
    by = {(v.check, v.path): v for v in verdicts}
    assert not by["check-ast", "locked.py"].ok
    assert "Permission denied" in by["check-ast", "locked.py"].findings[0].message
    assert by["check-ast", "fine.py"].ok
    assert not by["end-of-file-fixer", "pipe.txt"].ok  # a FIFO is never read
    assert not any(v.path == "vanished.py" for v in verdicts)  # gone: skipped, as pre-commit does


def test_unknown_checks_and_bad_options_are_errors(tmp_path: Path):
    with pytest.raises(ValueError, match="no-such-check"):
        run_builtin_checks([], ["no-such-check"], root=str(tmp_path))
    with pytest.raises(ValueError, match="mixed-line-ending"):
        run_builtin_checks([], ["mixed-line-ending"], root=str(tmp_path), opts={"mixed-line-ending": {"fix": "x"}})
    with pytest.raises(ValueError, match="check-yaml"):
        run_builtin_checks([], ["check-yaml"], root=str(tmp_path), opts={"check-yaml": {"multi": True}})


# --- the checks that ask git, against the reference in real repositories ----------------


def _failing(verdicts, check):
    return {v.path for v in verdicts if v.check == check and not v.ok}


def _printed_names(out: str, prefix: str) -> set[str]:
    return {line[len(prefix):] for line in out.splitlines() if line.startswith(prefix)}


@pytest.mark.parametrize("enforce_all", [False, True])
def test_added_large_files_like_the_reference(tmp_path: Path, enforce_all: bool):
    repo = init_repo(tmp_path / "repo")
    _write(repo, {"old.bin": b"x" * 3000, ".gitattributes": b"lfs.bin filter=lfs\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    _write(repo, {
        "old.bin": b"y" * 5000, "new.bin": b"z" * 3000, "edge.bin": b"e" * 2048, "over.bin": b"e" * 2049,
        "small.txt": b"s\n", "lfs.bin": b"l" * 9000, "unstaged.bin": b"u" * 9000,
    })
    git(repo, "add", "old.bin", "new.bin", "edge.bin", "over.bin", "small.txt", "lfs.bin")
    paths = ["old.bin", "new.bin", "edge.bin", "over.bin", "small.txt", "lfs.bin", "unstaged.bin", ".gitattributes"]
    args = ["--maxkb=2", *(["--enforce-all"] if enforce_all else [])]
    ref = run_reference("check-added-large-files", [*args, *paths], cwd=repo)
    opts = {"check-added-large-files": {"maxkb": 2, "enforce_all": enforce_all}}
    verdicts = run_builtin_checks(paths, ["check-added-large-files"], root=str(repo), opts=opts)
    failing = _failing(verdicts, "check-added-large-files")
    assert failing == {line.split(" (")[0] for line in ref.out.splitlines()}
    assert bool(failing) == (ref.code != 0)
    assert failing == ({"new.bin", "over.bin", "old.bin", "unstaged.bin"} if enforce_all else {"new.bin", "over.bin"})
    messages = {f.message for v in verdicts for f in v.findings}
    assert messages == set(ref.out.splitlines())
    # the reference prints in the order of a set (it varies from run to run); ours sorted
    printed = hook_output("check-added-large-files", options_from_args("check-added-large-files", args), verdicts)
    assert printed == sorted(ref.out.splitlines())


@pytest.mark.parametrize(
    ("committed", "staged"),
    [
        (["README.md"], ["readme.md"]),
        (["a.txt"], ["b.txt", "B.txt"]),
        (["Dir/a.txt"], ["dir/b.txt"]),
        (["x/y.txt"], ["x/z.txt"]),
        (["docs/Guide.md", "src/a.py"], ["DOCS/other.md", "Src/b.py", "fine.txt"]),
        ([], ["café.txt", "CAFÉ.txt"]),
        (["z.txt", "A.txt"], ["Z.txt", "a.txt"]),  # file by file would print Z, z before A, a
        (["b/One.txt", "a.txt"], ["B/two.txt", "A.txt", "c/x.txt", "C/y.txt"]),
    ],
)
def test_case_conflicts_like_the_reference(tmp_path: Path, committed: list[str], staged: list[str]):
    repo = init_repo(tmp_path / "repo")
    if committed:
        _write(repo, {name: b"c\n" for name in committed})
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "init")
    _write(repo, {name: b"s\n" for name in staged})
    git(repo, "add", *staged)
    ref = run_reference("check-case-conflict", staged, cwd=repo)
    verdicts = run_builtin_checks(staged, ["check-case-conflict"], root=str(repo))
    prefix = "Case-insensitivity conflict found: "
    ours = {f.message[len(prefix):] for v in verdicts for f in v.findings}
    assert ours == _printed_names(ref.out, prefix)
    assert all(v.ok for v in verdicts) == (ref.code == 0)
    assert "".join(line + "\n" for line in hook_output("check-case-conflict", None, verdicts)) == ref.out


#: Names that collide in case in many ways: files, and folders holding files
_NAMES = ["a", "A", "b", "B", "a/x", "A/y", "b/a", "B/A", "Z", "z", "\u00e9", "\u00c9"]


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_NAMES), unique=True, max_size=4),
       st.lists(st.sampled_from(_NAMES), unique=True, min_size=1, max_size=4))
def test_case_conflicts_print_as_the_reference_on_generated_trees(tmp_path_factory: pytest.TempPathFactory,
                                                                  committed: list[str], staged: list[str]):
    import posixpath

    # a name cannot be both a file and a folder: drop what clashes with an earlier name
    kept: list[str] = []
    for name in [*committed, *staged]:
        parents = {posixpath.dirname(name)} - {""}
        if any(k in parents or posixpath.dirname(k) == name for k in kept) or name in kept:
            continue
        kept.append(name)
    committed = [n for n in committed if n in kept]
    staged = [n for n in staged if n in kept and n not in committed]
    if not staged:
        return
    repo = init_repo(tmp_path_factory.mktemp("cases") / "repo")
    # the reference reads `git ls-files` without -z, so git's quoting of a name that is not
    # ASCII hides it from the reference (see the test below); unquoted, it sees every name
    git(repo, "config", "core.quotePath", "false")
    if committed:
        _write(repo, {f"{n}.txt": b"c\n" for n in committed})
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "init")
    _write(repo, {f"{n}.txt": b"s\n" for n in staged})
    git(repo, "add", *(f"{n}.txt" for n in staged))
    paths = [f"{n}.txt" for n in staged]
    ref = run_reference("check-case-conflict", paths, cwd=repo)
    verdicts = run_builtin_checks(paths, ["check-case-conflict"], root=str(repo))
    assert all(v.ok for v in verdicts) == (ref.code == 0)
    assert "".join(line + "\n" for line in hook_output("check-case-conflict", None, verdicts)) == ref.out


def test_a_case_conflict_with_a_tracked_name_that_is_not_ascii_is_found(tmp_path: Path):
    # where we differ on purpose: git quotes such a name in `git ls-files` (core.quotePath,
    # on by default), the reference compares the quoted form and misses the conflict
    repo = init_repo(tmp_path / "repo")
    _write(repo, {"caf\u00e9.txt": b"c\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    _write(repo, {"CAF\u00c9.txt": b"s\n"})
    git(repo, "add", "CAF\u00c9.txt")
    assert run_reference("check-case-conflict", ["CAF\u00c9.txt"], cwd=repo).code == 0  # missed
    verdicts = run_builtin_checks(["CAF\u00c9.txt"], ["check-case-conflict"], root=str(repo))
    assert hook_output("check-case-conflict", None, verdicts) == [
        "Case-insensitivity conflict found: CAF\u00c9.txt", "Case-insensitivity conflict found: caf\u00e9.txt"]
    git(repo, "config", "core.quotePath", "false")  # unquoted, the reference finds it too
    assert run_reference("check-case-conflict", ["CAF\u00c9.txt"], cwd=repo).code == 1


def test_merge_conflict_markers_fail_only_mid_merge_like_the_reference(tmp_path: Path):
    repo = init_repo(tmp_path / "repo")
    _write(repo, {"f.txt": b"base\n", "g.txt": b"<<<<<<< not a conflict\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "other")
    _write(repo, {"f.txt": b"theirs\n"})
    git(repo, "commit", "-qam", "theirs")
    git(repo, "checkout", "-q", "main")
    _write(repo, {"f.txt": b"ours\n"})
    git(repo, "commit", "-qam", "ours")
    paths = ["f.txt", "g.txt"]

    def both() -> tuple[set[str], int, str]:
        ref = run_reference("check-merge-conflict", paths, cwd=repo)
        verdicts = run_builtin_checks(paths, ["check-merge-conflict"], root=str(repo))
        printed = "".join(f.message + "\n" for v in verdicts for f in v.findings)
        assert printed == ref.out
        return _failing(verdicts, "check-merge-conflict"), ref.code, ref.out

    assert both()[:2] == (set(), 0)  # markers, but not mid-merge: nothing checked
    merged = __import__("subprocess").run(["git", "merge", "-q", "other"], cwd=repo, capture_output=True)
    assert merged.returncode != 0  # a conflict
    failing, code, _ = both()
    assert failing == {"f.txt", "g.txt"} and code == 1
    git(repo, "merge", "--abort")
    assert both()[:2] == (set(), 0)


def test_without_worker_processes_the_work_is_done_here(many, monkeypatch):
    import concurrent.futures

    root, paths = many
    expected = run_builtin_checks(paths, list(CHECKS), root=str(root), jobs=1)
    _run.release_pool()

    def no_processes(*args, **kwargs):
        raise OSError("no processes for you")

    monkeypatch.setattr(os, "fork", no_processes)  # forked workers (this thread alone)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_processes)  # or started by multiprocessing
    assert run_builtin_checks(paths, list(CHECKS), root=str(root), jobs=2) == expected
    assert _run._POOL == []


_PARENT = os.getpid()
_REAL_CHUNK = _run._check_chunk


def _dying_chunk(*args):
    if os.getpid() != _PARENT:
        os._exit(3)  # a worker dies as if killed
    return _REAL_CHUNK(*args)


def test_chunks_of_dead_workers_are_redone_here(many, monkeypatch):
    root, paths = many
    expected = run_builtin_checks(paths[:80], ["check-json", "trailing-whitespace"], root=str(root), jobs=1)
    monkeypatch.setattr(_run, "_check_chunk", _dying_chunk)
    assert run_builtin_checks(paths[:80], ["check-json", "trailing-whitespace"], root=str(root), jobs=2) == expected


def test_a_conflict_among_files_the_check_does_not_receive_still_fails(tmp_path: Path):
    repo = init_repo(tmp_path / "repo")
    _write(repo, {"x.txt": b"x\n", "target": b"t\n"})
    os.symlink("target", repo / "L")
    os.symlink("target", repo / "l")
    git(repo, "add", "-A")
    received = ["x.txt", "target"]  # symlinks are not files to pre-commit: never passed
    ref = run_reference("check-case-conflict", received, cwd=repo)
    verdicts = run_builtin_checks([*received, "L", "l"], ["check-case-conflict"], root=str(repo))
    assert ref.code == 1
    assert _failing(verdicts, "check-case-conflict") == {"L", "l"}
    assert {f.message for v in verdicts for f in v.findings} == set(ref.out.splitlines())


def test_an_edit_shows_as_a_unified_diff():
    edit = Edit.make("notes.txt", b"keep\ntrailing   \r\nlast", b"keep\ntrailing\nlast\n")
    diff = edit.diff()
    assert diff.startswith("--- a/notes.txt\n+++ b/notes.txt\n")
    assert "-trailing   \\r\n" in diff and "+trailing\n" in diff
    assert "-last\n\\ No newline at end of file\n" in diff and "+last\n" in diff
    assert Edit.make("b.bin", b"\xff \n", b"\xff\n").diff().count("\\xff") == 2


# --- reading a file once: the start, then the rest -----------------------------------------


@pytest.mark.parametrize("size", [0, 1, 100, _run.HEAD_BYTES - 1, _run.HEAD_BYTES, _run.HEAD_BYTES + 1, 3 * _run.HEAD_BYTES + 7])
@pytest.mark.parametrize("known", [True, False])
def test_a_file_is_read_whole_whatever_its_size(tmp_path: Path, size: int, known: bool) -> None:
    data = bytes(i % 251 for i in range(size))
    (tmp_path / "f").write_bytes(data)
    head = _run._Head(str(tmp_path / "f"), size if known else -1)
    try:
        assert head() == data[: _run.HEAD_BYTES]  # the start classifying asks for
        assert head.whole() == data
        assert head.whole() == data  # asked again: the same bytes, nothing read twice
    finally:
        head.close()
    assert head.fd == -1  # closed once read


@pytest.mark.parametrize("grown", [1, 50, _run.HEAD_BYTES + 3])
def test_a_file_that_grew_since_its_lstat_is_read_to_its_end(tmp_path: Path, grown: int) -> None:
    before = b"x" * 10
    (tmp_path / "f").write_bytes(before + b"y" * grown)  # lstat said 10 bytes
    head = _run._Head(str(tmp_path / "f"), len(before))
    try:
        assert head.whole() == before + b"y" * grown
    finally:
        head.close()


def test_a_file_that_shrank_since_its_lstat_is_read_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"short\n")
    head = _run._Head(str(tmp_path / "f"), 5000)
    assert head.whole() == b"short\n" and head.fd == -1


def test_chunks_cover_the_files_in_order_and_shrink_towards_the_end() -> None:
    for n in (1, 15, 64, 700, 2452, 50_000):
        todo = [f"f{i}" for i in range(n)]
        chunks = _run._chunks(todo, 2)
        assert [p for c in chunks for p in c] == todo
        sizes = [len(c) for c in chunks]
        assert all(16 <= s <= 512 for s in sizes[:-1]) and 0 < sizes[-1] <= 512
        assert sizes == sorted(sizes, reverse=True)[: len(sizes) - 1] + sizes[-1:]  # never grows before the last
        if n >= 2452:
            assert sizes[0] > 4 * sizes[-2]  # large first, small at the end
