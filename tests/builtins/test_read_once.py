"""A large file whose start nobody asked for (its name decided its tags) is read in one
piece: one read of all of it and one that finds its end, no start read first and joined
to the rest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from omnibase.builtins import _run


def _reads(monkeypatch: pytest.MonkeyPatch, calls: list[int]) -> None:
    real = os.read

    def counted(fd: int, n: int) -> bytes:
        got = real(fd, n)
        calls.append(len(got))
        return got

    monkeypatch.setattr(_run.os, "read", counted)


def test_a_large_file_whose_start_nobody_asked_for_is_read_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytes(i % 251 for i in range(3 * _run.HEAD_BYTES + 7))
    (tmp_path / "f").write_bytes(data)
    calls: list[int] = []
    _reads(monkeypatch, calls)
    head = _run._Head(str(tmp_path / "f"), len(data))
    assert head.whole() == data and head.fd == -1
    assert calls == [len(data), 0]  # all of it, then the end of the file
    assert head() == data  # the start asked later: the same bytes, nothing read again
    assert len(calls) == 2


def test_a_large_file_that_grew_or_shrank_is_read_as_it_is_now(tmp_path: Path) -> None:
    size = 2 * _run.HEAD_BYTES
    for now in (size - 3, size + 1, size + 5 * _run.HEAD_BYTES):
        data = bytes(i % 253 for i in range(now))
        (tmp_path / "f").write_bytes(data)
        head = _run._Head(str(tmp_path / "f"), size)  # lstat said ``size``
        assert head.whole() == data and head.fd == -1
