"""The real CLI: what the sandbox refuses with default rights (no write outside the
repository, no network, no processes), from registry Python entries in workers and from
command entries; with the kernel's Landlock and with the audit hook alone
(``OMNIBASE_LANDLOCK=off``). Each attempt is real and leaves nothing behind."""

from __future__ import annotations

import json
import os

import pytest

from omnibase.drivers.isolation import landlock

pytestmark = pytest.mark.e2e

KERNEL = landlock.abi() >= 1
#: The two guards: the kernel and the audit hook together, or the audit hook alone.
GUARDS = [
    pytest.param({}, id="landlock", marks=pytest.mark.skipif(not KERNEL, reason="no Landlock in this kernel")),
    pytest.param({landlock.SWITCH: "off"}, id="audit-hook"),
]

PLUGIN = '''
import os, sqlite3, sys
from returns.result import Success

OUT = {outside!r}


def dir_fd_write(ctx, value):
    folder = os.open(OUT, os.O_RDONLY)
    fd = os.open("by-dir-fd.txt", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=folder)
    os.write(fd, b"escaped")
    return Success(None)


def sqlite_db(ctx, value):
    sqlite3.connect(os.path.join(OUT, "made.db")).execute("create table t (a)")
    return Success(None)


def fifo(ctx, value):
    os.mkfifo(os.path.join(OUT, "pipe"))
    return Success(None)


def _child():
    pass


def spawn(ctx, value):
    import multiprocessing

    proc = multiprocessing.get_context("spawn").Process(target=_child)
    proc.start()
    proc.join()
    return Success(proc.exitcode)


def swallowed(ctx, value):
    try:
        open(os.path.join(OUT, "caught.txt"), "w").close()
    except PermissionError:
        pass
    return Success("pretended all was well")


def inside(ctx, value):
    with open(os.path.join(ctx.root, "made-inside.txt"), "w") as f:
        f.write("fine")
    folder = os.open(ctx.root, os.O_RDONLY)
    os.close(os.open("by-dir-fd-inside.txt", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=folder))
    sqlite3.connect(os.path.join(ctx.root, "inside.db")).execute("create table t (a)")
    sqlite3.connect(":memory:").execute("create table t (a)")
    with open("/dev/null", "w") as f:
        f.write("discarded")
    return Success(open("/etc/hostname").read() is not None)


def ctypes_write(ctx, value):
    import ctypes

    fd = ctypes.CDLL(None, use_errno=True).open(os.path.join(OUT, "by-ctypes.txt").encode(), os.O_CREAT | os.O_WRONLY, 0o644)
    return Success(fd >= 0)


def child_writes(ctx, value):
    import subprocess

    done = subprocess.run(["sh", "-c", 'echo x > "$0/by-child.txt"', OUT], capture_output=True, text=True)
    return Success(done.returncode)
'''


@pytest.fixture
def project(repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    repo.write("plugin.py", PLUGIN.replace("{outside!r}", repr(str(outside))))
    repo.write("a.txt", "ok\n")
    repo.stage("plugin.py", "a.txt")
    repo.commit()
    return repo, outside


def _run(project, cli, guard, entry: str, fmt: str = "json"):
    repo, outside = project
    repo.write("omnibase.yaml", f"version: 1\ncomponents:\n  - {{name: it, tags: [ci], always_run: true, {entry}}}\n")
    return cli("orch", "--stage", "ci", "--filter", "name=it", "--format", fmt, env=guard, timeout=120)


@pytest.mark.parametrize("guard", GUARDS)
@pytest.mark.parametrize(
    ("function", "operation", "left"),
    [
        ("dir_fd_write", "os.open", "by-dir-fd.txt"),
        ("sqlite_db", "sqlite3.connect", "made.db"),
        ("fifo", "os.mkfifo", "pipe"),
        ("swallowed", "open", "caught.txt"),
    ],
)
def test_a_write_outside_the_repository_is_exit_5(project, cli, guard, function, operation, left):
    repo, outside = project
    r = _run(project, cli, guard, f"python: 'plugin:{function}'")
    assert r.code == 5, r
    error = json.loads(r.out)["steps"][0]["error"]
    assert error["type"] == "sandbox" and error["action"] == "write"
    assert error["target"] == os.path.join(os.path.realpath(outside), left)
    assert error["message"].startswith(f"{operation}: writing ") and "\n" not in error["message"]
    assert not (outside / left).exists()


@pytest.mark.parametrize("guard", GUARDS)
def test_a_multiprocessing_spawn_without_the_process_right_is_exit_5(project, cli, guard):
    r = _run(project, cli, guard, "python: 'plugin:spawn'")
    assert r.code == 5, r
    error = json.loads(r.out)["steps"][0]["error"]
    assert error["type"] == "sandbox" and error["action"] == "process"
    assert error["message"].startswith("_posixsubprocess.fork_exec ") and "no right to start processes" in error["message"]
    r = _run(project, cli, guard, "python: 'plugin:spawn', sandbox: {processes: true}")
    assert r.code == 0, r
    assert json.loads(r.out)["steps"][0]["value"] == 0


@pytest.mark.parametrize("guard", GUARDS)
def test_what_a_component_legitimately_does_still_works(project, cli, guard):
    repo, _ = project
    r = _run(project, cli, guard, "python: 'plugin:inside'")
    assert r.code == 0, r
    assert (repo.root / "made-inside.txt").read_text() == "fine"
    assert (repo.root / "by-dir-fd-inside.txt").exists() and (repo.root / "inside.db").exists()


@pytest.mark.parametrize("guard", GUARDS)
def test_the_granted_paths_are_writable(project, cli, guard):
    repo, outside = project
    r = _run(project, cli, guard, f"python: 'plugin:sqlite_db', sandbox: {{write: ['.', '{outside}']}}")
    assert r.code == 0, r
    assert (outside / "made.db").exists()


@pytest.mark.skipif(not KERNEL, reason="no Landlock in this kernel")
def test_the_kernel_refuses_what_the_audit_hook_cannot_see(project, cli):
    _, outside = project
    r = _run(project, cli, {}, "python: 'plugin:ctypes_write'")
    assert r.code == 0, r  # ctypes raises no audit event: the kernel refused, the component saw -1
    assert json.loads(r.out)["steps"][0]["value"] is False
    assert not (outside / "by-ctypes.txt").exists()
    # a child process (with the right to start one) inherits the confinement
    r = _run(project, cli, {}, "python: 'plugin:child_writes', sandbox: {processes: true}")
    assert r.code == 0, r
    assert json.loads(r.out)["steps"][0]["value"] != 0
    assert not (outside / "by-child.txt").exists()


def test_without_the_kernel_ctypes_gets_through(project, cli):
    """What the documentation says is not guaranteed without Landlock, shown."""
    _, outside = project
    r = _run(project, cli, {landlock.SWITCH: "off"}, "python: 'plugin:ctypes_write'")
    assert r.code == 0, r
    assert (outside / "by-ctypes.txt").exists()


@pytest.mark.skipif(not KERNEL, reason="no Landlock in this kernel")
@pytest.mark.parametrize("argv", [["sh", "-c", 'echo x > "$0/by-command.txt"'], ["touch"]])
def test_a_command_writing_outside_the_repository_is_exit_5(project, cli, argv):
    _, outside = project
    target = str(outside / "by-command.txt")
    command = json.dumps([*argv, target] if argv == ["touch"] else [*argv, str(outside)])
    r = _run(project, cli, {}, f"command: {command}, pass_filenames: false")
    assert r.code == 5, r
    error = json.loads(r.out)["steps"][0]["error"]
    assert error["type"] == "sandbox" and error["action"] == "write"
    assert error["target"] == os.path.join(os.path.realpath(outside), "by-command.txt")
    assert "refused by the kernel" in error["message"] and "\n" not in error["message"]
    assert not (outside / "by-command.txt").exists()
    human = _run(project, cli, {}, f"command: {command}, pass_filenames: false", fmt="human")
    line = next(line for line in human.out.splitlines() if "writing " in line)
    assert human.code == 5 and line.strip().startswith(f"{argv[0]}: writing "), human.out
    granted = _run(project, cli, {}, f"command: {command}, pass_filenames: false, sandbox: {{write: ['.', '{outside}']}}")
    assert granted.code == 0, granted
    assert (outside / "by-command.txt").exists()


def test_a_command_writes_in_the_repository_and_to_dev_null(project, cli):
    repo, _ = project
    r = _run(project, cli, {}, "command: [sh, -c, 'echo x > made-by-command.txt; echo y > /dev/null'], pass_filenames: false")
    assert r.code == 0, r
    assert (repo.root / "made-by-command.txt").read_text() == "x\n"


def test_a_confined_command_has_a_temporary_folder_of_its_own_that_is_gone_after(project, cli):
    """Tools write temporary files (pytest, compilers, mktemp): under the write sandbox a
    command gets its own TMPDIR inside the state folder, and nothing is left of it."""
    repo, outside = project
    script = 'f=$(mktemp) && echo x > "$f" && echo "$f" > "$0/where.txt"'
    r = _run(project, cli, {}, f"command: [sh, -c, '{script}', '{outside}'], pass_filenames: false, "
             f"sandbox: {{write: ['.', '{outside}']}}")
    assert r.code == 0, r
    used = (outside / "where.txt").read_text().strip()
    assert os.path.join(".git", "omnibase", "tmp") in used
    assert not os.path.exists(used) and not os.listdir(repo.root / ".git" / "omnibase" / "tmp")


@pytest.mark.parametrize("said", ["cannot open a.txt: Permission denied", "cannot open /no/such/folder/x: Permission denied"])
def test_a_command_that_fails_on_its_own_is_not_a_violation(project, cli, said):
    r = _run(project, cli, {}, f"command: [sh, -c, 'echo \"{said}\"; exit 3'], pass_filenames: false")
    assert r.code == 1, r
    assert json.loads(r.out)["steps"][0]["error"]["type"] == "failed"
