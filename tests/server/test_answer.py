"""A served run answers before its process ends: its output is complete and its exit
status and CPU time are on the answer pipe while the process may still be tearing down."""

from __future__ import annotations

import os
import sys

import pytest

from omnibase.server.serve import _give_answer

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the server is Linux-only")


def _read_all(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
    return data


@pytest.mark.parametrize("code, status", [(0, b"0"), (1, b"1"), (130, b"130"), (256 + 3, b"3")])
def test_the_answer_comes_with_the_output_closed_and_the_process_still_there(code: int, status: bytes) -> None:
    out_r, out_w = os.pipe()
    answer_r, answer_w = os.pipe()
    hold_r, hold_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the run: prints, answers, then waits to be let go before it ends
        try:
            os.close(out_r)
            os.close(answer_r)
            os.close(hold_w)
            for std in (0, 1, 2):
                os.dup2(out_w, std)
            os.close(out_w)
            os.write(1, b"the report\n")
            _give_answer(answer_w, code)
            os.read(hold_r, 1)
        finally:
            os._exit(code & 0xFF)
    os.close(out_w)
    os.close(answer_w)
    os.close(hold_r)
    try:
        assert _read_all(out_r) == b"the report\n"  # the end of the output: no more writers
        answer = os.read(answer_r, 256).split()  # one write, below PIPE_BUF: read whole
        assert os.waitpid(pid, os.WNOHANG) == (0, 0)  # answered, and not ended yet
        assert answer[0] == status and all(float(w) >= 0 for w in answer[1:]) and len(answer) == 3
    finally:
        os.close(hold_w)
        _, wait_status = os.waitpid(pid, 0)
        os.close(out_r)
        os.close(answer_r)
    assert str(os.waitstatus_to_exitcode(wait_status)).encode() == status  # the answer is what the exit says
