"""What a served run does after its answer (``serve._after_answer``): its standard streams
were closed with the answer, so they are put on /dev/null first; then the work it left
(``cli._process.at_end``: the last-run record) is done. Whatever that work says goes
nowhere, never into a file it opened (which would otherwise take a stream's number)."""

from __future__ import annotations

import os
from pathlib import Path

from omnibase.cli import _process
from omnibase.server import serve


def _left_work(record: Path, said: list[int]) -> None:
    def work() -> None:
        with open(record, "w") as out:  # the record the left-over work writes
            said.append(out.fileno())
            for fd in (0, 1, 2):
                try:
                    os.write(fd, b"NOISE\n")  # a warning, a stray print
                except OSError:
                    pass
            out.write("record\n")

    _process._AT_END.append(work)


def test_the_left_work_writes_its_file_and_nothing_it_says_lands_in_it(forks, tmp_path):
    record = tmp_path / "last-run"
    fds = tmp_path / "fds"

    def child() -> int:
        for fd in (0, 1, 2):
            os.close(fd)  # the run's streams went with its answer
        said: list[int] = []
        _left_work(record, said)
        serve._after_answer()
        fds.write_text(" ".join(map(str, said)) + "|" + " ".join(os.readlink(f"/proc/self/fd/{fd}") for fd in (0, 1, 2)))
        return 0 if not _process._AT_END else 3

    assert forks(child).wait() == 0
    assert record.read_text() == "record\n"
    opened, streams = fds.read_text().split("|")
    assert int(opened) > 2  # the record's file took none of the streams' numbers
    assert streams.split() == [os.devnull] * 3
    assert not (tmp_path / "fds").read_text().count("NOISE")


def test_every_piece_of_left_work_is_done_in_order_even_after_one_fails(forks, tmp_path):
    done = tmp_path / "done"

    def child() -> int:
        for fd in (0, 1, 2):
            os.close(fd)
        _process._AT_END.extend([
            lambda: done.open("a").write("1"),
            lambda: 1 / 0,  # nobody is left to tell: the rest is still done
            lambda: done.open("a").write("2"),
        ])
        serve._after_answer()
        return 0

    assert forks(child).wait() == 0
    assert done.read_text() == "12"


def test_streams_already_open_stay_usable_as_dev_null(forks, tmp_path):
    record = tmp_path / "last-run"
    out = tmp_path / "out"

    def child() -> int:  # the streams are still open (on a file) when the answer is done
        os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT, 0o600), 1)
        said: list[int] = []
        _left_work(record, said)
        serve._after_answer()
        return 0 if os.readlink("/proc/self/fd/1") == os.devnull else 4

    assert forks(child).wait() == 0
    assert record.read_text() == "record\n" and "NOISE" not in out.read_text()


def test_only_stderr_closed_still_keeps_the_noise_out_of_the_file(forks, tmp_path):
    record = tmp_path / "last-run"

    def child() -> int:  # stdin and stdout still open, stderr gone with the answer
        os.close(2)
        said: list[int] = []
        _left_work(record, said)
        serve._after_answer()
        return 0 if said and said[0] > 2 and os.readlink("/proc/self/fd/2") == os.devnull else 5

    assert forks(child).wait() == 0
    assert record.read_text() == "record\n"


def test_it_leaves_no_descriptor_of_its_own_open(forks, tmp_path):
    def child() -> int:
        os.closerange(3, 65_536)  # /dev/null then takes the number just above the streams
        before = set(os.listdir("/proc/self/fd"))
        serve._after_answer()
        after = set(os.listdir("/proc/self/fd"))
        return 0 if after == before else 6

    assert forks(child).wait() == 0
