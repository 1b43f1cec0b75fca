"""What tests share: real temporary git repositories, the real CLI in a subprocess, and
report builders. The fixtures built on them (``repo``, ``cli``) are in tests/conftest.py;
an execution context for a test is ``omnibase.testing.fake_ctx(root=..., ...)``.

Import helpers from here, never from another test module or a conftest.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from omnibase.core.exits import exit_status
from omnibase.core.values import RunReport, Status, StepResult, Summary

__all__ = ["Child", "Forks", "Relay", "Repo", "Result", "alive", "cli_env", "git", "git_bytes", "git_through_hooks", "init_repo", "linked_worktree", "report", "run_cli", "summary_of", "wait_for"]


# --- git ----------------------------------------------------------------------------------


def git(root: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git in ``root``; its output (raises when git fails)."""
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True, env=env)
    return done.stdout


def git_bytes(root: Path, *args: str) -> bytes:
    """Run git in ``root``; its output as bytes (for ``-z`` output and non-UTF-8 paths)."""
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=True).stdout


def init_repo(root: Path) -> Path:
    """A new repository at ``root`` (created if needed) on branch ``main``, with an
    identity and no signing, so commits work on any machine."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "user.name", "test")
    git(root, "config", "commit.gpgsign", "false")
    return root


class Repo:
    """A real git repository in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def create(cls, root: Path) -> Repo:
        return cls(init_repo(root))

    def git(self, *args: str) -> str:
        return git(self.root, *args)

    def write(self, rel: str, data: bytes | str, *, mode: int | None = None) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        if mode is not None:
            path.chmod(mode)
        return path

    def stage(self, *rels: str) -> None:
        self.git("add", "--", *rels)

    def commit(self, message: str = "commit") -> None:
        self.git("commit", "-q", "--no-verify", "-m", message)

    def seed(self, files: dict[str, bytes | str]) -> Repo:
        """Write ``files``, stage and commit them: a project to run the CLI in."""
        for rel, data in files.items():
            self.write(rel, data)
        self.stage(*files)
        self.commit()
        return self


# --- the CLI --------------------------------------------------------------------------------


class Result:
    """A finished CLI run: exit code, stdout, stderr."""

    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.code = done.returncode
        self.out = done.stdout
        self.err = done.stderr

    def __repr__(self) -> str:
        return f"<exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}>"


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a CLI run gets: this one without omnibase's and pytest's variables,
    no command server (a hook run must not leave one behind: docs/server.md), no fetching
    of hook repositories from the network (docs/precommit.md), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMNIBASE_", "PYTEST_"))}
    env.pop("NO_COLOR", None)
    env["OMNIBASE_SERVER"] = "0"
    env["OMNIBASE_FETCH"] = "0"  # no hook repository is fetched over the network (file:// ones are)
    env.update(extra or {})
    return env


def linked_worktree(tmp_path: Path) -> tuple[Path, Path]:
    """A repository ``tmp_path/main`` with one commit, and a linked worktree of it
    ``tmp_path/linked`` (its own git directory, the common one shared)."""
    main = init_repo(tmp_path / "main")
    git(main, "commit", "-q", "--allow-empty", "-m", "x")
    linked = tmp_path / "linked"
    git(main, "worktree", "add", "-q", str(linked))
    return main, linked


def git_through_hooks(
    root: Path, *args: str, env: Mapping[str, str] | None = None, text: bool = True, check: bool = False
) -> subprocess.CompletedProcess[Any]:
    """Run git in ``root`` as a user would, with the environment a CLI run gets (so hooks
    installed there run omnibase as they would for them); the whole completed process,
    failures included unless ``check``."""
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=text, env=cli_env(env), check=check)


def run_cli(*args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 120) -> Result:
    """``python -m omnibase ARGS`` in ``cwd``, no stdin, output captured."""
    done = subprocess.run(
        [sys.executable, "-m", "omnibase", *args],
        cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=cli_env(env), timeout=timeout,
    )  # fmt: skip
    return Result(done)


# --- reports --------------------------------------------------------------------------------


def summary_of(steps: tuple[StepResult, ...], status: Status | None = None) -> Summary:
    """The counts of ``steps``; the status given, else FAIL when one failed, else PASS."""
    count = {s: sum(1 for r in steps if r.status is s) for s in Status}
    worst = Status.FAIL if count[Status.FAIL] else Status.PASS
    return Summary(
        status=status or worst, total=len(steps), passed=count[Status.PASS], failed=count[Status.FAIL],
        warned=count[Status.WARN], skipped=count[Status.SKIP],
    )  # fmt: skip


def report(*steps: StepResult, **fields: Any) -> RunReport:
    """A run report of ``steps`` (its summary counted from them, exit 1 when one failed);
    any other field of ``RunReport`` as a keyword."""
    defaults: dict[str, Any] = {"run_id": "0123456789abcdef", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
    defaults["summary"] = summary_of(steps)
    defaults["exit_code"] = 1 if defaults["summary"].failed else 0
    defaults.update(fields)
    return RunReport(steps=tuple(steps), **defaults)


# --- processes ------------------------------------------------------------------------------


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (Linux: /proc); a zombie has ended, only its status is left."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


# --- forked children ------------------------------------------------------------------------
#
# Code that ends its process (``os.execv``, ``os._exit``) or owns it (signal handlers, the
# working directory) runs in a fork of the test: the functions are this process's own. mutmut
# (``just mutate``) links a mutant to the tests that call its function and sees only calls
# made in the test's process; while it records them (``MUTANT_UNDER_TEST`` is ``stats``),
# each child also writes every function it enters to a file the test reads back when it
# waits for the child, so a function that only runs in a child is linked to the test that
# drove it. Outside mutmut nothing of this happens.


class _Relayed(set[str]):
    """mutmut's record of the functions entered, which in a child also appends each new
    name to ``path`` (read back by the parent)."""

    def __init__(self, items: set[str], parent: int, path: str) -> None:
        super().__init__(items)
        self.parent = parent
        self.path = path

    def add(self, name: str) -> None:
        if os.getpid() != self.parent and name not in self:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, name.encode() + b"\n")
            finally:
                os.close(fd)
        super().add(name)


class Relay:
    """Installs ``_Relayed`` while mutmut records; ``drain`` adds what children entered."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.state: Any = None
        if os.environ.get("MUTANT_UNDER_TEST") == "stats":
            from mutmut.state import state

            self.state = state()
            self.state._stats = _Relayed(set(self.state._stats), os.getpid(), self.path)

    def drain(self) -> None:
        if self.state is None:
            return
        try:
            with open(self.path) as f:
                names = f.read().split()
        except FileNotFoundError:
            return
        self.state._stats.update(names)

    def close(self) -> None:
        if self.state is not None:
            self.drain()
            self.state._stats = set(self.state._stats)


class Child:
    """A forked child of the test process."""

    def __init__(self, pid: int, relay: Relay) -> None:
        self.pid = pid
        self.relay = relay
        self.status: int | None = None

    def poll(self) -> int | None:
        """The child's exit status if it has ended, else None."""
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = exit_status(os.waitstatus_to_exitcode(status))
                self.relay.drain()
        return self.status

    def wait(self, timeout: float = 10.0) -> int:
        """The child's exit status (128 + N after signal N); kills it after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while (status := self.poll()) is None:
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                self.wait()
                raise AssertionError(f"child {self.pid} still running after {timeout} s")
            time.sleep(0.01)
        return status

    def kill(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait()


class Forks:
    """``forks(fn, stdin=..., stdout=..., stderr=...)``: run ``fn()`` in a forked child
    whose exit status is what ``fn`` returns (1 when it raises); the child's standard
    streams are the files named (``/dev/null`` by default), its signal handlers Python's
    defaults (as in a fresh interpreter)."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.children: list[Child] = []

    def __call__(self, fn: Callable[[], int], *, stdin: str = os.devnull, stdout: str = os.devnull,
                 stderr: str = os.devnull, env: dict[str, str] | None = None) -> Child:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
                    signal.signal(sig, signal.SIG_DFL)
                signal.signal(signal.SIGPIPE, signal.SIG_IGN)
                for target, (name, flags) in enumerate(((stdin, os.O_RDONLY), (stdout, os.O_WRONLY | os.O_APPEND | os.O_CREAT),
                                                        (stderr, os.O_WRONLY | os.O_APPEND | os.O_CREAT))):
                    fd = os.open(name, flags, 0o600)
                    os.dup2(fd, target)
                    os.close(fd)
                sys.stdin = open(0, closefd=False)
                sys.stdout = open(1, "w", closefd=False, buffering=1)
                sys.stderr = open(2, "w", closefd=False, buffering=1)
                if env is not None:
                    os.environ.clear()
                    os.environ.update(env)
                code = fn()
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else 1
            except BaseException as exc:
                try:
                    print(f"child: {type(exc).__name__}: {exc}", file=sys.stderr)
                except BaseException:
                    pass
            finally:
                os._exit(code)
        child = Child(pid, self.relay)
        self.children.append(child)
        return child


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 6.0) -> None:
    """Poll ``condition`` until it holds (an AssertionError naming ``what`` after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def fd_is_open(fd: int) -> bool:
    """Whether descriptor ``fd`` is open in this process."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True
