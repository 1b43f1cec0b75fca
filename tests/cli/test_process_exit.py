"""How the program leaves once its report is out (``omnibase.cli._process``).

As the program, a command leaves with ``os._exit`` after doing what the interpreter's exit
does that anyone can see: what was written to stdout arrives, the ``atexit`` hooks run
(a coverage tool saves its data there), the ``threading`` exit hooks run first
(``concurrent.futures`` joins its pools' threads there), and the exit code is the command's.
The one-by-one freeing of every object is skipped, except under a profiler (which writes
its data once the program returns). Each case is a program of its own: leaving ends it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


PROGRAM = """
import argparse, atexit, os, sys, threading

log = sys.argv[1]

def note(what):
    with open(log, "a") as f:
        f.write(what + "\\n")

class Freed:
    def __del__(self):
        note("freed")

kept = Freed()  # freed only by the interpreter's teardown
atexit.register(note, "atexit")
if "profiled" in sys.argv:
    sys.setprofile(lambda *a: None)
if "hooks" in sys.argv:  # what concurrent.futures registers to join its pools' threads
    threading._register_atexit(note, "threading")
if "daemon" in sys.argv:  # a daemon thread still running does not hold the exit
    threading.Thread(target=threading.Event().wait, daemon=True).start()

from omnibase.cli._process import answer_first, supervised

if "served" in sys.argv:  # the command server's run: it answers its client after the command
    answer_first()

def run(args):
    sys.stdout.write("the report, not flushed")
    return 3

code = supervised(argparse.Namespace(), run, as_program=True)
note("returned")
sys.exit(code)
"""


def _leave(tmp_path: Path, *how: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tmp_path / "log"
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(log), *how], capture_output=True, text=True, timeout=60, check=False
    )
    return done, log.read_text().splitlines() if log.exists() else []


def test_the_program_leaves_with_its_code_its_output_and_its_exit_hooks_but_no_teardown(tmp_path):
    done, log = _leave(tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (3, "the report, not flushed", "")
    assert log == ["atexit"]  # not returned, not freed one by one


def test_the_threading_exit_hooks_run_first_as_in_the_interpreters_exit(tmp_path):
    done, log = _leave(tmp_path, "hooks", "daemon")
    assert done.returncode == 3 and done.stdout == "the report, not flushed"
    assert log == ["threading", "atexit"]


def test_under_a_profiler_the_ordinary_exit_stays(tmp_path):
    done, log = _leave(tmp_path, "profiled")
    assert done.returncode == 3 and done.stdout == "the report, not flushed"
    assert log[:2] == ["returned", "atexit"]  # supervised returns: the interpreter's own exit


def test_a_served_run_returns_so_that_the_server_can_answer_its_client(tmp_path):
    done, log = _leave(tmp_path, "served")
    assert done.returncode == 3 and done.stdout == "the report, not flushed"
    assert log[:2] == ["returned", "atexit"]


def test_who_may_leave_without_the_teardown(monkeypatch):
    from omnibase.cli import _process

    assert _process._may_skip_teardown()
    monkeypatch.setattr(_process, "_ANSWERING", [os.getpid()])  # a served run
    assert not _process._may_skip_teardown()
    monkeypatch.setattr(_process, "_ANSWERING", [os.getpid() + 1])  # forked from a served run
    assert _process._may_skip_teardown()
    previous = sys.getprofile()
    sys.setprofile(lambda *a: None)
    try:
        profiled = _process._may_skip_teardown()
    finally:
        sys.setprofile(previous)
    assert previous is not None or not profiled
