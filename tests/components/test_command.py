"""The command kind run in this process, by both of its drivers (processes and asyncio):
files passed in batches like xargs, the first failing batch's exit code, the time limit of
the whole command, and the scratch folder of a confined command gone afterwards."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from returns.result import Failure, Success

from omnibase.components import command as cmd
from omnibase.components.command import Command, CommandOutput
from omnibase.core.values import ExecCtx, Failed, Skip, TimedOut
from tests.support import init_repo

RUN: dict[str, Callable[..., Any]] = {
    "processes": lambda c, ctx, **kw: c.run(ctx, None, **kw),
    "asyncio": lambda c, ctx, **kw: asyncio.run(c.arun(ctx, None, **kw)),
}
drivers = pytest.mark.parametrize("drive", list(RUN.values()), ids=list(RUN))

#: prints how many arguments it got and each one, one per line
ECHO = (sys.executable, "-c", "import sys; print(len(sys.argv) - 1); print(*sys.argv[1:], sep='\\n')")


def _ctx(root: Path, files: tuple[str, ...] = ()) -> ExecCtx:
    return ExecCtx(run_id="r", trace_id="0" * 32, root=str(root), files=files)


@drivers
def test_no_file_selected_is_a_skip_and_runs_nothing(tmp_path, drive):
    marker = tmp_path / "ran"
    c = Command(name="c", argv=(sys.executable, "-c", f"open({str(marker)!r}, 'w')"))
    assert drive(c, _ctx(tmp_path)) == Success(Skip(reason="no files to check"))
    assert not marker.exists()


@drivers
def test_every_file_is_passed_once_in_order_across_batches(tmp_path, drive, monkeypatch):
    monkeypatch.setattr(cmd, "MAX_ARGV", 400)  # a few dozen names per command line
    files = tuple(f"dir/file_{i:03}.txt" for i in range(120))
    out = drive(Command(name="c", argv=ECHO), _ctx(tmp_path, files)).unwrap()
    assert isinstance(out, CommandOutput) and out.exit_code == 0 and out.files == 120
    counts, seen, lines = [], [], out.output.splitlines()
    while lines:  # each batch: its count, then its names
        n = int(lines.pop(0))
        counts.append(n)
        seen += lines[:n]
        del lines[:n]
    assert seen == list(files) and len(counts) > 2
    assert all(len(" ".join(ECHO)) + sum(len(f) + 1 for f in seen[:n]) <= 400 for n in counts)


@drivers
def test_the_first_failing_batch_gives_the_exit_code_and_all_output_is_kept(tmp_path, drive, monkeypatch):
    monkeypatch.setattr(cmd, "MAX_ARGV", 300)
    script = "import sys; print('batch', sys.argv[1]); sys.exit(3 if 'b_010' in sys.argv else 5 if 'b_040' in sys.argv else 0)"
    files = tuple(f"b_{i:03}" for i in range(60))
    got = drive(Command(name="c", argv=(sys.executable, "-c", script)), _ctx(tmp_path, files))
    assert isinstance(got, Failure)
    err = got.failure()
    assert isinstance(err, Failed) and err.data["exit_code"] == 3
    assert err.message.count("batch ") > 2 and err.message.startswith("batch b_000")


@drivers
def test_a_timeout_is_the_whole_commands_limit_and_stops_it(tmp_path, drive):
    c = Command(name="c", argv=(sys.executable, "-c", "import time; time.sleep(30)"), always_run=True, timeout=10)
    got = drive(c, _ctx(tmp_path), timeout=0.5)
    assert got == Failure(TimedOut(seconds=0.5))


@drivers
def test_a_confined_command_gets_a_scratch_folder_that_is_gone_afterwards(tmp_path, drive):
    root = init_repo(tmp_path / "repo")
    script = "import os, sys; d = os.environ['TMPDIR']; open(os.path.join(d, 'x'), 'w').write('1'); print(d)"
    c = Command(name="c", argv=(sys.executable, "-c", script), always_run=True, write=("out",))
    out = drive(c, _ctx(root)).unwrap()
    scratch = out.output.strip()
    assert scratch.startswith(str(root / ".git" / "omnibase" / "tmp")) and not os.path.exists(scratch)


@drivers
def test_the_scratch_folder_goes_even_when_running_a_batch_raises(tmp_path, drive, monkeypatch):
    root = init_repo(tmp_path / "repo")
    made: list[str] = []

    def boom(argv: list[str], **kw: Any) -> Any:
        made.append(kw["env"]["TMPDIR"])
        assert os.path.isdir(made[-1])
        raise RuntimeError("spawn failed")

    async def aboom(argv: list[str], **kw: Any) -> Any:
        return boom(argv, **kw)

    monkeypatch.setattr(cmd._proc, "run_command", boom)
    monkeypatch.setattr(cmd._proc, "arun_command", aboom)
    c = Command(name="c", argv=("true",), always_run=True, write=("out",))
    try:
        drive(c, _ctx(root))
    except RuntimeError as exc:  # its traceback keeps the run's frames alive: gone all the same
        assert str(exc) == "spawn failed" and made and not os.path.exists(made[0])
    else:
        pytest.fail("the error was lost")
