"""End to end: ``orch --stage test`` runs a scratch project's real pytest suite with no
configuration, and reports every test case (issue 20)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import Repo

PYPROJECT = """\
[tool.pytest.ini_options]
markers = ["slow: takes a while", "db: needs the database"]
"""

SUITE = """\
import pytest

def test_pass():
    assert True

def test_fail():
    assert 1 == 2

@pytest.mark.skip(reason="not today")
def test_skip():
    pass

@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

def test_error(broken):
    pass

@pytest.mark.slow
def test_slow():
    pass

@pytest.mark.db
def test_db():
    pass
"""

#: What a person expects pytest to say of each case above.
EXPECTED = {
    "tests/test_suite.py::test_pass": "passed",
    "tests/test_suite.py::test_fail": "failed",
    "tests/test_suite.py::test_skip": "skipped",
    "tests/test_suite.py::test_xfail": "xfailed",
    "tests/test_suite.py::test_error": "error",
    "tests/test_suite.py::test_slow": "passed",
    "tests/test_suite.py::test_db": "passed",
}


def _cases(out: str) -> dict[str, dict[str, Any]]:
    report = json.loads(out)
    (step,) = report["steps"]
    holder = step["value"] if step["status"] == "PASS" else step["error"]["data"]
    return {case["name"]: case for case in holder["tests"]}


@pytest.fixture
def project(repo: Repo) -> Repo:
    return repo.seed({"pyproject.toml": PYPROJECT, "tests/test_suite.py": SUITE})


def test_every_case_is_reported_with_its_outcome(project: Repo, cli: Any) -> None:
    done = cli("orch", "--stage", "test", "--format", "json")
    assert done.code == 1, done
    cases = _cases(done.out)
    assert {name: c["outcome"] for name, c in cases.items()} == EXPECTED
    failed = cases["tests/test_suite.py::test_fail"]
    assert failed["message"] == "assert 1 == 2"
    assert (failed["path"], failed["line"]) == ("tests/test_suite.py", 7)
    assert "assert 1 == 2" in failed["traceback"]
    assert cases["tests/test_suite.py::test_skip"]["message"] == "not today"
    assert "fixture broke" in cases["tests/test_suite.py::test_error"]["message"]


def test_human_view_lists_failures_as_pytest_summary_does(project: Repo, cli: Any) -> None:
    done = cli("orch", "--stage", "test", "--format", "human")
    assert done.code == 1, done
    assert "FAILED tests/test_suite.py::test_fail - assert 1 == 2" in done.out
    assert "ERROR tests/test_suite.py::test_error - RuntimeError: fixture broke" in done.out


def test_tags_select_pytest_markers(project: Repo, cli: Any) -> None:
    done = cli("orch", "--stage", "test", "--tags", "slow", "--format", "json")
    assert done.code == 0, done
    assert list(_cases(done.out)) == ["tests/test_suite.py::test_slow"]
    both = cli("orch", "--stage", "test", "--tags", "slow,db", "--format", "json")
    assert sorted(_cases(both.out)) == ["tests/test_suite.py::test_db", "tests/test_suite.py::test_slow"]


def test_filter_name_selects_test_ids(project: Repo, cli: Any) -> None:
    done = cli("orch", "--stage", "test", "--filter", "name=test_pa*", "--format", "json")
    assert done.code == 0, done
    assert list(_cases(done.out)) == ["tests/test_suite.py::test_pass"]


def test_only_failed_reruns_exactly_the_failed_cases(project: Repo, cli: Any) -> None:
    first = cli("orch", "--stage", "test", "--format", "json")
    assert first.code == 1, first
    again = cli("orch", "--stage", "test", "--only-failed", "--format", "json")
    assert again.code == 1, again
    assert sorted(_cases(again.out)) == ["tests/test_suite.py::test_error", "tests/test_suite.py::test_fail"]


def test_maxfail_passes_through(project: Repo, cli: Any) -> None:
    done = cli("orch", "--stage", "test", "--maxfail", "1", "--format", "json")
    assert done.code == 1, done
    cases = _cases(done.out)
    assert "tests/test_suite.py::test_fail" in cases
    assert "tests/test_suite.py::test_db" not in cases  # pytest stopped at the first failure


def test_unknown_marker_in_strict_mode_is_exit_2(repo: Repo, cli: Any) -> None:
    repo.seed({
        "pytest.ini": "[pytest]\naddopts = --strict-markers\n",
        "tests/test_m.py": "import pytest\n\n@pytest.mark.nosuchmarker\ndef test_x():\n    pass\n",
    })  # fmt: skip
    done = cli("orch", "--stage", "test", "--format", "json")
    assert done.code == 2, done
    assert "nosuchmarker" in done.out


def test_an_environment_without_pytest_is_exit_3(repo: Repo, cli: Any) -> None:
    repo.seed({"tests/test_a.py": "def test_a():\n    pass\n"})
    # the project's own environment, which lacks pytest
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(repo.root / ".venv")], check=True)
    done = cli("orch", "--stage", "test", "--format", "json")
    assert done.code == 3, done
    assert "cannot import pytest" in done.out


def test_flaky_case_is_retried_and_the_report_shows_attempts(repo: Repo, cli: Any, tmp_path: Path) -> None:
    marker = tmp_path / "ran-once"
    repo.seed({
        "tests/test_f.py": (
            "import os, pytest\n\n"
            "def test_steady():\n    pass\n\n"
            "@pytest.mark.flaky\n"
            "def test_wobbly():\n"
            f"    path = {str(marker)!r}\n"
            "    if not os.path.exists(path):\n"
            "        open(path, 'w').close()\n"
            "        assert False, 'first try fails'\n"
        ),
    })  # fmt: skip
    done = cli("orch", "--stage", "test", "--format", "json")
    assert done.code == 0, done
    report = json.loads(done.out)
    assert report["steps"][0]["attempts"] == 2
    cases = _cases(done.out)
    assert cases["tests/test_f.py::test_wobbly"]["attempts"] == 2
    assert cases["tests/test_f.py::test_wobbly"]["outcome"] == "passed"
    assert cases["tests/test_f.py::test_steady"]["attempts"] == 1


def test_junit_output_validates_and_holds_pytests_own_cases(project: Repo, cli: Any, tmp_path: Path) -> None:
    lxml = pytest.importorskip("lxml.etree")
    done = cli("orch", "--stage", "test", "--format", "junit")
    assert done.code == 1, done
    ours = lxml.fromstring(done.out.encode())
    schema = lxml.XMLSchema(lxml.parse(str(Path(__file__).parent.parent / "fixtures" / "junit.xsd")))
    assert schema.validate(ours), schema.error_log
    own_file = tmp_path / "own.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={own_file}"],
        cwd=project.root, capture_output=True, check=False,
    )  # fmt: skip
    theirs = lxml.parse(str(own_file)).getroot()

    def cases(root: Any) -> list[tuple[str, str, tuple[str, ...]]]:
        verdicts = ("failure", "error", "skipped")
        return sorted(
            (c.get("classname"), c.get("name"), tuple(ch.tag for ch in c if ch.tag in verdicts)) for c in root.iter("testcase")
        )

    assert cases(ours) == cases(theirs)
    assert len(cases(ours)) == len(EXPECTED)


def test_sarif_and_github_point_at_the_failing_test(project: Repo, cli: Any) -> None:
    github = cli("orch", "--stage", "test", "--format", "github")
    assert "::error file=tests/test_suite.py,line=7," in github.out, github
    sarif = json.loads(cli("orch", "--stage", "test", "--format", "sarif").out)
    places = {
        (loc["physicalLocation"]["artifactLocation"]["uri"], loc["physicalLocation"]["region"]["startLine"])
        for result in sarif["runs"][0]["results"]
        for loc in result.get("locations", [])
    }
    assert ("tests/test_suite.py", 7) in places


def test_no_tests_folder_nor_config_means_no_pytest_component(repo: Repo, cli: Any) -> None:
    repo.seed({"a.py": "x = 1\n"})
    done = cli("orch", "--stage", "test", "--list")
    assert "pytest" not in done.out


def test_ci_runs_the_tests_only_after_the_checks_pass(project: Repo, cli: Any) -> None:
    project.seed({"bad.py": "x = 1   \n"})  # trailing whitespace: a check fails
    done = cli("orch", "--stage", "ci", "--format", "json")
    assert done.code == 1, done
    steps = {s["name"]: s for s in json.loads(done.out)["steps"]}
    assert steps["trailing-whitespace"]["status"] == "FAIL"
    assert steps["pytest"]["status"] == "SKIP"
    assert steps["pytest"]["attempts"] == 0
    project.write("omnibase.yaml", "version: 1\nstages:\n  ci:\n    tests_wait: false\n")
    told = cli("orch", "--stage", "ci", "--format", "json")
    cases = {s["name"]: s for s in json.loads(told.out)["steps"]}
    assert cases["pytest"]["status"] == "FAIL"  # told otherwise: the suite ran (and failed)


def test_ci_runs_checks_then_the_suite_when_they_pass(project: Repo, cli: Any) -> None:
    done = cli("orch", "--stage", "ci", "--format", "json")
    assert done.code == 1, done
    report = json.loads(done.out)
    steps = {s["name"]: s for s in report["steps"]}
    assert steps["check-ast"]["status"] == "PASS"
    assert set(_cases(json.dumps({"steps": [steps["pytest"]]}))) == set(EXPECTED)


def test_this_repository_ci_stage_lists_its_checks_mypy_and_suite(cli: Any) -> None:
    here = Path(__file__).resolve().parents[2]
    done = cli("orch", "--stage", "ci", "--list", "--format", "json", cwd=here)
    assert done.code == 0, done
    names = [c["name"] for c in json.loads(done.out)["selected"]]
    assert {"pytest", "mypy", "check-ast", "detect-private-key"} <= set(names)


def test_a_command_test_component_s_junit_file_is_read_into_cases(project: Repo, cli: Any) -> None:
    registry = (
        "version: 1\ncomponents:\n"
        "  - name: suite-by-command\n    type: test\n"
        f"    command: [{sys.executable}, -m, pytest, -q, -p, no:cacheprovider, --junitxml=out/junit.xml]\n"
        "    junit: out/junit.xml\n    pass_filenames: false\n    always_run: true\n"
    )
    project.write("omnibase.yaml", registry)
    done = cli("orch", "--stage", "test", "--filter", "name=suite-by-command", "--format", "json")
    assert done.code == 1, done
    step = next(s for s in json.loads(done.out)["steps"] if s["name"] == "suite-by-command")
    outcomes = {c["name"]: c["outcome"] for c in step["error"]["data"]["tests"]}
    # JUnit names a case classname::name; pytest's file marks an xfail's <skipped> as such
    assert outcomes == {
        "tests.test_suite::test_pass": "passed",
        "tests.test_suite::test_fail": "failed",
        "tests.test_suite::test_skip": "skipped",
        "tests.test_suite::test_xfail": "xfailed",
        "tests.test_suite::test_error": "error",
        "tests.test_suite::test_slow": "passed",
        "tests.test_suite::test_db": "passed",
    }


def test_jobs_runs_the_cases_on_xdist_workers_or_says_why_not(project: Repo, cli: Any) -> None:
    import importlib.util

    done = cli("orch", "--stage", "test", "--jobs", "2", "--format", "json")
    assert done.code == 1, done
    assert {n: c["outcome"] for n, c in _cases(done.out).items()} == EXPECTED  # every case, from the workers too
    argv = json.loads(done.out)["steps"][0]["error"]["data"]["argv"]
    if importlib.util.find_spec("xdist") is not None:
        assert argv[argv.index("-n") + 1] == "2"
    else:
        assert "-n" not in argv
        assert "pytest-xdist is not installed" in done.err


def test_jsonl_streams_each_case_while_pytest_still_runs(repo: Repo, tmp_path: Path) -> None:
    from tests.support import cli_env as _env

    go = tmp_path / "go"
    repo.seed({
        "tests/test_s.py": (
            "import os, time\n\n"
            "def test_first():\n    pass\n\n"
            "def test_second():\n"
            f"    deadline = time.time() + 60\n"
            f"    while not os.path.exists({str(go)!r}):\n"
            "        assert time.time() < deadline, 'never told to go'\n"
            "        time.sleep(0.02)\n"
        ),
    })  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnibase", "orch", "--stage", "test", "--format", "jsonl"],
        cwd=repo.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=_env(None),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        seen: list[dict[str, Any]] = []
        while not any(e["event"] == "case" for e in seen):  # test_second is still waiting
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            seen.append(json.loads(line))
        first = next(e for e in seen if e["event"] == "case")
        assert (first["name"], first["case"]["name"], first["case"]["outcome"]) == ("pytest", "tests/test_s.py::test_first", "passed")
        assert proc.poll() is None
        go.touch()
        rest = [json.loads(line) for line in proc.stdout]
    finally:
        go.touch()
        proc.wait(timeout=120)
    assert proc.returncode == 0
    events = [e["event"] for e in seen + rest]
    assert events.count("case") == 2 and events.index("step") > max(i for i, e in enumerate(events) if e == "case")
