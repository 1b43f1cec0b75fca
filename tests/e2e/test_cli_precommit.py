"""The real CLI on real git repositories: the pre-commit stage with no configuration."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e


def test_clean_staged_files_pass_with_exit_0(repo, cli):
    repo.write("a.py", "x = 1\n")
    repo.write("conf.yaml", "a: 1\n")
    repo.stage("a.py", "conf.yaml")
    r = cli("orch", "--stage", "pre-commit", "--format", "json")
    assert r.code == 0, r
    report = json.loads(r.out)
    assert report["exit_code"] == 0
    statuses = {s["name"]: s["status"] for s in report["steps"]}
    assert statuses["check-yaml"] == "PASS"
    assert statuses["check-ast"] == "PASS"
    assert statuses["check-json"] == "SKIP"  # no json file staged


def test_only_staged_files_are_checked_by_default(repo, cli):
    repo.write("bad.json", "{not json\n")
    repo.write("good.json", "{}\n")
    repo.stage("good.json")
    r = cli("orch", "--format", "json")
    assert r.code == 0, r
    r = cli("orch", "--format", "json", "--all-files")
    assert r.code == 0, r  # bad.json is not tracked, so --all-files does not see it either
    repo.stage("bad.json")
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    failed = [s for s in json.loads(r.out)["steps"] if s["status"] == "FAIL"]
    assert [s["name"] for s in failed] == ["check-json"]
    assert "bad.json" in failed[0]["error"]["message"]


def test_fixers_rewrite_files_and_fail_then_pass(repo, cli):
    repo.write("notes.txt", "trailing   \nno final newline")
    repo.stage("notes.txt")
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    assert (repo.root / "notes.txt").read_bytes() == b"trailing\nno final newline\n"
    repo.stage("notes.txt")
    r = cli("orch", "--format", "json")
    assert r.code == 0, r


def test_dry_run_changes_no_file_and_shows_the_diff(repo, cli):
    repo.write("notes.txt", "trailing   \n")
    repo.stage("notes.txt")
    r = cli("orch", "--format", "json", "--dry-run")
    assert (repo.root / "notes.txt").read_bytes() == b"trailing   \n"
    failed = [s for s in json.loads(r.out)["steps"] if s["status"] == "FAIL"]
    assert [s["name"] for s in failed] == ["trailing-whitespace"]
    assert "-trailing   " in failed[0]["error"]["data"]["diff"]


def test_explicit_paths_are_checked(repo, cli):
    repo.write("x.yaml", "a: [1\n")
    r = cli("orch", "--format", "json", "x.yaml")
    assert r.code == 1, r


def test_list_says_what_would_run_and_why_not(repo, cli):
    r = cli("orch", "--list", "--format", "json", "--filter", "name=check-*")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert "check-yaml" in [c["name"] for c in data["selected"]]
    reasons = {c["name"]: c["reason"] for c in data["excluded"]}
    assert "name=check-*" in reasons["trailing-whitespace"]


def test_malformed_filter_is_exit_2_naming_the_column(repo, cli):
    r = cli("orch", "--filter", "type=validator,,")
    assert r.code == 2, r
    assert "column 16" in r.err
    assert "Traceback" not in r.err
    assert r.out == ""


def test_nothing_selected_is_exit_1_and_says_so(repo, cli):
    r = cli("orch", "--filter", "tag=no-such-tag", "--all-files")
    assert r.code == 1, r
    assert "nothing selected" in r.err


def test_outside_a_git_repository_is_exit_2(tmp_path, cli):
    r = cli("orch", cwd=tmp_path)
    assert r.code == 2, r
    assert "not inside a git repository" in r.err


def test_human_output_fits_100_columns_and_ascii_under_ci(repo, cli):
    repo.write("a.py", "x = (\n")
    repo.stage("a.py")
    r = cli("orch", "--format", "human", env={"CI": "true"})
    assert r.code == 1, r
    assert r.out.isascii()
    assert "\x1b" not in r.out
    assert all(len(line) <= 100 for line in r.out.splitlines())
    assert "check-ast" in r.out


def test_yaml_output_loads(repo, cli):
    import yaml

    repo.write("a.py", "x = 1\n")
    repo.stage("a.py")
    r = cli("orch", "--format", "yaml")
    assert r.code == 0, r
    assert yaml.safe_load(r.out)["exit_code"] == 0


def test_report_file_is_written(repo, cli, tmp_path):
    repo.write("a.py", "x = 1\n")
    repo.stage("a.py")
    target = tmp_path / "report.json"
    r = cli("orch", "--format", "json", "-o", str(target))
    assert r.code == 0, r
    assert json.loads(target.read_text()) == json.loads(r.out)


def test_report_schema_is_json_schema(repo, cli):
    import jsonschema

    r = cli("report", "--schema")
    assert r.code == 0, r
    schema = json.loads(r.out)
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)  # a valid JSON Schema of its declared draft
    # it describes what the CLI writes: a real run's report passes, a broken one does not
    repo.seed({"a.py": "x = 1\n", "b.json": "{nope\n"})
    run = cli("orch", "--all-files", "--format", "json")
    assert run.code == 1, run
    report = json.loads(run.out)
    validator(schema).validate(report)
    for broken in ({**report, "exit_code": "1"}, {k: v for k, v in report.items() if k != "steps"},
                   {**report, "steps": [{**report["steps"][0], "status": "MAYBE"}]}):
        assert not validator(schema).is_valid(broken), broken


def test_version(cli):
    r = cli("--version")
    assert r.code == 0 and r.out.startswith("omnibase ")


def test_registry_exclude_keeps_files_out_of_every_check(repo, cli):
    repo.write("omnibase.yaml", 'version: 1\nexclude: "^vendor/"\ncomponents: []\n')
    repo.write("vendor/bad.json", "{nope\n")
    repo.write("mine.json", "{}\n")
    repo.stage("omnibase.yaml", "vendor/bad.json", "mine.json")
    r = cli("orch", "--format", "json")
    assert r.code == 0, r
