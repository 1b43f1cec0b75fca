"""components/pytest_runner.py and junit_cases.py: detection, selection, verdicts, JUnit."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnibase.components.junit_cases import parse_junit, read_junit
from omnibase.components.pytest_runner import PytestRunner, case_selection, verdict, wants_pytest
from omnibase.core.select import parse_filter
from omnibase.core.testcases import TestCase
from omnibase.core.values import Failed, Misconfigured, Skip


@pytest.mark.parametrize(
    ("name", "text", "wanted"),
    [
        ("pyproject.toml", "[tool.pytest.ini_options]\naddopts = '-q'\n", True),
        ("pyproject.toml", "[tool.black]\nline-length = 100\n", False),
        ("setup.cfg", "[tool:pytest]\naddopts = -q\n", True),
        ("setup.cfg", "[metadata]\nname = x\n", False),
        ("tox.ini", "[pytest]\naddopts = -q\n", True),
        ("tox.ini", "[tox]\nenvlist = py311\n", False),
        ("pytest.ini", "[pytest]\n", True),
    ],
)
def test_wants_pytest_reads_the_files_pytest_reads(tmp_path: Path, name: str, text: str, wanted: bool) -> None:
    (tmp_path / name).write_text(text)
    assert wants_pytest(str(tmp_path)) is wanted


def test_a_tests_folder_is_enough(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    assert wants_pytest(str(tmp_path))


def test_tag_clauses_become_a_marker_expression_and_names_select_cases() -> None:
    rest, markers, names = case_selection(parse_filter("tag=slow|db,tag!=flaky,name=test_a*|test_b").unwrap())
    assert markers == "(slow or db) and not (flaky)"
    assert names == ("test_a*", "test_b")
    assert rest.render() == "tag=slow|db,tag!=flaky,name=test_a*|test_b|pytest"


def test_a_name_glob_that_picks_the_runner_itself_selects_no_cases() -> None:
    rest, markers, names = case_selection(parse_filter("name=py*").unwrap())
    assert (rest.render(), markers, names) == ("name=py*", "", ())


def test_argv_passes_the_options_through() -> None:
    argv = PytestRunner(python="py", markers="slow", maxfail=3, exitfirst=True, jobs=2).argv(xdist=True)
    assert argv[:3] == ["py", "-m", "pytest"]
    assert argv[argv.index("-m", 3) + 1] == "slow"
    assert ["--maxfail", "3"] == argv[argv.index("--maxfail") : argv.index("--maxfail") + 2]
    assert "-x" in argv and argv[-2:] == ["-n", "2"]
    assert "-n" not in PytestRunner(jobs=2).argv(xdist=False)


def test_verdicts_follow_pytest_s_exit_codes() -> None:
    failed = [TestCase(name="a", outcome="failed", message="boom"), TestCase(name="b", outcome="passed")]
    one = verdict(["py"], 1, "", True, failed).failure()
    assert isinstance(one, Failed) and one.message == "FAILED a - boom" and not one.transient
    flaky = verdict(["py"], 1, "", True, [TestCase(name="a", outcome="failed", flaky=True)]).failure()
    assert isinstance(flaky, Failed) and flaky.transient
    assert isinstance(verdict(["py"], 5, "", True, []).unwrap(), Skip)
    assert isinstance(verdict(["py"], 4, "usage", True, []).failure(), Misconfigured)
    unknown = [TestCase(name="t.py", outcome="error", message="'x' not found in `markers` configuration option")]
    assert isinstance(verdict(["py"], 2, "", True, unknown).failure(), Misconfigured)
    broken_module = [TestCase(name="t.py", outcome="error", message="ImportError: no")]
    assert isinstance(verdict(["py"], 2, "", True, broken_module).failure(), Failed)


def test_junit_elements_become_cases(tmp_path: Path) -> None:
    xml = (
        '<testsuites><testsuite><testcase classname="m.C" name="ok" time="0.25"/>'
        '<testcase classname="m.C" name="bad"><error message="setup broke&#10;more">tb</error></testcase>'
        '<testcase name="bare"><skipped message="later"/></testcase></testsuite></testsuites>'
    )
    found = parse_junit(xml)
    assert [(c.name, c.outcome, c.message) for c in found] == [
        ("m.C::ok", "passed", ""), ("m.C::bad", "error", "setup broke"), ("bare", "skipped", "later"),
    ]  # fmt: skip
    assert found[0].duration_s == 0.25 and found[1].traceback == "tb"
    assert parse_junit("<not xml") == []
    assert read_junit(str(tmp_path), "missing.xml") == []
