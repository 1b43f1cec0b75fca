"""The stage and mode tables through the real CLI: each stage's default selection, typed
entries left out of a filtered stage, one attempt under dry-run and profile, and replay
running re-executed steps concurrently under --jobs."""

from __future__ import annotations

import json
import sys

import pytest

pytestmark = pytest.mark.e2e

#: One component of each kind a stage's default filter tells apart.
MIXED = """\
components:
- {name: lint, type: validator, lifecycle: stable, tags: [pre-commit], command: ['true'], pass_filenames: false}
- {name: canary-lint, type: validator, lifecycle: canary, tags: [pre-commit], command: ['true'], pass_filenames: false}
- {name: old-lint, type: validator, lifecycle: deprecated, tags: [pre-commit], command: ['true'], pass_filenames: false}
- {name: new-tool, type: tool, lifecycle: experimental, tags: [pre-commit], command: ['true'], pass_filenames: false}
- {name: unit, type: test, lifecycle: stable, command: ['true'], pass_filenames: false}
- {name: build, type: tool, lifecycle: stable, command: ['true'], pass_filenames: false}
"""
OURS = {"lint", "canary-lint", "old-lint", "new-tool", "unit", "build"}


def _selected(cli, stage: str) -> set[str]:  # type: ignore[no-untyped-def]
    done = cli("orch", "--stage", stage, "--list", "--format", "json", "--all-files")
    assert done.code == 0, done
    return {row["name"] for row in json.loads(done.out)["selected"]} & OURS


def test_each_stage_selects_what_the_docs_say_by_default(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({"omnibase.yaml": MIXED, "a.py": "x = 1\n"})
    assert _selected(cli, "pre-commit") == {"lint", "canary-lint"}
    assert _selected(cli, "test") == {"unit"}
    assert _selected(cli, "ci") == {"lint", "canary-lint", "old-lint", "unit", "build"}


TYPED = """\
components:
- {name: words, type: validator, python: 'words:count', input: str, output: int}
- {name: ok, type: validator, command: ['true'], pass_filenames: false}
"""


def test_a_typed_entry_is_left_out_of_ci_and_the_rest_runs(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({
        "omnibase.yaml": TYPED,
        "words.py": "from returns.result import Success\n\ndef count(ctx, text):\n    return Success(len(text.split()))\n",
    })  # fmt: skip
    listed = cli("orch", "--stage", "ci", "--list", "--format", "json")
    assert listed.code == 0, listed
    data = json.loads(listed.out)
    assert "ok" in {r["name"] for r in data["selected"]}
    assert {"name": "words", "reason": "input type does not fit: takes str, the stage gives tuple[str, ...] (the files)"} in data["excluded"]
    done = cli("orch", "--stage", "ci", "--format", "json")
    assert done.code == 0, done
    report = json.loads(done.out)
    assert report["metadata"]["left_out"] == "words"
    names = {s["name"] for s in report["steps"]}
    assert "ok" in names and "words" not in names
    human = cli("orch", "--stage", "ci", "--format", "human", "--no-color")
    assert "left out (input type does not fit): words" in human.out, human


def test_the_pipeline_stage_still_refuses_a_misfit_before_running(repo, cli):  # type: ignore[no-untyped-def]
    repo.seed({
        "omnibase.yaml": "components:\n- {name: a, python: 'm:a', output: int}\n- {name: b, python: 'm:b', input: str}\n",
        "m.py": "from returns.result import Success\n\ndef a(ctx, x):\n    return Success(1)\n\ndef b(ctx, x):\n    return Success(x)\n",
    })  # fmt: skip
    done = cli("orch", "--stage", "pipeline", "--from", "a", "--to", "b", "--format", "json")
    assert done.code == 4, done


#: Pure and idempotent, fails with a transient exit code (75) and notes every call.
FLAKY = f"""\
components:
- name: flaky
  type: validator
  pure: true
  idempotent: true
  retry: {{max_attempts: 3, initial: 0, jitter: 0, transient_exit_codes: [75]}}
  command: [{sys.executable!r}, -c, "open('calls.log', 'a').write('call\\\\n'); raise SystemExit(75)"]
  pass_filenames: false
"""


@pytest.mark.parametrize(("flags", "calls"), [((), 3), (("--mode", "dry-run"), 1), (("--dry-run",), 1), (("--mode", "profile"), 1)])
def test_dry_run_and_profile_make_one_attempt(repo, cli, flags, calls):  # type: ignore[no-untyped-def]
    repo.seed({"omnibase.yaml": FLAKY})
    done = cli("orch", "--stage", "ci", "--format", "json", *flags)
    assert done.code == 1, done
    assert (repo.root / "calls.log").read_text().count("call") == calls
    report = json.loads(done.out)
    assert report["metadata"].get("retries", "on") == ("on" if calls > 1 else "off")
    if calls == 1:
        listed = cli("orch", "--stage", "ci", "--list", "--format", "json", *flags)
        assert {r["name"]: r["retry"] for r in json.loads(listed.out)["selected"]}["flaky"].startswith("no retry: --mode")


#: Each step notes its start, then waits until all four have started (or 20 s went by):
#: run one after another, the first would wait alone and fail.
MEET = """\
import os, sys, time
name = sys.argv[1]
if not os.path.exists("go"):
    raise SystemExit(1)
open(f"started-{name}", "w").close()
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    met = sorted(n for n in os.listdir(".") if n.startswith("started-"))
    if len(met) == 4:
        open(f"met-{name}", "w").write(" ".join(met))
        raise SystemExit(0)
    time.sleep(0.02)
raise SystemExit(1)
"""


def test_replay_runs_independent_reexecuted_steps_concurrently(repo, cli):  # type: ignore[no-untyped-def]
    entries = "".join(
        f"- {{name: {n}, type: validator, command: [{sys.executable!r}, meet.py, {n}], pass_filenames: false}}\n"
        for n in ("w1", "w2", "w3", "w4")
    )
    repo.seed({"omnibase.yaml": "components:\n" + entries, "meet.py": MEET})
    first = cli("orch", "--stage", "ci", "--format", "json")
    assert first.code == 1, first
    snapshot = json.loads(first.out)["snapshot"]
    (repo.root / "go").write_text("")
    again = cli("orch", "--mode", "replay", "--snapshot", snapshot, "--jobs", "4", "--format", "json")
    assert again.code == 0, again
    met = sorted(p.name for p in repo.root.glob("met-*"))
    assert met == ["met-w1", "met-w2", "met-w3", "met-w4"]  # each saw all four running at once
