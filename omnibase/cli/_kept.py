"""A failed step's whole output, kept beside the run when the human view cuts it.

The human view shows the head and the tail of a failure's message (``formats.human.cut_lines``);
the machine formats carry all of it (up to ``omnibase.core.redact.MAX_TEXT``). So that a
person reading the terminal can still see the lines left out, each cut output is written
to ``outputs/<run id>/<step>.txt`` in the state folder (``omnibase._io.state.outputs_dir``),
redacted as every rendering is, and the report's metadata names the file
(``formats.human.OUTPUT_FILE`` + the step's name), which the human view prints. Only the last
``KEEP_OUTPUTS`` runs' folders are kept. A run that changes nothing (dry-run) writes none.
"""

from __future__ import annotations

import os

import msgspec
from returns.result import Failure

from omnibase.core.values import RunReport

__all__ = ["keep_cut_outputs"]


def _cut(text: str) -> bool:
    from omnibase.cli.formats.human import cut_lines

    return cut_lines(text.splitlines(), 0)[1] > 0


def keep_cut_outputs(report: RunReport, root: str, cwd: str) -> RunReport:
    """``report`` naming, in its metadata, the file of each failed step's whole output the
    human view would cut (written now); the same report when none is cut or nothing can be
    written (the machine formats still carry the output)."""
    from omnibase._io.atomic import write_atomic
    from omnibase._io.state import KEEP_OUTPUTS, make_state_dir, outputs_dir, safe_name, state_dir_of
    from omnibase.cli.formats.human import OUTPUT_FILE
    from omnibase.cli.formatters import clean

    cut = [s for s in report.steps if s.error is not None and _cut(str(getattr(s.error, "message", "") or ""))]
    if not cut:
        return report
    state = state_dir_of(root)
    folder = make_state_dir(outputs_dir(state, safe_name(report.run_id)), mode=0o700)
    if isinstance(folder, Failure):
        return report
    saved: dict[str, str] = {}
    for step in cut:
        path = os.path.join(folder.unwrap(), safe_name(step.name) + ".txt")
        text = clean(str(getattr(step.error, "message", "")))
        try:
            write_atomic(path, (text if text.endswith("\n") else text + "\n").encode("utf-8"), durable=False)
        except OSError:
            continue
        shown = os.path.relpath(path, cwd)
        saved[OUTPUT_FILE + step.name] = path if shown.startswith("..") else shown
    _prune(outputs_dir(state), KEEP_OUTPUTS)
    return msgspec.structs.replace(report, metadata={**report.metadata, **saved}) if saved else report


def _prune(folder: str, keep: int) -> None:
    """Remove all but the ``keep`` most recently written run folders in ``folder``."""
    try:
        runs = sorted(os.scandir(folder), key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns, reverse=True)
    except OSError:
        return
    if len(runs) <= keep:
        return
    import shutil  # (with zlib, bz2 and lzma) only when there is a folder to remove

    for old in runs[keep:]:
        if old.is_dir(follow_symlinks=False):
            shutil.rmtree(old.path, ignore_errors=True)
