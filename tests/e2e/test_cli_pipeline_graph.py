"""The pipeline stage as a graph through the real CLI: where ``needs:`` relates ``--from``
and ``--to``, the induced subgraph (with what it needs) runs with data flowing along the
edges; unrelated names keep the spec's chain; types are checked on every edge first."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

PLUGIN = '''
import os
from returns.result import Failure, Success
from omnibase import Failed


def _called(ctx, name):
    with open(os.path.join(ctx.root, "calls.log"), "a") as f:
        f.write(name + "\\n")
    if os.path.exists(os.path.join(ctx.root, "fail-" + name)):
        return Failure(Failed(message=name + " was told to fail"))
    return None


def files(ctx, value):
    return _called(ctx, "files") or Success(sorted(value))


def count(ctx, value):
    return _called(ctx, "count") or Success(len(value))


def names(ctx, value):
    return _called(ctx, "names") or Success(",".join(value))


def pair(ctx, value):
    n, text = value
    return _called(ctx, "pair") or Success(f"{n}:{text}")


def shout(ctx, value):
    return _called(ctx, "shout") or Success(value.upper())


def side(ctx, value):
    return _called(ctx, "side") or Success("side")


def upper(ctx, value):
    return _called(ctx, "upper") or Success(str(value).upper())


def length(ctx, value):
    return _called(ctx, "length") or Success(len(value))
'''

REGISTRY = """\
version: 1
components:
  - {name: files, python: "plugin:files", output: "list[str]"}
  - {name: count, python: "plugin:count", needs: [files], input: "list[str]", output: int}
  - {name: names, python: "plugin:names", needs: [files], input: "list[str]", output: str}
  - {name: pair, python: "plugin:pair", needs: [count, names], output: str}
  - {name: shout, python: "plugin:shout", needs: [pair], input: str, output: str}
  - {name: side, python: "plugin:side", needs: [files], output: str}
  - {name: wants-text, python: "plugin:shout", needs: [count], input: str, output: str}
  - {name: upper, python: "plugin:upper", output: str}
  - {name: length, python: "plugin:length", input: str, output: int}
"""

FILES = ["a.txt", "omnibase.yaml", "plugin.py"]


@pytest.fixture
def project(repo: Any) -> Any:
    return repo.seed({"plugin.py": PLUGIN, "omnibase.yaml": REGISTRY, "a.txt": "a\n"})


def _pipe(cli: Any, *args: str) -> tuple[Any, dict[str, Any]]:
    res = cli("orch", "--stage", "pipeline", "--format", "json", *args)
    assert res.out, res
    return res, json.loads(res.out)


def _calls(repo: Any) -> list[str]:
    path = repo.root / "calls.log"
    return path.read_text().split() if path.exists() else []


def test_from_and_to_run_the_induced_subgraph_with_what_it_needs(project: Any, cli: Any) -> None:
    res, report = _pipe(cli, "--from", "count", "--to", "shout")
    assert res.code == 0, res
    # count's descendants that are shout's ancestors (count, pair, shout), and what they
    # need (files, names); not side, not wants-text
    assert sorted(s["name"] for s in report["steps"]) == ["count", "files", "names", "pair", "shout"]
    assert report["output"] == f"3:{','.join(FILES)}".upper()  # data flowed along every edge
    calls = _calls(project)
    assert sorted(calls) == ["count", "files", "names", "pair", "shout"]
    assert calls[0] == "files" and calls.index("pair") > max(calls.index("count"), calls.index("names"))
    graph = {n["name"]: n["needs"] for n in report["graph"]}
    assert graph == {"files": [], "count": ["files"], "names": ["files"], "pair": ["count", "names"], "shout": ["pair"]}


def test_several_ends_give_a_tuple_and_to_alone_takes_what_it_needs(project: Any, cli: Any) -> None:
    res, report = _pipe(cli, "--from", "files", "--to", "count", "--to", "names")
    assert res.code == 0 and report["output"] == [3, ",".join(FILES)], res
    res, report = _pipe(cli, "--to", "pair")
    assert res.code == 0 and report["output"] == f"3:{','.join(FILES)}"
    assert {s["name"] for s in report["steps"]} == {"files", "count", "names", "pair"}
    res, report = _pipe(cli, "--from", "names", "--mode", "async")  # names and what needs it
    assert res.code == 0 and {s["name"] for s in report["steps"]} == {"files", "count", "names", "pair", "shout"}


def test_unrelated_names_keep_the_chain_of_the_spec(project: Any, cli: Any) -> None:
    res, report = _pipe(cli, "--from", "upper", "--to", "length")
    assert res.code == 0 and [s["name"] for s in report["steps"]] == ["upper", "length"]
    assert report["output"] == len(str(tuple(FILES)))
    assert report.get("graph", []) == []


def test_types_are_checked_on_every_edge_before_anything_runs(project: Any, cli: Any) -> None:
    res, report = _pipe(cli, "--from", "files", "--to", "wants-text")
    assert res.code == 4 and report["steps"] == []
    assert "count produces int but wants-text takes str" in res.err
    assert _calls(project) == []


def test_a_mix_of_related_and_unrelated_names_and_unknown_names(project: Any, cli: Any) -> None:
    res = cli("orch", "--stage", "pipeline", "--from", "count", "--to", "shout", "--to", "upper")
    assert res.code == 2 and "--to upper: not downstream of --from count through needs" in res.err, res
    res = cli("orch", "--stage", "pipeline", "--from", "count", "--to", "nope")
    assert res.code == 3 and "no component named 'nope'" in res.err
    assert "Traceback" not in res.err and _calls(project) == []


def test_a_failing_node_skips_what_consumes_it(project: Any, cli: Any) -> None:
    project.write("fail-names", "")
    res, report = _pipe(cli, "--from", "files", "--to", "shout")
    steps = {s["name"]: (s["status"], s["reason"]) for s in report["steps"]}
    assert res.code == 1
    assert steps["names"][0] == "FAIL" and steps["count"][0] == "PASS"
    assert steps["pair"] == ("SKIP", "needs names, which failed (runs when every dependency succeeded)")
    assert steps["shout"][0] == "SKIP" and "shout" not in _calls(project)


def test_graph_and_list_show_the_subgraph(project: Any, cli: Any) -> None:
    res = cli("orch", "--stage", "pipeline", "--from", "count", "--to", "shout", "--graph", "text")
    assert res.code == 0, res
    assert "pair  <- count, names" in res.out and "side" not in res.out
    res = cli("orch", "--stage", "pipeline", "--from", "count", "--to", "shout", "--list")
    assert res.code == 0 and "not on the --from/--to subgraph" in res.out + res.err, res
    assert _calls(project) == []


def test_dry_run_plans_the_subgraph_and_a_failure_replays_with_the_same_flow(project: Any, cli: Any) -> None:
    res, report = _pipe(cli, "--from", "count", "--to", "shout", "--dry-run")
    assert res.code == 0, res
    reasons = {s["name"]: s["reason"] for s in report["steps"]}
    assert reasons["files"] == "dry-run: not run (not pure: it could change something)"
    assert reasons == {**dict.fromkeys(["count", "names", "pair", "shout"], "dry-run: not run"), "files": reasons["files"]}
    assert {e["reason"] for e in report["plan"] if e["selected"]} == {"selected: on the --from/--to subgraph, or needed by it"}
    assert _calls(project) == []
    project.write("fail-shout", "")
    res, report = _pipe(cli, "--from", "count", "--to", "shout")
    assert res.code == 1 and report["snapshot"], res
    (project.root / "calls.log").unlink()
    replayed = cli("orch", "--mode", "replay", "--snapshot", report["snapshot"], "--format", "json")
    again = json.loads(replayed.out)
    assert replayed.code == 1, replayed
    assert [s["status"] for s in again["steps"]] == [s["status"] for s in report["steps"]]
    assert {s["name"]: s["value"] for s in again["steps"]} == {s["name"]: s["value"] for s in report["steps"]}
