"""The CLI's instrumented run: output files that cannot be written are one line, never a crash."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from omnibase.cli._observe import _write, check_outputs
from omnibase.core.values import RunReport, Status, Summary


def _args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {"profile_out": None, "metrics_out": None, "log_file": None}
    base.update(kw)
    return argparse.Namespace(**base)


def test_outputs_are_checked_before_the_run(tmp_path: Path) -> None:
    assert check_outputs(_args(metrics_out=str(tmp_path / "m.prom"))) is None
    assert "is a directory" in str(check_outputs(_args(profile_out=str(tmp_path))))
    (tmp_path / "file").write_text("")
    assert "no such directory" in str(check_outputs(_args(log_file=str(tmp_path / "file" / "x.log"))))
    (tmp_path / "link").symlink_to(tmp_path / "m.prom")
    assert "symbolic link" in str(check_outputs(_args(log_file=str(tmp_path / "link"))))
    assert not (tmp_path / "m.prom").exists()


def test_a_failed_write_is_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    report = RunReport(steps=(), summary=Summary(status=Status.PASS), exit_code=0, run_id="r", trace_id="t")

    def broken(path: str, r: RunReport) -> None:
        raise PermissionError(13, "Permission denied")

    _write("--metrics-out", "/x/m.prom", broken, report)
    assert capsys.readouterr().err == "omnibase: --metrics-out /x/m.prom: cannot write (Permission denied)\n"
