"""``omnibase report show PATH --graph FORMAT``: a stored json report, or a failure
snapshot, drawn as a graph with each node's status and duration (``core.visual``)."""

from __future__ import annotations

import msgspec

from omnibase.core.values import RunReport

__all__ = ["show"]


def show(path: str, fmt: str) -> tuple[int, str]:
    """(0, the picture) or (2, one line naming the file and what is wrong with it)."""
    from omnibase.core import visual

    if not path:
        return 2, "report show: say which report (a json report or a snapshot file)"
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return 2, f"{path}: cannot read ({exc.strerror or exc})"
    try:
        raw = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        return 2, f"{path}: not JSON ({str(exc).splitlines()[0] if str(exc) else 'undecodable'})"
    except RecursionError:
        return 2, f"{path}: not a report (its values are nested too deeply)"
    if not isinstance(raw, dict):
        return 2, f"{path}: not a report (a JSON object is expected)"
    if "pipeline" in raw and "report" in raw:
        from returns.result import Failure

        from omnibase.snapshots import read_snapshot

        read = read_snapshot(path)
        if isinstance(read, Failure):
            return 2, str(read.failure().message)
        snap = read.unwrap()
        report = snap.report
        nodes = visual.picture_of(snap.pipeline)
    else:
        try:
            report = msgspec.json.decode(data, type=RunReport)
        except msgspec.ValidationError as exc:
            return 2, f"{path}: not a json report ({str(exc).splitlines()[0]})"
        nodes = visual.report_graph(report)
    title = f"{report.stage} ({report.outcome}, exit {report.exit_code}, {report.duration_s:.2f}s)"
    return 0, visual.render(fmt, nodes, visual.marks_of(report), title=title)
