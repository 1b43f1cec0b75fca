"""The everyday commit's client start-up: what the hook script runs must not pay on every
commit for work that one commit could do for all the next ones."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from omnibase.precommit._install import hook_script
from omnibase.server import client

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the server is Linux-only")


def _start(tmp_path: Path, path: str, cwd: Path) -> str:
    """Start the client as the hook script does (``-v``: the interpreter says where each
    module's code came from), with servers off: it goes straight to the plain run, which
    fails outside a repository. Its standard error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIBASE_")}
    env["OMNIBASE_SERVER"] = "0"
    args = ["--hook-type=pre-commit", "--hook-dir", str(tmp_path / "no-hooks"), "--"]
    done = subprocess.run([sys.executable, "-I", "-S", "-v", "-c", client.LOAD, path, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    return done.stderr


@pytest.mark.parametrize("relative", [False, True])
def test_the_hooks_client_comes_from_its_byte_code_after_the_first_commit(tmp_path: Path, relative: bool) -> None:
    """A script run by path is compiled from source every time; ``LOAD`` imports the client
    as a module, so only the first start compiles it and writes ``__pycache__``."""
    folder = tmp_path / "server"
    folder.mkdir()
    shutil.copy(client.__file__, folder / "client.py")
    path = "client.py" if relative else str(folder / "client.py")
    cached = folder / "__pycache__" / f"client.{sys.implementation.cache_tag}.pyc"
    first = _start(tmp_path, path, folder)
    assert f"# code object from {folder / 'client.py'}" in first
    assert cached.is_file()
    second = _start(tmp_path, path, folder)
    assert f"# code object from '{cached}'" in second
    assert f"# code object from {folder / 'client.py'}" not in second


def test_the_hook_script_starts_the_client_through_load(tmp_path: Path) -> None:
    """The line the installed script runs: the client's file given to ``LOAD``, the hook's
    arguments after it (as ``main`` reads them)."""
    script = hook_script("pre-commit", str(tmp_path / "python"))
    assert f"LOAD={shlex.quote(client.LOAD)}" in script
    line = next(ln.strip() for ln in script.splitlines() if "$CLIENT" in ln and "exec" in ln)
    assert line == 'exec "$INSTALL_PYTHON" -I -S -c "$LOAD" "$CLIENT" --hook-type=pre-commit --hook-dir "$HERE" -- "$@"'


def test_the_client_started_by_load_exits_with_mains_code_its_output_flushed(tmp_path: Path) -> None:
    """``LOAD`` ends the process at once (no interpreter shutdown) once ``main`` returned:
    with ``main``'s exit code, and nothing it wrote lost (here a stand-in for the client
    that writes to both streams without flushing)."""
    folder = tmp_path / "server"
    folder.mkdir()
    (folder / "client.py").write_text(
        "import sys\n"
        "def main(args):\n"
        "    sys.stdout.write('out:' + ','.join(args))\n"
        "    sys.stderr.write('err')\n"
        "    return 7\n"
    )
    done = subprocess.run([sys.executable, "-I", "-S", "-c", client.LOAD, str(folder / "client.py"), "a", "b"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (7, "out:a,b", "err")
