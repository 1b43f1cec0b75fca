"""``omnibase._io.atomic.write_atomic``: the one writer of whole files."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from omnibase._io.atomic import write_atomic


def test_a_new_file_gets_the_mode_asked_for(tmp_path: pathlib.Path) -> None:
    write_atomic(str(tmp_path / "p"), b"x", mode=0o600)
    assert (tmp_path / "p").read_bytes() == b"x"
    assert os.stat(tmp_path / "p").st_mode & 0o777 == 0o600


def test_a_replaced_file_keeps_its_mode(tmp_path: pathlib.Path) -> None:
    (tmp_path / "f").write_bytes(b"old")
    os.chmod(tmp_path / "f", 0o640)
    write_atomic(str(tmp_path / "f"), b"new", durable=False)
    assert (tmp_path / "f").read_bytes() == b"new"
    assert os.stat(tmp_path / "f").st_mode & 0o777 == 0o640


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE and SIGXFSZ as on Linux")
@pytest.mark.parametrize("durable", [True, False])
def test_a_write_that_fails_leaves_the_old_file_and_no_temporary_file(tmp_path: pathlib.Path, durable: bool) -> None:
    """A file-size limit makes the write fail half way (EFBIG, as a full disk gives ENOSPC):
    the old content stays and nothing of the attempt is left in the folder."""
    (tmp_path / "f").write_bytes(b"old")
    code = (
        "import resource, signal, sys\n"
        "from omnibase._io.atomic import write_atomic\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        f"    write_atomic(sys.argv[1], b'x' * 100000, durable={durable})\n"
        "except OSError as exc:\n"
        "    print(exc.errno)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "f")], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "27"  # EFBIG
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    assert (tmp_path / "f").read_bytes() == b"old"
