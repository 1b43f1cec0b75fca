"""Editing the registry file: atomic, locked, and kind to comments and other entries."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from returns.result import Failure, Success

from omnibase.core.values import Misconfigured, Unresolved
from omnibase.registry import add_entry, parse_registry_text, remove_entry

ROOT = str(Path(__file__).resolve().parents[2])

BASE = """\
# header comment: the team's tools
version: 1
stages:
  ci:
    fail_fast: true  # stop early in CI
components:
  # about alpha
  - name: alpha
    command: ["true"]  # inline alpha
    tags: [pre-commit]
  # about beta
  - name: beta
    python: "pkg.mod:fn"
    # inside beta
    timeout: 2
  # about gamma
  - name: gamma
    command: ["echo", "hi"]  # inline gamma

# trailing comment
"""

COMMENTS = [line.strip() for line in BASE.splitlines() if line.strip().startswith("#") or " # " in line]


def _comments(text: str) -> set[str]:
    return {m.group(0).strip() for m in re.finditer(r"#[^\n]*", text)}


def _names(text: str, path: str = "r") -> list[str]:
    result = parse_registry_text(text, path)
    assert isinstance(result, Success), result
    return [e.name for e in result.unwrap().entries]


def _write(tmp_path: Path, text: str = BASE) -> str:
    path = tmp_path / "omnibase.yaml"
    path.write_text(text)
    return str(path)


def test_add_keeps_every_comment_and_entry(tmp_path: Path) -> None:
    path = _write(tmp_path)
    result = add_entry(path, "{name: delta, command: [ruff, check], tags: [x]}")
    assert isinstance(result, Success), result
    text = Path(path).read_text()
    assert _names(text) == ["alpha", "beta", "gamma", "delta"]
    assert _comments(BASE) <= _comments(text)
    # everything of the old file is still there, line for line, in order
    old = BASE.splitlines()
    new = text.splitlines()
    it = iter(new)
    assert all(any(line == n for n in it) for line in old)
    reg = parse_registry_text(text, path).unwrap()
    assert reg.entries[-1].command == ("ruff", "check")
    assert reg.stages["ci"].fail_fast is True
    # the new entry went into the list, before the file's trailing comment
    assert text.index("name: delta") < text.index("# trailing comment")


def test_add_then_remove_restores_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path)
    assert isinstance(add_entry(path, "name: delta\ncommand: [x]\n"), Success)
    assert isinstance(remove_entry(path, "delta"), Success)
    assert Path(path).read_text() == BASE


def test_remove_deletes_only_that_entry(tmp_path: Path) -> None:
    path = _write(tmp_path)
    result = remove_entry(path, "beta")
    assert isinstance(result, Success), result
    text = Path(path).read_text()
    assert _names(text) == ["alpha", "gamma"]
    assert "pkg.mod:fn" not in text and "inside beta" not in text
    for comment in _comments(BASE) - {"# about beta", "# inside beta"}:
        assert comment in text, comment
    # nothing but beta's lines (and perhaps its leading comment) went away
    removed = [line for line in BASE.splitlines() if line not in text.splitlines()]
    assert set(removed) <= {"  - name: beta", '    python: "pkg.mod:fn"', "    # inside beta", "    timeout: 2", "  # about beta"}


def test_remove_first_and_last(tmp_path: Path) -> None:
    path = _write(tmp_path)
    assert isinstance(remove_entry(path, "alpha"), Success)
    assert isinstance(remove_entry(path, "gamma"), Success)
    text = Path(path).read_text()
    assert _names(text) == ["beta"]
    for comment in ("# header comment: the team's tools", "# stop early in CI", "# about beta", "# inside beta", "# trailing comment"):
        assert comment in text
    # removing the very last entry leaves a valid, empty list
    assert isinstance(remove_entry(path, "beta"), Success)
    text = Path(path).read_text()
    assert _names(text) == []
    assert "# header comment: the team's tools" in text and "# trailing comment" in text
    assert isinstance(add_entry(path, "{name: again, command: [x]}"), Success)
    assert _names(Path(path).read_text()) == ["again"]


def test_add_duplicate_is_failure_and_file_unchanged(tmp_path: Path) -> None:
    path = _write(tmp_path)
    result = add_entry(path, "{name: beta, command: [x]}")
    assert isinstance(result, Failure)
    assert isinstance(result.failure(), Misconfigured)
    assert "duplicate" in result.failure().message
    assert Path(path).read_text() == BASE


def test_add_invalid_entries_are_failures(tmp_path: Path) -> None:
    path = _write(tmp_path)
    for bad in ("[1, 2]", "name: [unclosed", "{name: x, command: [x], bogus: 1}", "{name: x, timeout: soon, command: [x]}"):
        result = add_entry(path, bad)
        assert isinstance(result, Failure), bad
        assert isinstance(result.failure(), Misconfigured)
    # valid on its own but not in the file: both command and python
    assert isinstance(add_entry(path, "{name: x, command: [x], python: 'm:f'}"), Failure)
    assert Path(path).read_text() == BASE


def test_remove_missing_is_failure(tmp_path: Path) -> None:
    path = _write(tmp_path)
    result = remove_entry(path, "nope")
    assert isinstance(result, Failure)
    assert isinstance(result.failure(), Unresolved)
    assert Path(path).read_text() == BASE
    result = remove_entry(str(tmp_path / "absent.yaml"), "x")
    assert isinstance(result, Failure) and isinstance(result.failure(), Unresolved)
    assert not (tmp_path / "absent.yaml").exists()


def test_add_creates_the_file_when_absent(tmp_path: Path) -> None:
    path = str(tmp_path / "omnibase.yaml")
    result = add_entry(path, "{name: first, command: [echo]}")
    assert isinstance(result, Success), result
    assert _names(Path(path).read_text()) == ["first"]
    assert isinstance(add_entry(path, "{name: second, python: 'm:f'}"), Success)
    assert _names(Path(path).read_text()) == ["first", "second"]
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o644)


def test_add_keeps_file_mode(tmp_path: Path) -> None:
    path = _write(tmp_path)
    os.chmod(path, 0o600)
    assert isinstance(add_entry(path, "{name: d, command: [x]}"), Success)
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_add_to_empty_and_flow_lists(tmp_path: Path) -> None:
    for text in ("version: 1\ncomponents:\n", "version: 1\ncomponents: []  # none yet\n", "version: 1\n",
                 "version: 1\ncomponents: [{name: a, command: [x]}]\n# after\n"):
        path = _write(tmp_path, text)
        result = add_entry(path, "{name: z, command: [x]}")
        assert isinstance(result, Success), (text, result)
        new = Path(path).read_text()
        assert _names(new)[-1] == "z"
        assert _comments(text) <= _comments(new)


def _spawn_adder(path: str, name: str) -> subprocess.Popen[bytes]:
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {ROOT!r})
        from returns.result import Success
        from omnibase.registry import add_entry
        r = add_entry({path!r}, '{{name: {name}, command: [echo, {name}]}}')
        sys.exit(0 if isinstance(r, Success) else 1)
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_concurrent_adders_all_land(tmp_path: Path) -> None:
    path = _write(tmp_path)
    names = [f"proc{i}" for i in range(8)]
    procs = [_spawn_adder(path, n) for n in names]
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0, out.decode()
    text = Path(path).read_text()
    got = _names(text)
    assert got[:3] == ["alpha", "beta", "gamma"]
    assert sorted(got[3:]) == sorted(names)
    assert _comments(BASE) <= _comments(text)
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".omnibase-")]


LOOPER = """
import sys
sys.path.insert(0, {root!r})
from omnibase.registry import add_entry, remove_entry
path = {path!r}
print("ready", flush=True)
while True:
    add_entry(path, "{{name: churn, command: [echo, churn]}}")
    remove_entry(path, "churn")
"""


def test_sigkill_never_leaves_a_torn_file(tmp_path: Path) -> None:
    path = _write(tmp_path)
    assert isinstance(add_entry(path, "{name: churn, command: [echo, churn]}"), Success)
    with_churn = Path(path).read_text()
    assert isinstance(remove_entry(path, "churn"), Success)
    assert Path(path).read_text() == BASE
    rng = random.Random(1234)
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", LOOPER.format(root=ROOT, path=path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.02, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        text = Path(path).read_text()
        assert isinstance(parse_registry_text(text, path), Success)
        assert text in (BASE, with_churn)  # the old file or the new one, never a mix
    # a killed editor's lock does not outlive it: the next edit goes through
    assert isinstance(add_entry(path, "{name: after, command: [x]}"), Success)
    assert "after" in _names(Path(path).read_text())


# --- stateful property: random adds and removes against a model ------------------------------

INITIAL = ["alpha", "beta", "gamma"]
POOL = INITIAL + ["d1", "d2", "d3"]


class RegistryEdits(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="omnibase-edit-")
        self.path = os.path.join(self.folder, "omnibase.yaml")
        with open(self.path, "w") as f:
            f.write(BASE)
        self.model: list[str] = list(INITIAL)
        self.touched: set[str] = set()  # initial entries removed at some point

    def teardown(self) -> None:
        if hasattr(self, "folder"):
            shutil.rmtree(self.folder, ignore_errors=True)

    @rule(name=st.sampled_from(POOL), flow=st.booleans())
    def add(self, name: str, flow: bool) -> None:
        entry = f"{{name: {name}, command: [echo, {name}]}}" if flow else f"name: {name}\npython: 'm:{name}'\n"
        result = add_entry(self.path, entry)
        if name in self.model:
            assert isinstance(result, Failure)
        else:
            assert isinstance(result, Success), result
            self.model.append(name)

    @rule(name=st.sampled_from(POOL))
    def remove(self, name: str) -> None:
        result = remove_entry(self.path, name)
        if name in self.model:
            assert isinstance(result, Success), result
            self.model.remove(name)
            self.touched.add(name)
        else:
            assert isinstance(result, Failure)

    @precondition(lambda self: hasattr(self, "path"))
    @invariant()
    def file_matches_model(self) -> None:
        with open(self.path) as f:
            text = f.read()
        assert _names(text, self.path) == self.model
        comments = _comments(text)
        assert "# header comment: the team's tools" in comments
        assert "# stop early in CI" in comments
        assert "# trailing comment" in comments
        for name in INITIAL:
            if name in self.touched:
                continue
            assert f"# about {name}" in comments
            if name != "beta":
                assert f"# inline {name}" in comments
            else:
                assert "# inside beta" in comments
        # and it is still the YAML a person wrote: the ci stage is untouched
        assert yaml.safe_load(text)["stages"] == {"ci": {"fail_fast": True}}


RegistryEdits.TestCase.settings = settings(
    max_examples=40, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
)
TestRegistryEdits = RegistryEdits.TestCase
