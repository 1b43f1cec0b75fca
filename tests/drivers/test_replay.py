"""Failure snapshots and replay: recorded answers reused, failed steps run again, typed values."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Literal

import msgspec
import pytest
from hypothesis import assume, example, given, settings
from returns.result import Failure, Result, Success

from omnibase.core.combinators import all_of, breaker, profile, retry, timeout
from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.step import Component, Shape, component
from omnibase.core.types import checker
from omnibase.core.values import ExecCtx, Failed, Meta, Status
from omnibase.drivers import FakeDriver, SyncDriver, run
from omnibase.drivers.replay import Recorder, ReplayPerformer, replay, replay_context, snapshot_of
from omnibase.core.shape import rebuild, shape_of
from omnibase.core.step import leaves
from omnibase.snapshots import (
    KEEP,
    Snapshot,
    encode,
    SNAPSHOT_SCHEMA,
    list_snapshots,
    read_snapshot,
    snapshot_dir,
    write_snapshot,
)
from omnibase.testing import fake_ctx
from omnibase.testing.strategies import Act, Behaviour, build, pipelines


class Point(msgspec.Struct, frozen=True):
    x: int
    y: int


class World:
    """Components whose calls are counted, and one that fails until told otherwise."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.broken = True
        world = self

        @component
        def locate(ctx: ExecCtx, name: str) -> Result[Point, str]:
            world.calls.append("locate")
            return Success(Point(x=len(name), y=2))

        @component
        def check(ctx: ExecCtx, p: Point) -> Result[int, Failed]:
            world.calls.append(f"check {type(p).__name__}")
            return Failure(Failed(message="down")) if world.broken else Success(p.x + p.y)

        @component
        def report(ctx: ExecCtx, n: int) -> Result[str, str]:
            world.calls.append("report")
            return Success(f"n={n}")

        self.locate, self.check, self.report = locate, check, report
        self.pipeline = locate >> check >> report


def _failed_run(tmp_path: Path) -> tuple[World, str]:
    w = World()
    rec = Recorder(SyncDriver())
    first = run(w.pipeline, "abc", fake_ctx(), rec)
    assert first.exit_code == 1
    written = write_snapshot(snapshot_of(w.pipeline, "abc", fake_ctx(), first, rec), str(tmp_path / "snaps"))
    return w, written.unwrap()


def test_replay_reuses_recorded_answers_decoded_to_their_type_and_reruns_the_failed(tmp_path: Path) -> None:
    w, path = _failed_run(tmp_path)
    snap = read_snapshot(path).unwrap()
    w.broken, w.calls[:] = False, []
    again = replay(snap, [w.locate, w.check, w.report], source=path)
    assert w.calls == ["check Point", "report"]  # locate reused, its value a Point again
    assert again.output == "n=5" and again.exit_code == 0
    assert again.metadata["replayed"] == "locate" and again.metadata["replayed_from"] == path
    assert again.run_id != snap.report.run_id


def test_replay_of_a_step_still_failing_fails_the_same_way(tmp_path: Path) -> None:
    w, path = _failed_run(tmp_path)
    again = replay(read_snapshot(path).unwrap(), [w.locate, w.check, w.report])
    assert [s.status for s in again.steps] == [Status.PASS, Status.FAIL, Status.SKIP]


def test_a_changed_input_is_not_answered_from_the_snapshot(tmp_path: Path) -> None:
    w, path = _failed_run(tmp_path)
    performer = ReplayPerformer(SyncDriver(), read_snapshot(path).unwrap())
    w.calls[:] = []
    run(w.pipeline, "other", fake_ctx(), performer)
    assert w.calls[0] == "locate" and performer.replayed == []


def test_replay_needs_every_component_it_names(tmp_path: Path) -> None:
    w, path = _failed_run(tmp_path)
    again = replay(read_snapshot(path).unwrap(), [w.locate, w.check])
    assert again.exit_code == 3 and "report" in again.error.message  # type: ignore[union-attr]


def test_the_structure_round_trips_with_its_policies() -> None:
    w = World()
    step = all_of(
        [profile(breaker(retry(w.locate, RetryPolicy(max_attempts=4, initial=0.5)), BreakerPolicy(threshold=2), key="k")),
         timeout(w.check, 3.0) >> w.report],
        fail_fast=True, name="stage",
    )  # fmt: skip
    shape = shape_of(step)
    rebuilt = rebuild(shape, {c.name: c for c in (w.locate, w.check, w.report)}).unwrap()
    assert shape_of(rebuilt) == shape
    assert msgspec.json.decode(msgspec.json.encode(shape), type=type(shape)) == shape


def test_recorded_retries_and_skips_are_kept_in_order() -> None:
    from omnibase.core.values import Skip

    @component(idempotent=True)
    def flaky(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        return Failure(Failed(message="down", transient=True))

    @component
    def nothing(ctx: ExecCtx, x: int) -> Result[Skip, str]:
        return Success(Skip(reason="no files"))

    rec = Recorder(FakeDriver())
    report = run(all_of([retry(flaky, RetryPolicy(max_attempts=2)), nothing]), 1, fake_ctx(), rec)
    snap = snapshot_of(all_of([flaky, nothing]), 1, fake_ctx(), report, rec)
    assert [(c.name, c.attempt, c.ok, c.skip) for c in snap.calls] == [
        ("flaky", 1, False, None), ("flaky", 2, False, None), ("nothing", 1, True, "no files"),
    ]  # fmt: skip
    fresh = run(nothing, 1, fake_ctx(), ReplayPerformer(FakeDriver(), snap))
    assert fresh.steps[0].status is Status.SKIP and fresh.steps[0].reason == "no files"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty file"),
        (b'{"schema_version": 1, "created_at": 1.0, "ctx": {"run_id"', "truncated or corrupt"),
        (b"\x00\xff garbage", "truncated or corrupt"),
        (b'{"schema_version": 1, "created_at": "yesterday"}', "not a valid snapshot"),
        (json.dumps({"schema_version": SNAPSHOT_SCHEMA + 1}).encode(), "newer than this omnibase reads"),
    ],
)
def test_unreadable_snapshots_are_one_line_errors(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    error = read_snapshot(str(path)).failure()
    assert says in error.message and str(path) in error.message and "\n" not in error.message


def test_a_truncated_real_snapshot_is_refused(tmp_path: Path) -> None:
    _, path = _failed_run(tmp_path)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])
    assert "truncated" in read_snapshot(path).failure().message


def test_only_the_newest_snapshots_are_kept(tmp_path: Path) -> None:
    w, _ = _failed_run(tmp_path)
    rec = Recorder(SyncDriver())
    folder = str(tmp_path / "many")
    for i in range(KEEP + 3):
        ctx = fake_ctx(run_id=f"{i:016x}")
        report = run(w.pipeline, "abc", ctx, rec)
        snap = msgspec.structs.replace(snapshot_of(w.pipeline, "abc", ctx, report, rec), created_at=1_700_000_000.0 + i)
        write_snapshot(snap, folder).unwrap()
    kept = list_snapshots(folder)
    assert len(kept) == KEEP
    assert kept[0].endswith(f"-{3:016x}.json") and kept[-1].endswith(f"-{KEEP + 2:016x}.json")


def test_snapshot_folder_is_inside_the_git_directory(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    git = ["git", "-c", "user.email=t@e.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path / "repo", check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], cwd=tmp_path / "repo", check=True)
    assert snapshot_dir(str(tmp_path / "repo")) == str(tmp_path / "repo" / ".git" / "omnibase" / "snapshots")
    linked = tmp_path / "wt"
    subprocess.run([*git, "worktree", "add", "-q", str(linked)], cwd=tmp_path / "repo", check=True)
    assert snapshot_dir(str(linked)) == str(tmp_path / "repo" / ".git" / "worktrees" / "wt" / "omnibase" / "snapshots")
    plain = tmp_path / "plain"
    plain.mkdir()
    assert snapshot_dir(str(plain)) == str(plain / ".omnibase" / "snapshots")


def test_no_snapshot_is_written_through_a_symlink(tmp_path: Path) -> None:
    w, _ = _failed_run(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    os.symlink(elsewhere, repo / ".git" / "omnibase")
    rec = Recorder(SyncDriver())
    report = run(w.pipeline, "abc", fake_ctx(), rec)
    error = write_snapshot(snapshot_of(w.pipeline, "abc", fake_ctx(), report, rec), snapshot_dir(str(repo)))
    assert "symbolic link" in error.failure().message
    assert list(elsewhere.iterdir()) == []


def test_a_snapshot_is_scrubbed_before_it_is_written(tmp_path: Path) -> None:
    @component
    def leak(ctx: ExecCtx, x: str) -> Result[str, Failed]:
        return Failure(Failed(message=f"token {x} refused"))

    rec = Recorder(SyncDriver())
    report = run(leak, "s3cr3t-value", fake_ctx(), rec)
    snap = snapshot_of(leak, "s3cr3t-value", fake_ctx(), report, rec)
    path = write_snapshot(snap, str(tmp_path), scrub=lambda text: text.replace("s3cr3t-value", "[redacted]")).unwrap()
    text = Path(path).read_text()
    assert "s3cr3t-value" not in text and "token [redacted] refused" in text
    assert read_snapshot(path).unwrap().input == "[redacted]"


def test_a_value_json_cannot_hold_is_not_reused() -> None:
    class Opaque:
        pass

    calls: list[str] = []

    @component
    def make(ctx: ExecCtx, x: int) -> Result[object, str]:
        calls.append("make")
        return Success(Opaque())

    rec = Recorder(SyncDriver())
    report = run(make, 1, fake_ctx(), rec)
    snap = snapshot_of(make, 1, fake_ctx(), report, rec)
    assert [c.ok for c in snap.calls] == [False]
    replay(snap, [make])
    assert calls == ["make", "make"]


def _has_recover(spec: object) -> bool:
    if isinstance(spec, tuple):
        return spec[:1] == ("recover",) or any(_has_recover(part) for part in spec)
    if isinstance(spec, list):
        return any(_has_recover(part) for part in spec)
    return False


#: Found by hypothesis: the shape left out the identity inside the fallback's first step
#: but kept the fallback's name, so the rebuilt fallback was named ``a``.
_FALLBACK_AROUND_AN_IDENTITY = (
    Shape(kind="fallback", name=""),
    (Shape(kind="then", name=""), ("leaf", Behaviour("a", (Act("ok", 0),))), (Shape(kind="identity", name=""),)),
    (Shape(kind="identity", name=""),),
)


@settings(max_examples=100, deadline=None)
@given(pipelines())
@example(_FALLBACK_AROUND_AN_IDENTITY)
def test_any_pipeline_without_code_in_it_round_trips_through_a_snapshot(spec: object) -> None:
    assume(not _has_recover(spec))
    step = build(spec)  # type: ignore[arg-type]
    rec = Recorder(FakeDriver())
    report = run(step, 0, fake_ctx(), rec)
    snap = snapshot_of(step, 0, fake_ctx(), report, rec)
    back = msgspec.json.decode(encode(snap), type=Snapshot)
    assert back.pipeline == snap.pipeline and encode(back.report) == encode(report)  # Any values: as JSON
    comps = {c.name: c for c in leaves(step)}
    assert shape_of(rebuild(back.pipeline, comps).unwrap()) == snap.pipeline


# --- a recorded answer is reused only while it fits the declared output type ----------------


def _declaring(out_type: object, answer: object, calls: list[object]) -> Component[int, Any]:
    """A component named ``make`` that declares ``out_type`` and answers ``answer``."""

    def make(ctx: ExecCtx, x: int) -> Result[Any, str]:
        calls.append(answer)
        return Success(answer)

    return Component(make, Meta(name="make"), checker(out_type), in_type=int, out_type=out_type)


def _recorded(answer: object) -> Snapshot:
    rec = Recorder(SyncDriver())
    comp = _declaring(object, answer, [])
    report = run(comp, 1, fake_ctx(), rec)
    return snapshot_of(comp, 1, fake_ctx(), report, rec)


@pytest.mark.parametrize(
    ("recorded", "declared", "fresh"),
    [
        ("5", int, 5),  # a str is no int, though it reads as one
        (1, bool, True),  # an int is no bool
        (2.5, int, 2),
        ({"x": "1", "y": 2}, Point, Point(x=1, y=2)),  # a field of the wrong type
        ([1, "a"], tuple[int, ...], (1, 2)),
        ("lint", Literal["fmt", "test"], "fmt"),
    ],
)
def test_a_recorded_answer_whose_type_no_longer_fits_is_run_again(recorded: object, declared: object, fresh: object) -> None:
    snap = msgspec.json.decode(encode(_recorded(recorded)), type=Snapshot)  # as read from its file
    calls: list[object] = []
    again = replay(snap, [_declaring(declared, fresh, calls)])
    assert calls == [fresh] and again.output == fresh and again.exit_code == 0
    assert again.metadata["replayed"] == ""


@pytest.mark.parametrize(
    ("recorded", "declared", "decoded"),
    [
        ([1, 2], tuple[int, ...], (1, 2)),
        ({"x": 1, "y": 2}, Point, Point(x=1, y=2)),
        (3, float, 3.0),  # JSON writes 3.0 as 3: an int read as a float is the same number
        ("fmt", Literal["fmt", "test"], "fmt"),
    ],
)
def test_a_recorded_answer_that_still_fits_is_reused_as_its_type(recorded: object, declared: object, decoded: object) -> None:
    snap = msgspec.json.decode(encode(_recorded(recorded)), type=Snapshot)
    calls: list[object] = []
    again = replay(snap, [_declaring(declared, "never", calls)])
    assert calls == [] and again.output == decoded and type(again.output) is type(decoded)
    assert again.metadata["replayed"] == "make"


# --- a snapshot's paths are checked against the repository a replay runs in -----------------


def _snapshot_with(ctx: ExecCtx) -> Snapshot:
    snap = _recorded(1)
    return msgspec.structs.replace(snap, ctx=ctx)


def test_a_replay_context_is_rooted_in_the_current_repository(tmp_path: Path) -> None:
    root, git = tmp_path / "repo", tmp_path / "repo" / ".git"
    (root / "src").mkdir(parents=True)
    git.mkdir()
    recorded = fake_ctx(root="/elsewhere/repo", files=("src/a.py", "b.txt"), params=frozenset({("git_dir", "/elsewhere/repo/.git"), ("cache", "on")}))
    # the recorded git_dir is not this repository's: refused, even though the files are fine
    refused = replay_context(_snapshot_with(recorded), str(root), str(git))
    assert "git_dir /elsewhere/repo/.git is not this repository's git directory" in refused.failure()
    same = fake_ctx(root="/elsewhere/repo", files=("src/a.py",), params=frozenset({("git_dir", str(git)), ("cache", "on")}))
    ctx = replay_context(_snapshot_with(same), str(root), str(git)).unwrap()
    assert ctx.root == str(root) and ctx.files == ("src/a.py",) and dict(ctx.params) == {"git_dir": str(git), "cache": "on"}
    relative = fake_ctx(files=("b.txt",), params=frozenset({("git_dir", ".git")}))
    assert dict(replay_context(_snapshot_with(relative), str(root), str(git)).unwrap().params)["git_dir"] == str(git)


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.txt", "src/../../outside.txt", "link/x.txt", "added-only"])
def test_a_snapshot_file_outside_the_repository_is_refused(tmp_path: Path, path: str) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", root / "link")
    if path == "added-only":  # a name in the "added" parameter counts as much as a file
        ctx = fake_ctx(files=("ok.txt",), params=frozenset({("added", "ok.txt\0../x")}))
    else:
        ctx = fake_ctx(files=("ok.txt", path))
    error = replay_context(_snapshot_with(ctx), str(root), None).failure()
    assert error.startswith("the snapshot's file ") and "\n" not in error
