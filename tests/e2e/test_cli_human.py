"""The human report, as a person sees it through the real CLI: failures first with what to
do next, every status line in the same columns, the replay hint only where a replay gains
something and then whole (it pastes), no warning for a retry that succeeded, and a type
mismatch blamed on the element at fault."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tests.e2e.conftest import _env

pytestmark = pytest.mark.e2e

#: ASCII, as under CI (the spec's fallback); the e2e environment has no terminal anyway.
PLAIN = {"CI": "true"}
#: Emoji (no colour: stdout is not a terminal).
FANCY = {"CI": "false", "TERM": "xterm"}

CHECKS = """\
version: 1
components:
  - name: fine
    tags: [t]
    pass_filenames: false
    command: [sh, -c, 'true']
  - name: flaky
    tags: [t]
    idempotent: true
    pass_filenames: false
    retry: {max_attempts: 3, initial: 0.01, transient_exit_codes: [75]}
    command: [sh, -c, 'if [ -e tried ]; then exit 0; else touch tried; exit 75; fi']
  - name: a-check-with-a-rather-long-name-that-still-fits
    tags: [t]
    pass_filenames: false
    command: [sh, -c, 'echo "line 3: this is wrong"; test -e fixed']
  - name: skipped
    tags: [t]
    pass_filenames: false
    command: [sh, -c, 'true']
"""

FAILING = "a-check-with-a-rather-long-name-that-still-fits"
_STATUS = re.compile(r"^(?P<name>\S+?)\.{2,} (?P<badge>\[(?:PASS|FAIL|WARN|SKIP|TIME)\]|\S+ (?:PASS|FAIL|WARN|SKIP|TIME))")


def _checks(repo: Any, cli: Any, env: dict[str, str], *args: str) -> Any:
    (repo.root / "tried").unlink(missing_ok=True)
    return cli("orch", "--stage", "ci", "--tags", "t", "--skip", "skipped", "--format", "human", *args, env=env)


def _status_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if _STATUS.match(line)]


def test_every_status_line_has_its_verdict_time_and_attempts_in_the_same_columns(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"omnibase.yaml": CHECKS})
    r = _checks(repo, cli, PLAIN)
    assert r.code == 1, r
    lines = _status_lines(r.out)
    names = [_STATUS.match(line).group("name") for line in lines]  # type: ignore[union-attr]
    assert sorted(names) == sorted([FAILING, "fine", "flaky", "skipped"]), r.out
    verdicts = {line.index("[") for line in lines}
    assert len(verdicts) == 1, "\n" + "\n".join(lines)  # the --skip-ped line and the x2 line too
    timed = [line for line in lines if re.search(r"\] +\d+\.\d\ds", line)]
    assert {re.search(r"\d+\.\d\ds", line).end() for line in timed} == {verdicts.pop() + 6 + 1 + 5}  # type: ignore[union-attr]
    (skipped,) = [line for line in lines if line.startswith("skipped.")]
    assert skipped.endswith("[SKIP]")
    (flaky,) = [line for line in lines if line.startswith("flaky.")]
    assert flaky.endswith("[PASS] " + re.search(r"\d+\.\d\ds", flaky).group() + " x2")  # type: ignore[union-attr]
    assert all(len(line) <= 100 for line in r.out.splitlines()), r.out
    assert r.out.isascii()


def test_with_emoji_the_verdicts_still_share_a_column(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"omnibase.yaml": CHECKS})
    r = _checks(repo, cli, FANCY)
    lines = _status_lines(r.out)
    assert "❌ FAIL" in r.out and "⏭️ SKIP" in r.out and "✅ PASS" in r.out
    # the names and dots are ASCII: the verdict starts at the same character on every line
    assert len({len(re.match(r"^\S+?\.+ ", line).group()) for line in lines}) == 1, r.out  # type: ignore[union-attr]
    assert "\x1b[" not in r.out  # no colour off a terminal


def test_failures_come_first_with_what_to_do_next_and_that_command_works(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"omnibase.yaml": CHECKS})
    r = _checks(repo, cli, PLAIN)
    lines = r.out.splitlines()
    assert lines[0].startswith(FAILING + ".") and "[FAIL]" in lines[0], r.out
    assert lines[1] == "    line 3: this is wrong"
    at = lines.index("next: fix what failed, then run only that again:")
    assert lines[at + 1] == "  omnibase orch --stage ci --only-failed"
    assert lines[at + 2].startswith("3 passed, 1 failed") or lines[at + 2].startswith("2 passed, 1 failed"), r.out
    # the advice is right: after the fix, that command runs the failed check alone, and passes
    repo.write("fixed", "")
    again = cli(*lines[at + 1].split()[1:], "--format", "json", env=PLAIN)
    assert again.code == 0, again
    assert [s["name"] for s in json.loads(again.out)["steps"]] == [FAILING]


def test_a_plain_failed_check_gets_no_snapshot_or_replay_hint(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"omnibase.yaml": CHECKS})
    r = _checks(repo, cli, PLAIN)
    assert r.code == 1, r
    assert "snapshot" not in r.out and "replay" not in r.out, r.out
    written = json.loads(_checks(repo, cli, PLAIN, "--format", "json").out)["snapshot"]
    assert (repo.root / written).is_file()  # the snapshot is still written, for `snapshot list`


def test_a_pre_commit_failure_says_to_stage_the_fixes(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"omnibase.yaml": CHECKS.replace("tags: [t]", "tags: [pre-commit]")})
    repo.write("a.txt", "a\n")
    repo.stage("a.txt")
    r = cli("orch", "--format", "human", env=PLAIN)
    assert r.code == 1, r
    at = r.out.splitlines().index("next: fix what failed and git add the fixes, then run only that again:")
    assert r.out.splitlines()[at + 1] == "  omnibase orch --stage pre-commit --only-failed"


PLUGIN = """\
import msgspec
from returns.result import Result, Success
from omnibase import ExecCtx, component


class Item(msgspec.Struct, frozen=True):
    name: str


@component
def words(ctx: ExecCtx, value: object) -> Result[list[str], str]:
    return Success(["a", "b", "c", "d"])


@component
def items(ctx: ExecCtx, names: list[str]) -> Result[list[Item], str]:
    made: list[object] = [Item(n) for n in names]
    made[3] = 3
    return Success(made)  # type: ignore[arg-type]


def counts(ctx, names):
    return Success([1, 2, "3"])
"""

PIPELINE = """\
version: 1
components:
  - name: words
    tags: [pipe]
    python: "plugin:words"
  - name: items
    tags: [pipe]
    python: "plugin:items"
  - name: counts
    tags: [pipe]
    python: "plugin:counts"
    input: list[str]
    output: list[int]
"""


def test_a_pipeline_failure_gets_one_replay_hint_whole_and_it_pastes(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"plugin.py": PLUGIN, "omnibase.yaml": PIPELINE})
    r = cli("orch", "--stage", "pipeline", "--from", "words", "--to", "items", "--format", "human", env={**PLAIN, "COLUMNS": "220"})
    assert r.code == 4, r
    lines = r.out.splitlines()
    assert lines.count("next: replay the failure; what passed is not run again:") == 1, r.out
    at = lines.index("next: replay the failure; what passed is not run again:")
    hint = lines[at + 1 : at + 3]
    assert hint[0] == "  omnibase orch --mode replay --snapshot \\", r.out  # too long for one line
    assert re.fullmatch(r"    \.git/omnibase/snapshots/\S+\.json", hint[1]), r.out  # the path alone, whole
    assert "..." not in "".join(hint) and "…" not in "".join(hint)
    assert r.out.count(".git/omnibase/snapshots/") == 1  # once
    assert "snapshot:" not in r.out
    assert all(len(line) <= 100 for line in lines), r.out
    # pasted into a shell as shown (the continuation included), it replays that snapshot
    pasted = "\n".join(hint).replace("omnibase orch", f"{_python()} -m omnibase orch", 1) + " --format json"
    done = subprocess.run(["bash", "-c", pasted], cwd=repo.root, capture_output=True, text=True, env=_env(PLAIN), timeout=120)
    assert done.returncode == 4, done.stderr
    replayed = json.loads(done.stdout)
    assert replayed["metadata"]["mode"] == "replay" and replayed["metadata"]["replayed_from"] == hint[1].strip()


def _python() -> str:
    import sys

    return sys.executable


def test_a_type_mismatch_names_the_element_in_the_worker_and_in_the_parent(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"plugin.py": PLUGIN, "omnibase.yaml": PIPELINE})
    own = cli("orch", "--stage", "pipeline", "--from", "words", "--to", "items", "--format", "human", env=PLAIN)
    assert own.code == 4, own
    assert "    items returned list, declared list[Item]: [3]: expected Item, got int" in own.out.splitlines(), own.out
    named = cli("orch", "--stage", "pipeline", "--from", "words", "--to", "counts", "--format", "human", env=PLAIN)
    assert named.code == 4, named
    assert "    counts returned list, declared list[int]: [2]: expected int, got str" in named.out.splitlines(), named.out
    assert "returned list, declared list[Item]\n" not in own.out  # never the list blamed alone


def test_a_retry_that_succeeded_is_shown_in_its_line_not_as_a_warning(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"omnibase.yaml": CHECKS})
    r = _checks(repo, cli, PLAIN)
    (flaky,) = [line for line in r.out.splitlines() if line.startswith("flaky.")]
    assert flaky.endswith(" x2") and "[PASS]" in flaky
    assert "retry" not in r.err and "warning" not in r.err, r.err
    verbose = _checks(repo, cli, PLAIN, "-v")
    assert re.search(r"\[info\s*\] retry .*component=flaky", verbose.err), verbose.err  # still there for -v


SLOW = """\
version: 1
components:
  - name: sleepy
    tags: [t]
    timeout: 0.5
    pass_filenames: false
    command: [sh, -c, 'sleep 5']
"""


def test_beside_a_human_report_the_logs_do_not_repeat_what_it_shows(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"omnibase.yaml": SLOW})
    human = cli("orch", "--stage", "ci", "--tags", "t", "--format", "human", env=PLAIN)
    assert human.code == 1, human
    (line,) = [line for line in human.out.splitlines() if line.startswith("sleepy.")]
    assert "[TIME]" in line
    assert "    timed out after 0.5s" in human.out.splitlines()
    assert human.err == "", human.err  # the report said it; no "[warning] timeout" line too
    machine = cli("orch", "--stage", "ci", "--tags", "t", "--format", "json", env=PLAIN)
    assert re.search(r"\[warning\s*\] timeout .*component=sleepy", machine.err), machine.err  # for whoever reads logs
