"""The CPU time a served run answers counts the processes it started and waited for, as
the plain run's would (the hook's client reports it as the run's cost)."""

from __future__ import annotations

import os
import resource
import sys

import pytest

from omnibase.server.serve import _give_answer

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the server is Linux-only")

BURN = 0.2  # CPU seconds the run's child spends, in user code and in the kernel


def _burn_in_a_child() -> None:
    """A child that spends ``BURN`` s of user and ``BURN`` s of system time; waited for."""
    pid = os.fork()
    if pid == 0:
        try:
            zero = os.open("/dev/zero", os.O_RDONLY)
            while resource.getrusage(resource.RUSAGE_SELF).ru_stime < BURN:
                os.read(zero, 1 << 20)  # the kernel fills the buffer: system time
            while resource.getrusage(resource.RUSAGE_SELF).ru_utime < BURN:
                sum(range(10_000))  # user time
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def test_the_cpu_time_answered_counts_the_children_the_run_waited_for() -> None:
    answer_r, answer_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the run: starts a child, waits for it, answers
        try:
            os.close(answer_r)
            _burn_in_a_child()
            _give_answer(answer_w, 0)
        finally:
            os._exit(0)
    os.close(answer_w)
    try:
        words = os.read(answer_r, 256).split()
    finally:
        os.close(answer_r)
        os.waitpid(pid, 0)
    assert words[0] == b"0" and len(words) == 3
    user, system = float(words[1]), float(words[2])
    assert user >= BURN and system >= BURN
