"""The real CLI with a registry file: Python and command components, every exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support import cli_env

pytestmark = pytest.mark.e2e

PLUGIN = '''
from returns.result import Failure, Success
from omnibase import Failed, Skip


def count_files(ctx, value):
    return Success(len(ctx.files))


def upper(ctx, value):
    return Success(str(value).upper())


def length(ctx, value):
    return Success(len(value))


def not_a_result(ctx, value):
    return 42


def always_fails(ctx, value):
    return Failure(Failed(message="policy says no"))


def slow(ctx, value):
    import time
    print("started", flush=True)
    open("slow.started", "w").close()
    time.sleep(30)
    return Success(None)
'''

REGISTRY = """\
version: 1
# our own checks
components:
  - name: count
    type: validator
    tags: [pre-commit, ci]
    python: "plugin:count_files"
  - name: shellcheck-ish   # a command component
    type: validator
    tags: [ci]
    command: ["sh", "-c", "grep -L ok \\"$@\\" | grep . && exit 1 || exit 0", "sh"]
    files: "\\\\.txt$"
  - name: upper
    tags: [pipe]
    python: "plugin:upper"
    output: str
  - name: length
    tags: [pipe]
    python: "plugin:length"
    input: str
    output: int
  - name: again-upper
    tags: [pipe]
    python: "plugin:upper"
    input: str
"""


@pytest.fixture
def project(repo):
    return repo.seed({"plugin.py": PLUGIN, "omnibase.yaml": REGISTRY, "a.txt": "ok\n"})


def _steps(out: str) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(out)["steps"]}


def test_python_component_runs_in_its_stage(project, cli):
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=count")
    assert r.code == 0, r
    assert _steps(r.out)["count"]["value"] == 3  # a.txt, omnibase.yaml, plugin.py: the tracked files


def test_command_component_gets_its_files_and_fails_on_nonzero_exit(project, cli):
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=shellcheck-ish")
    assert r.code == 0, r
    project.write("b.txt", "bad\n")
    project.stage("b.txt")
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=shellcheck-ish")
    assert r.code == 1, r
    assert "b.txt" in _steps(r.out)["shellcheck-ish"]["error"]["message"]


def test_pipeline_feeds_output_to_input(project, cli):
    r = cli("orch", "--stage", "pipeline", "--from", "upper", "--to", "length", "--format", "json")
    assert r.code == 0, r
    report = json.loads(r.out)
    # the first component gets the selected files; upper makes a str of them; length counts it
    assert report["output"] == len(str(("a.txt", "omnibase.yaml", "plugin.py")))
    assert [s["name"] for s in report["steps"]] == ["upper", "length"]


def test_pipeline_type_mismatch_is_exit_4_before_anything_runs(project, cli):
    r = cli("orch", "--stage", "pipeline", "--from", "length", "--to", "again-upper", "--format", "json")
    assert r.code == 4, r
    assert json.loads(r.out)["steps"] == []
    assert "length produces int but again-upper takes str" in r.err


def test_unknown_pipeline_name_is_exit_3(project, cli):
    r = cli("orch", "--stage", "pipeline", "--from", "upper", "--to", "nope", "--format", "json")
    assert r.code == 3, r
    assert "nope" in r.err


def test_component_returning_a_non_result_is_exit_4(project, cli):
    project.write("omnibase.yaml", REGISTRY + '  - name: liar\n    tags: [ci]\n    python: "plugin:not_a_result"\n')
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=liar")
    assert r.code == 4, r
    assert _steps(r.out)["liar"]["error"]["type"] == "protocol"


def test_unresolvable_module_is_exit_3_naming_it(project, cli):
    project.write("omnibase.yaml", REGISTRY + '  - name: ghost\n    tags: [ci]\n    python: "no_such_module:fn"\n')
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=ghost")
    assert r.code == 3, r
    assert "no_such_module" in r.err
    assert "Traceback" not in r.err


def test_unresolvable_but_unselected_entry_does_not_block_others(project, cli):
    project.write("omnibase.yaml", REGISTRY + '  - name: ghost\n    tags: [ci]\n    python: "no_such_module:fn"\n')
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=count")
    assert r.code == 0, r


def test_missing_command_is_exit_3(project, cli):
    project.write("omnibase.yaml", REGISTRY + '  - name: nocmd\n    tags: [ci]\n    command: ["no-such-program-xyz"]\n    always_run: true\n')
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=nocmd")
    assert r.code == 3, r
    assert "no-such-program-xyz" in r.err


def test_malformed_yaml_is_exit_2_with_file_and_line(project, cli):
    project.write("omnibase.yaml", "version: 1\ncomponents:\n  - name: x\n    tags: [a, b\n")
    r = cli("orch", "--stage", "ci")
    assert r.code == 2, r
    assert "omnibase.yaml:" in r.err
    assert "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_schema_error_is_exit_2_naming_line_and_field(project, cli):
    project.write("omnibase.yaml", "version: 1\ncomponents:\n  - name: x\n    timeout: soon\n    command: ['true']\n")
    r = cli("orch", "--stage", "ci")
    assert r.code == 2, r
    assert "omnibase.yaml:4" in r.err
    assert "timeout" in r.err


def test_resource_limit_kill_is_exit_5(project, cli):
    entry = (
        "  - name: burner\n    tags: [ci]\n    always_run: true\n    pass_filenames: false\n"
        "    limits: {cpu_seconds: 1}\n"
        '    command: ["python3", "-c", "while True: pass"]\n'
    )
    project.write("omnibase.yaml", REGISTRY + entry)
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=burner", timeout=60)
    assert r.code == 5, r
    assert _steps(r.out)["burner"]["error"]["type"] == "resource"
    assert _steps(r.out)["burner"]["error"]["resource"] == "cpu"


def test_ctrl_c_is_exit_130_with_a_partial_report(project):
    project.write("omnibase.yaml", REGISTRY + '  - name: slow\n    tags: [ci]\n    python: "plugin:slow"\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnibase", "orch", "--stage", "ci", "--format", "json", "--filter", "name=count|slow"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli_env(None),
    )
    # What a component prints is captured into its result (stdout is the report's): wait
    # for the file it writes when it starts.
    deadline = time.monotonic() + 60
    while not (project.root / "slow.started").exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    report = json.loads(out[out.index("{"):])
    assert report["outcome"] == "interrupted"
    names = [s["name"] for s in report["steps"]]
    assert "count" in names
    assert report["steps"][-1]["error"]["type"] == "interrupted"


def test_registry_add_list_inspect_remove(project, cli):
    r = cli("registry", "add", "--entry", "{name: echo-ok, type: validator, tags: [ci], command: ['true'], always_run: true}")
    assert r.code == 0, r
    text = (project.root / "omnibase.yaml").read_text()
    assert "# our own checks" in text and "echo-ok" in text
    r = cli("registry", "list", "--format", "json")
    assert r.code == 0, r
    assert "echo-ok" in r.out and "check-yaml" in r.out
    r = cli("registry", "inspect", "echo-ok", "--format", "json")
    assert r.code == 0, r
    r = cli("registry", "add", "--entry", "{name: echo-ok, command: ['true']}")
    assert r.code == 2, r
    r = cli("registry", "remove", "echo-ok")
    assert r.code == 0, r
    assert "echo-ok" not in (project.root / "omnibase.yaml").read_text()
    r = cli("registry", "remove", "echo-ok")
    assert r.code == 3, r


def test_env_var_points_at_the_registry(project, cli, tmp_path):
    other = tmp_path / "elsewhere.yaml"
    other.write_text('version: 1\ncomponents:\n  - name: only-here\n    tags: [ci]\n    python: "plugin:count_files"\n')
    r = cli("orch", "--stage", "ci", "--list", "--format", "json", env={"OMNIBASE_REGISTRY": str(other)})
    assert r.code == 0, r
    assert "only-here" in r.out and '"count"' not in r.out


def test_test_stage_runs_an_external_test_runner(project, cli):
    project.write("test_small.py", "def test_ok():\n    assert 1 + 1 == 2\n")
    project.write(
        "omnibase.yaml",
        REGISTRY
        + f'  - name: pytest\n    type: test\n    always_run: true\n    pass_filenames: false\n'
        f'    command: ["{sys.executable}", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_small.py"]\n',
    )
    r = cli("orch", "--stage", "test", "--format", "json")
    assert r.code == 0, r
    assert [s["name"] for s in json.loads(r.out)["steps"]] == ["pytest"]
    project.write("test_small.py", "def test_ok():\n    assert 1 + 1 == 3\n")
    r = cli("orch", "--stage", "test", "--format", "json")
    assert r.code == 1, r
    assert "1 failed" in _steps(r.out)["pytest"]["error"]["message"]


def test_exitfirst_stops_at_the_first_failure(project, cli):
    first = '  - name: nope\n    tags: [ci]\n    python: "plugin:always_fails"\n'
    project.write("omnibase.yaml", REGISTRY.replace("components:\n", "components:\n" + first))
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=nope|count", "-x")
    assert r.code == 1, r
    assert [(s["name"], s["status"]) for s in json.loads(r.out)["steps"]] == [("nope", "FAIL"), ("count", "SKIP")]
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=nope|count")
    assert [s["status"] for s in json.loads(r.out)["steps"]] == ["FAIL", "PASS"]


def test_verbose_logs_go_to_stderr_with_the_trace_id(project, cli):
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", "name=count", "-v", "--log-format", "json")
    assert r.code == 0, r
    trace = json.loads(r.out)["trace_id"]
    ends = [e for e in map(json.loads, r.err.splitlines()) if e["event"] == "step.end"]
    assert [(e["component"], e["trace_id"]) for e in ends] == [("count", trace)]


def test_tags_select_components(project, cli):
    r = cli("orch", "--stage", "ci", "--tags", "ci", "--list", "--format", "json")
    assert r.code == 0, r
    assert [c["name"] for c in json.loads(r.out)["selected"]] == ["count", "shellcheck-ish"]


def test_list_says_which_components_are_never_retried(project, cli):
    r = cli("orch", "--stage", "pre-commit", "--list", "--format", "json")
    assert r.code == 0, r
    retry = {c["name"]: c["retry"] for c in json.loads(r.out)["selected"]}
    assert retry["trailing-whitespace"] == "retried when transient"  # built-ins are idempotent
    r = cli("orch", "--stage", "ci", "--tags", "ci", "--list", "--format", "json")
    entries = {c["name"]: c["retry"] for c in json.loads(r.out)["selected"]}
    assert set(entries.values()) <= {"retried when transient", "no retry: not idempotent"}
    assert "no retry: not idempotent" in entries.values()  # registry entries default to not idempotent
