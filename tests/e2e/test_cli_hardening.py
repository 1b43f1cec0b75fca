"""Issue 9, each item through the real CLI: a subprocess, a real temporary git repository,
real FIFOs, symlinks, devices and signals."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from omnibase.core.redact import MAX_TEXT
from omnibase.registry._load import MAX_REGISTRY_BYTES
from tests.support import cli_env

pytestmark = pytest.mark.e2e

HEAD = "version: 1\ncomponents:\n"


def _entry(body: str, name: str = "x") -> str:
    return HEAD + f"  - name: {name}\n    tags: [ci]\n" + body


def _where(err: str) -> tuple[int, int, str]:
    """``(line, column, rest)`` of an ``omnibase: FILE:LINE:COL: rest`` error line."""
    m = re.search(r"omnibase\.yaml:(\d+):(\d+): (.*)", err)
    assert m, err
    return int(m.group(1)), int(m.group(2)), m.group(3)


# --- config values ------------------------------------------------------------------------

CMD = '    command: ["true"]\n'

BAD_VALUES = [
    # (what the entry says, the field blamed, the line of the value)
    (CMD + "    timeout: .nan\n", "components[0].timeout", 6),
    (CMD + "    timeout: .inf\n", "components[0].timeout", 6),
    (CMD + "    timeout: 1.0e+308\n", "components[0].timeout", 6),
    (CMD + "    timeout: -1\n", "components[0].timeout", 6),
    (CMD + "    retry: {max_attempts: 0}\n", "components[0].retry.max_attempts", 6),
    (CMD + "    retry: {initial: -0.5}\n", "components[0].retry.initial", 6),
    (CMD + "    breaker: {threshold: 0}\n", "components[0].breaker.threshold", 6),
    (CMD + "    limits: {memory_mb: -5}\n", "components[0].limits.memory_mb", 6),
    (CMD + "    limits: {cpu_seconds: 0}\n", "components[0].limits.cpu_seconds", 6),
]


@pytest.mark.parametrize(("body", "field", "line"), BAD_VALUES, ids=[f"{f}={b.splitlines()[-1].split(':', 1)[1].strip()}" for b, f, _ in BAD_VALUES])
def test_out_of_range_values_are_exit_2_with_file_line_col_field(repo, cli, body, field, line):
    repo.write("omnibase.yaml", _entry(body))
    r = cli("registry", "list", "--format", "json")
    assert r.code == 2, r
    got_line, col, rest = _where(r.err)
    assert got_line == line and col > 1, r
    assert rest.startswith(f"{field}: "), r
    assert "internal error" not in r.err and "Traceback" not in r.err


def test_unknown_stage_name_is_exit_2(repo, cli):
    repo.write("omnibase.yaml", "version: 1\nstages:\n  pre-commit: {fail_fast: true}\n  nightly:\n    filter: type=test\n")
    r = cli("registry", "list", "--format", "json")
    assert r.code == 2, r
    line, _, rest = _where(r.err)
    assert line == 5 and rest.startswith("stages.nightly: unknown stage 'nightly'"), r


def test_duplicate_yaml_key_is_exit_2_at_the_second_key(repo, cli):
    repo.write("omnibase.yaml", _entry(CMD + "    timeout: 5\n    timeout: 7\n"))
    r = cli("orch", "--stage", "ci", "--list", "--format", "json")
    assert r.code == 2, r
    line, col, rest = _where(r.err)
    assert (line, col) == (7, 5) and rest == "components[0].timeout: duplicate key 'timeout'", r


def test_entry_shadowing_a_builtin_is_exit_2(repo, cli):
    repo.write("omnibase.yaml", _entry(CMD, name="trailing-whitespace"))
    r = cli("registry", "list", "--format", "json")
    assert r.code == 2, r
    line, _, rest = _where(r.err)
    assert line == 3 and rest.startswith("components[0].name: 'trailing-whitespace' is the name of a built-in"), r


@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_thousands_of_levels_is_exit_2(repo, cli, style):
    depth = 5000
    if style == "flow":
        text = HEAD + "  - name: deep\n    command: " + "[" * depth + "]" * depth + "\n"
    else:
        text = HEAD + "  - name: deep\n    command:\n      " + "- " * depth + "x\n"
    repo.write("omnibase.yaml", text)
    r = cli("registry", "list", "--format", "json")
    assert r.code == 2, r
    line, _, rest = _where(r.err)
    assert line >= 4 and ("nested deeper than" in rest or "nesting depth" in rest), r


def test_alias_bomb_is_exit_2(repo, cli):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    repo.write("omnibase.yaml", "version: 1\n" + "\n".join(lines) + "\n")
    r = cli("registry", "list", "--format", "json", timeout=60)
    assert r.code == 2, r
    assert "expands to more than" in r.err, r


# --- the registry file itself -------------------------------------------------------------------


def test_registry_fifo_is_refused_without_hanging(repo, cli):
    fifo = repo.root / "reg.fifo"
    os.mkfifo(fifo)
    r = cli("registry", "list", "--registry", str(fifo), timeout=30)
    assert r.code == 2, r
    assert "not a regular file (a FIFO)" in r.err, r


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null"])
def test_registry_device_is_refused(cli, target):
    r = cli("orch", "--stage", "ci", "--list", "--registry", target, timeout=30)
    assert r.code == 2, r
    assert "character device" in r.err, r


def test_registry_directory_and_oversized_file_are_refused(repo, cli):
    (repo.root / "d").mkdir()
    r = cli("registry", "list", "--registry", "d")
    assert r.code == 2 and "a directory" in r.err, r
    with open(repo.root / "big.yaml", "wb") as f:
        f.write(b"version: 1\n" + b"#" * MAX_REGISTRY_BYTES)
    r = cli("registry", "list", "--registry", "big.yaml")
    assert r.code == 2 and f"{MAX_REGISTRY_BYTES} byte limit" in r.err, r


# --- resolution -------------------------------------------------------------------------------

BAD_MODULES = {
    "exits": "import sys\nsys.exit(7)\n",
    "hard_exits": "import os\nos._exit(9)\n",
    "hangs": "import time\ntime.sleep(60)\n",
}


@pytest.mark.parametrize("module", sorted(BAD_MODULES))
def test_module_exiting_or_hanging_at_import_is_exit_3_naming_the_entry(repo, cli, module):
    repo.write(f"{module}.py", BAD_MODULES[module] + "def check(ctx, value):\n    return None\n")
    repo.write("omnibase.yaml", HEAD + "  - name: fine\n    command: ['true']\n  - name: evil\n    tags: [ci]\n    python: " + f"'{module}:check'\n")
    started = time.monotonic()
    r = cli("orch", "--stage", "ci", "--filter", "name=evil", "--format", "json", env={"OMNIBASE_RESOLVE_TIMEOUT": "2"}, timeout=60)
    assert time.monotonic() - started < 50
    assert r.code == 3, r
    assert re.search(r"omnibase\.yaml:5: evil: ", r.err), r
    if module == "hangs":
        assert "did not finish within 2s" in r.err, r
    else:
        assert f"exit status {7 if module == 'exits' else 9}" in r.err, r


MARKER_MODULE = """
import pathlib
pathlib.Path("imported.marker").write_text("imported")
from returns.result import Success

def check(ctx, value):
    return Success(1)
"""


def test_read_only_commands_import_nothing_unselected(repo, cli):
    repo.write("marker_mod.py", MARKER_MODULE)
    repo.write(
        "omnibase.yaml",
        HEAD + "  - name: marks\n    tags: [ci]\n    python: 'marker_mod:check'\n"
        "  - name: echo\n    tags: [ci]\n    command: ['true']\n    always_run: true\n",
    )
    repo.write("a.txt", "a\n")
    repo.stage("a.txt")
    marker = repo.root / "imported.marker"
    for args in (
        ("registry", "list"),
        ("registry", "inspect", "marks"),
        ("orch", "--stage", "ci", "--list"),
        ("orch", "--stage", "ci", "--dry-run"),  # marks is not pure: a dry run skips it
        ("orch", "--stage", "ci", "--filter", "name=echo"),
    ):
        r = cli(*args, "--format", "json")
        assert r.code == 0, (args, r)
        assert not marker.exists(), args
    r = cli("orch", "--stage", "ci", "--filter", "name=marks", "--format", "json")
    assert r.code == 0, r
    assert marker.exists()  # selected and needed: imported


def test_upward_search_stops_at_the_repository_root_and_the_report_names_the_file(repo, cli):
    outside = repo.root.parent / "omnibase.yaml"
    outside.write_text(HEAD + "  - name: planted\n    tags: [ci]\n    command: ['touch', 'planted.marker']\n    always_run: true\n")
    (repo.root / "sub").mkdir()
    r = cli("orch", "--stage", "ci", "--filter", "name=planted", "--format", "json", cwd=repo.root / "sub")
    assert r.code == 1 and "nothing selected" in r.err, r
    assert not (repo.root / "planted.marker").exists() and not (repo.root / "sub" / "planted.marker").exists()
    repo.write("a.txt", "a\n")
    repo.stage("a.txt")
    r = cli("orch", "--stage", "pre-commit", "--format", "json")
    assert json.loads(r.out)["metadata"]["registry"] == ""
    repo.write("omnibase.yaml", "version: 1\n")
    r = cli("orch", "--stage", "pre-commit", "--format", "json", cwd=repo.root / "sub")
    assert json.loads(r.out)["metadata"]["registry"] == str(repo.root / "omnibase.yaml"), r


# --- -o FILE ------------------------------------------------------------------------------------


@pytest.fixture
def staged(repo):
    repo.write("a.txt", "fine\n")
    repo.stage("a.txt")
    return repo


def test_output_symlink_directory_device_and_missing_folder_are_exit_2_before_running(staged, cli, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (staged.root / "link.json").symlink_to(victim)
    (staged.root / "folder").mkdir()
    staged.write("b.txt", "trailing   \n")
    staged.stage("b.txt")
    for target, why in (("link.json", "a symbolic link"), ("folder", "a directory"), ("/dev/null", "not a regular file"), ("nowhere/r.json", "no such directory")):
        r = cli("orch", "--stage", "pre-commit", "-o", target)
        assert r.code == 2, (target, r)
        assert why in r.err and r.out == "", (target, r)
    assert victim.read_text() == "precious\n" and (staged.root / "link.json").is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert (staged.root / "b.txt").read_text() == "trailing   \n"  # nothing ran


def test_output_honours_the_umask_and_takes_the_format_from_the_extension(staged, cli):
    script = "import os, sys, runpy; os.umask(0o077); sys.argv = ['omnibase', *sys.argv[1:]]; runpy.run_module('omnibase', run_name='__main__')"
    for name in ("r.json", "r.yaml", "r.txt"):
        done = subprocess.run([sys.executable, "-c", script, "orch", "--stage", "pre-commit", "-o", name], cwd=staged.root, env=cli_env(None), capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done
        assert stat.S_IMODE(os.stat(staged.root / name).st_mode) == 0o600
    assert json.loads((staged.root / "r.json").read_text())["exit_code"] == 0
    assert yaml.safe_load((staged.root / "r.yaml").read_text())["exit_code"] == 0
    human = (staged.root / "r.txt").read_text()
    assert "passed" in human and "\x1b[" not in human


def test_output_json_from_a_terminal_is_json_and_stdout_is_human(staged):
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "omnibase", "orch", "--stage", "pre-commit", "-o", "r.json"], cwd=staged.root, env=cli_env({"TERM": "xterm"}), stdin=subprocess.DEVNULL, stdout=child_fd, stderr=subprocess.PIPE)
    os.close(child_fd)
    chunks = []
    while True:
        try:
            data = os.read(main_fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main_fd)
    assert proc.returncode == 0
    assert b"\x1b[" in b"".join(chunks)  # the terminal got colours
    assert json.loads((staged.root / "r.json").read_text())["summary"]["status"] == "PASS"


def test_relative_output_survives_a_component_changing_directory_and_path(staged, cli):
    staged.write(
        "wander.py",
        "import os\nfrom returns.result import Success\n\ndef wander(ctx, value):\n    os.chdir('/')\n    os.environ['PATH'] = ''\n    return Success(None)\n",
    )
    staged.write(
        "omnibase.yaml",
        HEAD + "  - name: wander\n    tags: [ci]\n    python: 'wander:wander'\n"
        "  - name: after\n    tags: [ci]\n    command: ['sh', '-c', 'echo still-here']\n    always_run: true\n",
    )
    r = cli("orch", "--stage", "ci", "--tags", "ci", "-o", "rel.json", "-x", "--format", "json")
    assert r.code == 0, r
    report = json.loads((staged.root / "rel.json").read_text())
    assert [s["status"] for s in report["steps"]] == ["PASS", "PASS"]
    assert "still-here" in report["steps"][1]["value"]["output"]


# --- secrets ------------------------------------------------------------------------------------


def test_secret_environment_values_are_redacted_from_command_output(staged, cli):
    token = "ghp_" + "s3cr3tvalue" * 3
    staged.write("omnibase.yaml", HEAD + "  - name: leaky\n    tags: [ci]\n    command: ['sh', '-c', 'echo token is $GITHUB_TOKEN; echo pw=$DB_PASSWORD; exit 1']\n    always_run: true\n"
                  "    pass_env: [GITHUB_TOKEN, DB_PASSWORD]\n")  # a command sees secrets only when its entry lists them
    for fmt in ("json", "yaml", "human"):
        r = cli("orch", "--stage", "ci", "--format", fmt, "-o", f"r.{fmt}", env={"GITHUB_TOKEN": token, "DB_PASSWORD": "hunter22"})
        assert r.code == 1, r
        for text in (r.out, r.err, (staged.root / f"r.{fmt}").read_text()):
            assert token not in text and "hunter22" not in text
        assert "[redacted]" in r.out


def test_diffs_never_show_private_keys_or_env_files(staged, cli):
    secret = "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretmaterial   \n-----END RSA PRIVATE KEY-----\n"
    staged.write("id_rsa", secret)
    staged.write(".env", "API=verysecretvalue   \n")
    staged.write("c.txt", "visible   \n")
    staged.stage("id_rsa", ".env", "c.txt")
    r = cli("orch", "--stage", "pre-commit", "--format", "json")
    assert r.code == 1, r
    assert "MIIEsecretmaterial" not in r.out and "verysecretvalue" not in r.out
    assert "-visible   " in r.out  # other files' diffs are still shown
    assert "content not shown" in r.out


# --- bounded reports ----------------------------------------------------------------------------


def test_huge_fixed_file_gives_a_bounded_report(staged, cli):
    staged.write("big.txt", b"a line with trailing blanks   \n" * 200_000)  # 6 MB
    staged.stage("big.txt")
    r = cli("orch", "--stage", "pre-commit", "--format", "json")
    assert r.code == 1, r
    assert len(r.out) < 100_000
    diff = {s["name"]: s for s in json.loads(r.out)["steps"]}["trailing-whitespace"]["error"]["data"]["diff"]
    assert re.search(r"\.\.\. \d+ bytes more", diff)


def test_huge_return_value_is_bounded(staged, cli):
    staged.write("huge.py", "from returns.result import Success\n\ndef huge(ctx, value):\n    return Success('z' * 3_000_000)\n")
    staged.write("omnibase.yaml", HEAD + "  - name: huge\n    tags: [ci]\n    python: 'huge:huge'\n")
    r = cli("orch", "--stage", "pipeline", "--from", "huge", "--format", "json")
    assert r.code == 0, r
    assert len(r.out) < 2 * MAX_TEXT + 100_000  # the documented cap (1 MiB) on each of its two copies, not 3 MB each
    report = json.loads(r.out)
    assert report["output"].endswith(f"bytes more") and report["output"].startswith("zzz")


# --- file names ---------------------------------------------------------------------------------


def test_non_utf8_file_name_is_reported_escaped_in_every_format(staged, cli):
    raw = os.path.join(os.fsencode(staged.root), b"bad\xffname.txt")
    with open(raw, "wb") as f:
        f.write(b"x   \n")
    subprocess.run([b"git", b"add", b"--", b"bad\xffname.txt"], cwd=staged.root, check=True)
    r = cli("orch", "--stage", "pre-commit", "--format", "json")
    assert r.code == 1, r
    assert "internal error" not in r.err
    assert "bad\\xffname.txt" in json.loads(r.out)["steps"][0]["error"]["message"]
    with open(raw, "wb") as f:
        f.write(b"x   \n")
    r = cli("orch", "--stage", "pre-commit", "--format", "yaml")
    assert r.code == 1 and "bad\\xffname.txt" in yaml.safe_load(r.out)["steps"][0]["error"]["message"], r
    with open(raw, "wb") as f:
        f.write(b"x   \n")
    r = cli("orch", "--stage", "pre-commit", "--format", "human", "--no-color")
    assert r.code == 1 and "bad\\xffname.txt" in r.out, r


# --- signals and threads ------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_like_ctrl_c(staged, sig):
    pidfile = staged.root / "child.pid"
    staged.write("omnibase.yaml", HEAD + "  - name: slow\n    tags: [ci]\n    command: ['sh', '-c', 'sleep 60 & echo $! > child.pid; wait']\n    always_run: true\n")
    proc = subprocess.Popen([sys.executable, "-m", "omnibase", "orch", "--stage", "ci", "--format", "json"], cwd=staged.root, env=cli_env(None), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pidfile.read_text())
    proc.send_signal(sig)  # even at once (omnibase may not be back from Popen yet)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig, (out, err)
    report = json.loads(out)
    assert report["outcome"] == "interrupted" and report["exit_code"] == 128 + sig
    assert report["steps"][-1]["error"]["type"] == "interrupted"
    deadline = time.monotonic() + 10
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child)  # the command's whole process group was killed


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for a reaper that a container's
    init may not be)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_non_daemon_thread_does_not_keep_the_process_alive(staged, cli):
    staged.write("lingers.py", "import threading, time\nfrom returns.result import Success\n\ndef start(ctx, value):\n    threading.Thread(target=time.sleep, args=(120,)).start()\n    return Success('started')\n")
    staged.write("omnibase.yaml", HEAD + "  - name: lingers\n    tags: [ci]\n    python: 'lingers:start'\n")
    started = time.monotonic()
    r = cli("orch", "--stage", "ci", "--tags", "ci", "--format", "json", timeout=60)
    assert r.code == 0, r
    assert time.monotonic() - started < 60
    assert json.loads(r.out)["steps"][0]["value"] == "started"


# --- editing ------------------------------------------------------------------------------------


def test_registry_edits_leave_no_lock_file_in_the_repository(staged, cli):
    staged.write("omnibase.yaml", HEAD + "  - name: one\n    command: ['true']\n")
    staged.stage("omnibase.yaml")
    staged.commit()
    assert cli("registry", "add", "--entry", "{name: two, command: ['true']}").code == 0
    assert cli("registry", "remove", "one").code == 0
    assert sorted(p.name for p in staged.root.iterdir()) == [".git", "a.txt", "omnibase.yaml"]
    assert staged.git("status", "--porcelain").split() == ["M", "omnibase.yaml"]


def test_many_entries_list_add_remove(staged, cli):
    lines = [f"  - name: tool-{i}\n    type: validator\n    tags: [ci]\n    command: ['true']\n" for i in range(2000)]
    text = HEAD + "".join(lines)
    staged.write("omnibase.yaml", text)
    r = cli("registry", "list", "--format", "json")
    assert r.code == 0 and sum(m["name"].startswith("tool-") for m in json.loads(r.out)["output"]) == 2000, r
    assert cli("registry", "add", "--entry", "{name: extra, command: ['true']}").code == 0
    assert cli("registry", "remove", "extra").code == 0
    assert (staged.root / "omnibase.yaml").read_text() == text


def test_registry_edit_in_a_missing_folder_or_of_a_device_is_exit_2(repo, cli):
    r = cli("registry", "add", "--registry", "nowhere/omnibase.yaml", "--entry", "{name: a, command: ['true']}")
    assert r.code == 2 and "No such file or directory" in r.err, r
    r = cli("registry", "add", "--registry", "/dev/null", "--entry", "{name: a, command: ['true']}")
    assert r.code == 2 and "character device" in r.err, r
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
