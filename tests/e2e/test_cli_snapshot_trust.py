"""A snapshot is a file anyone could edit: a hand-edited one never makes omnibase write
outside the repository it runs in, and a malformed one is one line and exit 2 in every
command that reads it (issue 24, items 8 and 14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

READERS = (
    ("snapshot", "show", "{path}", "--format", "human"),
    ("report", "show", "{path}", "--graph", "text"),
    ("orch", "--mode", "replay", "--snapshot", "{path}", "--format", "json"),
)


@pytest.fixture
def failed(repo: Any, cli: Any, tmp_path: Path) -> tuple[Any, dict[str, Any], Path]:
    """A repository whose failed run (a trailing-whitespace fix, a broken json file) left a
    snapshot; beside it, outside, a file the fixer would gladly rewrite."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(b"victim   \n")
    repo.write("notes.txt", "trailing   \n")
    repo.write("bad.json", "{not json\n")
    repo.stage("notes.txt", "bad.json")
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    repo.write("notes.txt", "trailing   \n")  # the run fixed it: broken again for the replay
    return repo, json.loads((repo.root / json.loads(r.out)["snapshot"]).read_bytes()), outside


def _replay(repo: Any, cli: Any, doc: dict[str, Any] | str) -> Any:
    path = repo.root / "edited.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return cli("orch", "--mode", "replay", "--snapshot", str(path), "--format", "json")


def _one_line(r: Any, says: str) -> None:
    assert r.code == 2 and r.out == "", r
    assert r.err.startswith("omnibase: ") and len(r.err.strip().splitlines()) == 1 and says in r.err, r
    assert "Traceback" not in r.err and "internal error" not in r.err, r


@pytest.mark.parametrize(
    ("hostile", "says"),
    [
        ("{outside}/victim.txt", "leads outside the repository"),
        ("../outside/victim.txt", "names '..'"),
        ("sneaky/victim.txt", "leads through a symbolic link outside the repository"),
    ],
)
def test_a_replay_never_fixes_a_file_outside_the_repository(failed: Any, cli: Any, hostile: str, says: str) -> None:
    repo, doc, outside = failed
    (repo.root / "sneaky").symlink_to(outside)  # inside by name, outside once followed
    doc["ctx"]["files"] = [*doc["ctx"]["files"], hostile.format(outside=outside)]
    r = _replay(repo, cli, doc)
    _one_line(r, says)
    assert (outside / "victim.txt").read_bytes() == b"victim   \n"
    assert (repo.root / "notes.txt").read_bytes() == b"trailing   \n"  # refused before anything ran


def test_a_replay_never_uses_a_git_directory_elsewhere(failed: Any, cli: Any) -> None:
    repo, doc, outside = failed
    elsewhere = outside / "made" / ".git"
    doc["ctx"]["params"] = [p for p in doc["ctx"]["params"] if p[0] != "git_dir"] + [["git_dir", str(elsewhere)]]
    _one_line(_replay(repo, cli, doc), "is not this repository's git directory")
    assert not (outside / "made").exists()


def test_a_replay_runs_in_this_repository_whatever_root_the_snapshot_names(failed: Any, cli: Any) -> None:
    repo, doc, outside = failed
    doc["ctx"]["root"] = str(outside)
    r = _replay(repo, cli, doc)
    assert r.code == 1 and json.loads(r.out)["metadata"]["mode"] == "replay", r
    assert (outside / "victim.txt").read_bytes() == b"victim   \n" and sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    assert (repo.root / "notes.txt").read_bytes() == b"trailing\n"  # the fixer fixed this repository's file


def _too_deep_pipeline(doc: dict[str, Any]) -> str:
    doc = dict(doc, pipeline="@@")
    wrap = '{"kind": "profile", "name": "p", "children": ['
    return json.dumps(doc).replace('"@@"', wrap * 5000 + '{"kind": "component", "name": "x"}' + "]}" * 5000)


def _too_deep_values(doc: dict[str, Any]) -> str:
    return json.dumps(dict(doc, input="@@")).replace('"@@"', "[" * 5000 + "]" * 5000)


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (_too_deep_pipeline, "nested too deeply"),
        (_too_deep_values, "nested too deeply"),
        (lambda doc: json.dumps(dict(doc, created_at=-1.0)), "Expected `float` >= 0.0 - at `$.created_at`"),
        (lambda doc: json.dumps(dict(doc, created_at=1e300)), "at `$.created_at`"),
        (lambda doc: json.dumps(dict(doc, calls=[dict(doc["calls"][0], attempt=-2)])), "at `$.calls[0].attempt`"),
        (lambda doc: json.dumps(dict(doc, pipeline=dict(doc["pipeline"], kind="teleport"))), "unknown kind 'teleport'"),
    ],
)
def test_a_malformed_snapshot_is_one_line_and_exit_2_wherever_it_is_read(failed: Any, cli: Any, edit: Any, says: str) -> None:
    repo, doc, _ = failed
    path = repo.root / "edited.json"
    path.write_text(edit(doc))
    for reader in READERS:
        _one_line(cli(*[str(path) if a == "{path}" else a for a in reader]), says)


def test_a_retry_out_of_range_is_refused_with_where_it_is(failed: Any, cli: Any) -> None:
    repo, doc, _ = failed
    retry, where = _first_of_kind(doc["pipeline"], "retry", "$.pipeline")
    retry["retry"]["max_attempts"] = -1
    _one_line(_replay(repo, cli, doc), f"Expected `int` >= 1 - at `{where}.retry.max_attempts`")


def _first_of_kind(node: dict[str, Any], kind: str, where: str) -> tuple[dict[str, Any], str]:
    """The first node of ``kind`` in a snapshot's pipeline (depth first) and its JSON path."""
    if node["kind"] == kind:
        return node, where
    for i, child in enumerate(node.get("children") or []):
        try:
            return _first_of_kind(child, kind, f"{where}.children[{i}]")
        except LookupError:
            continue
    raise LookupError(kind)


def test_snapshot_show_prints_no_terminal_control_from_the_file(failed: Any, cli: Any) -> None:
    repo, doc, _ = failed
    doc["pipeline"]["name"] = "stage\x1b[2J\x1b]0;owned\x07"
    doc["ctx"]["stage"] = "pre-commit\x1b[31m"
    path = repo.root / "edited.json"
    path.write_text(json.dumps(doc))
    r = cli("snapshot", "show", str(path), "--format", "human", "--no-color")
    assert r.code == 0, r
    assert "\x1b" not in r.out and "\x07" not in r.out
    assert "stage\\x1b[2J" in r.out and "pre-commit\\x1b[31m" in r.out
