"""Component kinds: every performer calls a component as the kind table says."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from returns.result import Success

from omnibase.components.builtin import BuiltinCheck, BuiltinUse
from omnibase.components.command import Command
from omnibase.components.files import FileSelection
from omnibase.components.python import Selecting
from omnibase.core.combinators import timeout
from omnibase.core.intents import Called, Invoke
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, Meta, Misconfigured, Status, TimedOut
from omnibase.drivers import FakeDriver, SyncDriver, arun, run
from omnibase.drivers.aio import AsyncDriver
from omnibase.drivers.kinds import KINDS, PythonKind, kind_of, register
from omnibase.testing import fake_ctx


def _plain(ctx: ExecCtx, x: int) -> Success[int]:
    return Success(x)


async def _coroutine(ctx: ExecCtx, x: int) -> Success[int]:
    return Success(x)


def test_each_function_has_its_kind() -> None:
    def kind(fn: Any) -> str:
        return kind_of(Component(fn, Meta(name="c"))).name

    assert kind(_plain) == "python"
    assert kind(_coroutine) == "coroutine"
    assert kind(Command(name="c", argv=("true",))) == "command"
    assert kind(BuiltinCheck(BuiltinUse(name="c", check="check-ast"))) == "builtin"
    assert kind(Selecting(_plain, FileSelection(files=r"\.py$"), "c")) == "python"


class Scaled(msgspec.Struct, frozen=True):
    """A function value of a kind of our own: its kind multiplies, never calls it."""

    by: int

    def __call__(self, ctx: ExecCtx, x: int) -> object:
        raise AssertionError("the kind calls it, not the performer")


class ScaledKind(PythonKind):
    name: str = "scaled"

    def call(self, intent: Invoke) -> Called:
        fn = intent.component.fn
        assert isinstance(fn, Scaled)
        return Called(Success(intent.value * fn.by), None, 0, 0)


@pytest.fixture
def scaled() -> Iterator[None]:
    register(Scaled, ScaledKind())
    yield
    del KINDS[Scaled]


def test_a_registered_kind_is_how_every_performer_calls_it(scaled: None) -> None:
    comp: Component[int, int] = Component(Scaled(3), Meta(name="triple"))
    assert run(comp >> comp, 2, fake_ctx(), SyncDriver()).output == 18
    assert run(comp, 2, fake_ctx(), FakeDriver()).output == 6
    performer = AsyncDriver(threads=2)
    try:
        assert asyncio.run(arun(comp, 2, fake_ctx(), performer)).output == 6
    finally:
        performer.close()


def test_an_async_component_is_refused_by_a_synchronous_performer() -> None:
    comp: Component[int, int] = Component(_coroutine, Meta(name="later"))
    for performer in (SyncDriver(), FakeDriver()):
        report = run(comp, 1, fake_ctx(), performer)
        assert report.exit_code == 2 and isinstance(report.steps[0].error, Misconfigured)


def _sleeper(tmp_path: Path) -> Component[Any, Any]:
    """A command that notes its pid, then sleeps 30 s."""
    script = tmp_path / "nap.sh"
    script.write_text('#!/bin/sh\necho $$ > "$1"\nexec sleep 30\n')
    script.chmod(0o755)
    command = Command(name="nap", argv=(str(script), str(tmp_path / "pid")), always_run=True, pass_filenames=False)
    return Component(command, Meta(name="nap"))


def _gone(pid_file: Path) -> bool:
    pid = int(pid_file.read_text())
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_a_command_is_stopped_at_its_limit_even_inline(tmp_path: Path) -> None:
    """The inline performer cannot stop a Python call (its thread is abandoned); a
    command's kind stops it, with its process tree."""
    ctx = fake_ctx(root=str(tmp_path))
    started = time.monotonic()
    report = run(timeout(_sleeper(tmp_path), 0.5), None, ctx, SyncDriver())
    assert time.monotonic() - started < 10
    assert report.steps[0].status is Status.FAIL and report.steps[0].error == TimedOut(seconds=0.5)
    assert _gone(tmp_path / "pid")


def test_a_command_is_stopped_at_its_limit_under_asyncio(tmp_path: Path) -> None:
    ctx = fake_ctx(root=str(tmp_path))
    performer = AsyncDriver(threads=2)
    try:
        report = asyncio.run(arun(timeout(_sleeper(tmp_path), 0.5), None, ctx, performer))
    finally:
        performer.close()
    assert report.steps[0].error == TimedOut(seconds=0.5)
    assert _gone(tmp_path / "pid")
