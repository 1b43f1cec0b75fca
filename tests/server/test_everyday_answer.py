"""A served run answers its client before it writes the last-run record (the commit does not
wait for the file system), and the record is still written, whole: by the served run after
its answer, or at once by the stash's supervised child. ``cli._process.at_end`` in process;
the server and the hook's client in forks of the test, on real repositories."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omnibase.cli import _process
from omnibase.server import client
from tests.server.test_serve import Served
from tests.support import Forks, wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the server is Linux-only")


@pytest.fixture
def answering(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """This process as a served run's (``answer_first``), with nothing left from before."""
    monkeypatch.setattr(_process, "_ANSWERING", [0])
    monkeypatch.setattr(_process, "_AT_END", [])
    _process.answer_first()
    yield []


def test_a_served_run_leaves_the_work_for_after_its_answer_in_order(answering: list[str]) -> None:
    _process.at_end(lambda: answering.append("first"))

    def broken() -> None:
        raise OSError(28, "No space left on device")

    _process.at_end(broken)
    _process.at_end(lambda: answering.append("last"))
    assert answering == []  # nothing yet: the run has not answered
    _process.finish_at_end()  # after the answer there is nobody to tell of an error: the rest is done
    assert answering == ["first", "last"]
    _process.finish_at_end()
    assert answering == ["first", "last"]  # each once


def test_a_process_forked_from_the_served_run_does_its_work_at_once(answering: list[str], forks: Forks) -> None:
    marker = Path(os.environ.get("TMPDIR", "/tmp")) / f"at-end-{os.getpid()}"

    def child() -> int:
        _process.at_end(lambda: marker.write_text("done"))
        return 0 if marker.exists() else 1

    try:
        assert forks(child).wait() == 0
    finally:
        marker.unlink(missing_ok=True)
    assert _process._AT_END == []  # nothing of the child's left in the served run


def test_without_a_served_run_the_work_is_done_at_once_and_its_error_is_the_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_process, "_ANSWERING", [0])
    done: list[str] = []
    _process.at_end(lambda: done.append("now"))
    assert done == ["now"]

    def broken() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        _process.at_end(broken)


def _record(served: Served) -> dict[str, Any] | None:
    path = served.repo.root / ".git" / "omnibase" / "last-run" / "pre-commit.json"
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


@pytest.fixture
def builtins_only(tmp_path: Path, forks: Forks) -> Iterator[Served]:
    """A repository with no registry file (the built-in checks alone: the run happens in
    the served process, no stash fork) and a staged file, its server started."""
    made = Served(tmp_path, forks)
    made.repo.git("rm", "-q", "--cached", "probe.py", "omnibase.yaml")
    (made.repo.root / "probe.py").unlink()
    (made.repo.root / "omnibase.yaml").unlink()
    made.repo.write("a.txt", "a\n")
    made.repo.stage("a.txt")
    made.start()
    yield made
    if made.server is not None and made.server.status is None:
        client.status_request(made.folder, b"STOP")


def test_the_served_run_writes_its_record_after_answering(builtins_only: Served) -> None:
    served = builtins_only
    assert served.hook("one").wait() == 0, served.output("one")
    wait_for(lambda: _record(served) is not None, "the first run's record")
    first = _record(served)
    assert first is not None and first["results"]["end-of-file-fixer"] == "PASS"
    served.repo.write("b.txt", "no newline at the end")
    served.repo.stage("b.txt")
    assert served.hook("two").wait() == 1, served.output("two")
    wait_for(lambda: (_record(served) or {}).get("run_id") != first["run_id"], "the second run's record")
    second = _record(served)
    assert second is not None and second["results"]["end-of-file-fixer"] == "FAIL"
    assert served.stop() == 0


def test_the_stashs_supervised_child_writes_its_record_itself(served_probe: Served) -> None:
    """With a Python component (and an unstaged change), the checks run in a child the
    stash supervises: that child is not the one that answers, and writes the record."""
    served = served_probe
    served.repo.write("probe.py", (served.repo.root / "probe.py").read_text() + "# unstaged\n")
    assert served.hook().wait() == 0, served.output()
    wait_for(lambda: _record(served) is not None, "the run's record")
    found = _record(served)
    assert found is not None and found["results"]["probe"] == "PASS"
    assert (served.repo.root / "probe.py").read_text().endswith("# unstaged\n")  # the unstaged work is back
    assert served.stop() == 0


@pytest.fixture
def served_probe(tmp_path: Path, forks: Forks) -> Iterator[Served]:
    made = Served(tmp_path, forks)
    made.start()
    yield made
    if made.server is not None and made.server.status is None:
        client.status_request(made.folder, b"STOP")
