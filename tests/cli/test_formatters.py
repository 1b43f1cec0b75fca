"""The report renderers: every report renders in every format, JSON and YAML round-trip,
and human output fits the terminal and respects colour/emoji/ASCII choices."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from typing import Any

import msgspec
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnibase.cli.formatters import FORMATTERS, RenderOptions, default_format, detect_options, json_schema
from omnibase.core.columns import width_of
from omnibase.core.values import (
    GateDecision,
    CircuitOpen,
    ComponentType,
    Failed,
    Interrupted,
    Lifecycle,
    Meta,
    Misconfigured,
    ProtocolViolation,
    Raised,
    RunReport,
    SecurityViolation,
    Status,
    StepResult,
    Summary,
    TimedOut,
    Unresolved,
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def columns(line: str) -> int:
    """Terminal columns of ``line`` (no escapes), written independently of the renderer:
    wide/fullwidth = 2, non-spacing/enclosing marks and format characters = 0, except the
    soft hyphen (terminals draw it); an emoji variation selector widens a narrow base."""
    total = 0
    last = 0
    for ch in line:
        if ch == "\ufe0f":
            if last == 1:
                total += 1
                last = 2
            continue
        cat = unicodedata.category(ch)
        if ch == "\u00ad":
            w = 1
        elif cat in ("Mn", "Me", "Cf"):
            w = 0
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            w = 2
        else:
            w = 1
        total += w
        if w:
            last = w
    return total


# --- strategies ------------------------------------------------------------------------------

SPECIAL_NAMES = [
    "日本語のコンポーネント名" * 8,
    "🎉🚀✅⚠️" * 30,
    "e\u0301" * 150,
    "a\x1b[31mred\x1b[0m\x07bell\tt\r\n\x00nul\x7fdel\x9bcsi\x85nel",
    "x" * 500,
    "[FAIL] [PASS] ✅ PASS",
    "\u202eevil\u200b\u00ad" * 40,
    "한국어 テスト 中文 " * 12,
    "👨‍👩‍👧‍👦" * 30,
    "",
]

names = st.one_of(st.sampled_from(SPECIAL_NAMES), st.text(max_size=40), st.text(min_size=90, max_size=160))
floats = st.floats(allow_nan=False, allow_infinity=False)
small_floats = st.one_of(st.floats(min_value=0, max_value=1e6, allow_nan=False), floats)
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)

json_values = st.recursive(
    st.none() | st.booleans() | ints | floats | names,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=10,
)

errors = st.one_of(
    st.builds(Failed, message=names, transient=st.booleans(), data=json_values),
    st.builds(Raised, exc_type=names, message=names, transient=st.booleans(), traceback=st.one_of(names, st.lists(names, max_size=60).map("\n".join))),
    st.builds(ProtocolViolation, message=names, transient=st.booleans()),
    st.builds(TimedOut, seconds=small_floats, transient=st.booleans()),
    st.builds(CircuitOpen, key=names, transient=st.booleans()),
    st.builds(SecurityViolation, message=names, transient=st.booleans()),
    st.builds(Misconfigured, message=names, where=names, transient=st.booleans()),
    st.builds(Unresolved, name=names, message=names, transient=st.booleans()),
    st.builds(Interrupted, transient=st.booleans()),
    st.builds(Failed, message=st.lists(names, min_size=5, max_size=40).map("\n".join)),
)

metas = st.builds(
    Meta,
    name=names,
    type=st.sampled_from(list(ComponentType)),
    lifecycle=st.sampled_from(list(Lifecycle)),
    tags=st.frozensets(names, max_size=3),
    idempotent=st.booleans(),
    pure=st.booleans(),
    timeout=st.none() | small_floats,
    description=names,
    input_type=names,
    output_type=names,
)

steps = st.builds(
    StepResult,
    name=names,
    status=st.sampled_from(list(Status)),
    span_id=names,
    value=json_values,
    error=st.none() | errors,
    attempts=st.integers(min_value=0, max_value=10_000),
    offset_s=small_floats,
    duration_s=small_floats,
    reason=names,
    meta=st.none() | metas,
)

summaries = st.builds(
    Summary,
    status=st.sampled_from(list(Status)),
    total=st.integers(0, 10**6),
    passed=st.integers(0, 10**6),
    failed=st.integers(0, 10**6),
    warned=st.integers(0, 10**6),
    skipped=st.integers(0, 10**6),
)

reports = st.builds(
    RunReport,
    steps=st.lists(steps, max_size=5).map(tuple),
    summary=summaries,
    exit_code=st.integers(0, 255),
    run_id=names,
    trace_id=names,
    stage=names,
    started_at=small_floats,
    duration_s=small_floats,
    outcome=st.sampled_from(["completed", "interrupted"]),
    output=json_values,
    error=st.none() | errors,
    profile=st.lists(st.tuples(names, floats), max_size=3).map(tuple),
    metadata=st.dictionaries(names, names, max_size=3),
    gating=st.lists(
        st.builds(GateDecision, subject=names, verdict=st.sampled_from(["run", "refuse", "pass", "fail", "warn", "skip"]) | names, reason=names, rule=names),
        max_size=4,
    ).map(tuple),
)

OPTIONS = [
    RenderOptions(color=color, emoji=emoji, verbose=verbose)
    for color in (False, True)
    for emoji in (False, True)
    for verbose in (-1, 0, 1)
]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- properties ------------------------------------------------------------------------------


@SETTINGS
@given(reports)
def test_every_report_renders_in_every_format(report: RunReport) -> None:
    data = json.loads(FORMATTERS["json"](report, RenderOptions()))
    s = report.summary
    counts = [f"{n} {word}" for n, word in ((s.passed, "passed"), (s.failed, "failed"), (s.warned, "warned"), (s.skipped, "skipped")) if n]
    for name in ("human", "json", "yaml"):  # the CI formats have their own properties (tests/cli/formats/test_ci_formats.py)
        render = FORMATTERS[name]
        for opts in (RenderOptions(), RenderOptions(color=True, emoji=True, verbose=1)):
            out = render(report, opts)
            assert out.endswith("\n") and not out.endswith("\n\n"), name
            if name == "json":  # the options never change the machine formats
                assert json.loads(out) == data
            elif name == "yaml":  # (the default options are compared in the round-trip test)
                assert opts == RenderOptions() or yaml.load(out, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) == data
            else:
                lines = out.splitlines()
                summary = re.sub(r"\x1b\[[0-9;]*m", "", lines[-2] if opts.verbose > 0 else lines[-1])
                assert summary.startswith(", ".join(counts) or "nothing ran"), summary
                assert len(lines) >= len(report.steps) + 1  # a line per step (verbose >= 0), then the summary


@SETTINGS
@given(reports)
def test_json_round_trips_and_yaml_agrees(report: RunReport) -> None:
    out = FORMATTERS["json"](report, RenderOptions())
    assert msgspec.json.decode(out, type=RunReport) == report
    data = json.loads(out)
    assert data["schema_version"] == 1
    assert list(data) == sorted(data)  # canonical: sorted keys
    assert yaml.safe_load(FORMATTERS["yaml"](report, RenderOptions())) == data


@SETTINGS
@given(reports)
def test_human_lines_fit_and_respect_modes(report: RunReport) -> None:
    for opts in OPTIONS:
        out = FORMATTERS["human"](report, opts)
        if not opts.color:
            assert "\x1b" not in out
        if not opts.emoji:
            assert out.isascii(), out
        plain = ANSI.sub("", out)
        assert "\x1b" not in plain  # the only escapes are our colour codes
        for line in plain.split("\n"):
            assert not any(unicodedata.category(c) == "Cc" for c in line), repr(line)
            assert columns(line) <= opts.width, (columns(line), line)
            assert width_of(line) <= opts.width


@SETTINGS
@given(st.lists(st.tuples(names, st.sampled_from(list(Status))), min_size=1, max_size=6))
def test_human_names_every_step(items: list[tuple[str, Status]]) -> None:
    report = RunReport(
        steps=tuple(StepResult(name=f"step{i}", status=s, span_id=str(i)) for i, (_, s) in enumerate(items)),
        summary=Summary(status=Status.PASS, total=len(items)),
        exit_code=0,
        run_id="r",
        trace_id="t",
    )
    out = FORMATTERS["human"](report, RenderOptions(emoji=True))
    for i in range(len(items)):
        assert f"step{i}" in out


# --- examples ------------------------------------------------------------------------------


def _report(*steps_: StepResult, **kw: Any) -> RunReport:
    base: dict[str, Any] = dict(summary=Summary(status=Status.FAIL, total=len(steps_)), exit_code=1, run_id="run-1", trace_id="trace-1")
    base.update(kw)
    return RunReport(steps=tuple(steps_), **base)


def test_yaml_anchors_shared_meta() -> None:
    meta = Meta(name="shared", tags=frozenset({"a", "b"}))
    report = _report(
        StepResult(name="one", status=Status.PASS, span_id="1", meta=meta),
        StepResult(name="two", status=Status.FAIL, span_id="2", meta=Meta(name="shared", tags=frozenset({"b", "a"}))),
        StepResult(name="three", status=Status.SKIP, span_id="3", meta=Meta(name="other")),
    )
    out = FORMATTERS["yaml"](report, RenderOptions())
    assert re.search(r"meta: &\S+", out)
    assert re.search(r"meta: \*\S+", out)
    assert out.count("name: shared") == 1
    loaded = yaml.safe_load(out)
    assert loaded == json.loads(FORMATTERS["json"](report, RenderOptions()))
    assert loaded["steps"][0]["meta"] == loaded["steps"][1]["meta"] != loaded["steps"][2]["meta"]


def test_yaml_without_shared_meta_has_no_anchor() -> None:
    report = _report(
        StepResult(name="one", status=Status.PASS, span_id="1", meta=Meta(name="a")),
        StepResult(name="two", status=Status.PASS, span_id="2", meta=Meta(name="b")),
    )
    out = FORMATTERS["yaml"](report, RenderOptions())
    assert "&" not in out and "*id" not in out


def test_human_example_output() -> None:
    report = _report(
        StepResult(name="lint", status=Status.PASS, span_id="1", duration_s=0.5),
        StepResult(name="types", status=Status.FAIL, span_id="2", error=Failed(message="bad type\nat line 3"), attempts=2),
        StepResult(name="slow", status=Status.FAIL, span_id="3", error=TimedOut(seconds=1.0)),
        StepResult(name="none", status=Status.SKIP, span_id="4", reason="no files", attempts=0),
        summary=Summary(status=Status.FAIL, total=4, passed=1, failed=2, skipped=1),
        duration_s=1.25,
    )
    ascii_out = FORMATTERS["human"](report, RenderOptions())
    lines = ascii_out.splitlines()
    # the failures first, each with its message and what to do; then the rest, as they ran
    assert lines[0].startswith("types.") and lines[0].endswith("[FAIL] 0.00s x2")
    assert lines[1] == "    bad type" and lines[2] == "    at line 3"
    assert lines[3].startswith("slow.") and "[TIME] 0.00s" in lines[3]
    assert lines[4] == "    timed out after 1s" and lines[5] == "    -> make it faster, or give it more time (the entry's `timeout:`)"
    assert lines[6].startswith("lint.") and lines[6].endswith(" [PASS] 0.50s")
    assert lines[7].startswith("none.") and lines[7].endswith(" [SKIP]")
    assert lines[-1] == "1 passed, 2 failed, 1 skipped in 1.25s"
    status = [line for line in lines if "...." in line]
    assert len({line.index(" [") for line in status}) == 1  # the verdicts in one column
    assert max(len(line) for line in status) == 100
    emoji_out = FORMATTERS["human"](report, RenderOptions(emoji=True, color=True))
    assert "✅ PASS" in emoji_out and "❌ FAIL" in emoji_out and "⏱️ TIME" in emoji_out
    assert "\x1b[32m" in emoji_out and "\x1b[31m" in emoji_out
    quiet = FORMATTERS["human"](report, RenderOptions(verbose=-1))
    assert "lint" not in quiet and "types" in quiet
    verbose = FORMATTERS["human"](report, RenderOptions(verbose=1))
    assert "no files" in verbose and "trace trace-1 run run-1" in verbose


def test_verbose_shows_the_end_of_a_raised_traceback() -> None:
    trace = "\n".join(["Traceback (most recent call last):"] + [f'  File "app.py", line {i}, in f{i}' for i in range(40)] + ["KeyError: 'missing'"])
    report = _report(StepResult(name="x", status=Status.FAIL, span_id="1", error=Raised(exc_type="KeyError", message="'missing'", traceback=trace)))
    assert "app.py" not in FORMATTERS["human"](report, RenderOptions())
    out = FORMATTERS["human"](report, RenderOptions(verbose=1))
    assert "    | KeyError: 'missing'\n" in out and 'line 39, in f39' in out
    assert 'line 10, in f10' not in out and "12 earlier traceback lines" in out


def test_long_error_shows_its_head_and_tail_and_counts_the_rest() -> None:
    report = _report(StepResult(name="x", status=Status.FAIL, span_id="1", error=Failed(message="\n".join(f"l{i}" for i in range(50)))))
    out = FORMATTERS["human"](report, RenderOptions())
    shown = [line.strip() for line in out.splitlines() if line.startswith("    l")]
    assert shown == ["l0", "l1", "l2", "l3", "l4", "l45", "l46", "l47", "l48", "l49"]  # the first errors are not lost
    assert "    ... 40 lines left out (-v shows more; --format json has them all)\n" in out
    verbose = FORMATTERS["human"](report, RenderOptions(verbose=1))
    assert "    ... 10 lines left out (--format json has them all)\n" in verbose
    assert "    l19\n" in verbose and "    l20\n" not in verbose and "    l30\n" in verbose
    # a file holding the whole output, named in the report's metadata, is named under the cut
    saved = msgspec.structs.replace(report, metadata={"output-file:x": ".git/omnibase/outputs/r/x.txt"})
    assert "    whole output: .git/omnibase/outputs/r/x.txt\n" in FORMATTERS["human"](saved, RenderOptions())
    assert "whole output" not in out


def test_run_error_without_steps_is_shown() -> None:
    report = _report(error=Misconfigured(message="bad file"), summary=Summary(status=Status.FAIL))
    out = FORMATTERS["human"](report, RenderOptions())
    assert "error: bad file" in out and "nothing ran" in out


def test_width_of_examples() -> None:
    assert width_of("abc") == 3
    assert width_of("日本") == 4
    assert width_of("✅") == 2
    assert width_of("⚠️") == 2
    assert width_of("e\u0301") == 1
    assert columns("⚠️ WARN") == width_of("⚠️ WARN")


@settings(SETTINGS, max_examples=60)
@given(reports)
def test_every_json_report_is_valid_against_the_published_schema(report: RunReport) -> None:
    validator = _schema_validator()
    document = json.loads(FORMATTERS["json"](report, RenderOptions()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, errors


def test_the_schema_rejects_a_report_of_the_wrong_shape() -> None:
    validator = _schema_validator()
    good = json.loads(FORMATTERS["json"](_report(StepResult(name="x", status=Status.PASS, span_id="1")), RenderOptions()))
    assert validator.is_valid(good)
    for path, bad in (
        (("exit_code",), "one"),
        (("steps", 0, "status"), "MAYBE"),
        (("steps", 0, "error"), {"type": "no-such-error", "message": "m"}),
        (("summary",), {}),
    ):
        broken = json.loads(json.dumps(good))
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = bad
        assert not validator.is_valid(broken), path


@functools.cache
def _schema_validator() -> Any:
    import jsonschema

    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# --- detect_options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("isatty", "env", "no_color", "color", "emoji"),
    [
        (True, {}, False, True, True),
        (True, {"TERM": "xterm-256color"}, False, True, True),
        (True, {"TERM": "dumb"}, False, False, False),
        (True, {"CI": "true"}, False, False, False),
        (True, {"CI": "TRUE"}, False, False, False),
        (True, {"CI": "1"}, False, False, False),
        (True, {"CI": "false"}, False, True, True),
        (True, {"NO_COLOR": "1"}, False, False, False),
        (True, {"NO_COLOR": ""}, False, True, True),  # the NO_COLOR convention: empty does not count
        (True, {}, True, False, False),  # --no-color
        (False, {}, False, False, True),  # not a terminal: no colour
        (False, {"TERM": "dumb"}, False, False, False),
    ],
)
def test_detect_options_rules(isatty: bool, env: dict[str, str], no_color: bool, color: bool, emoji: bool) -> None:
    opts = detect_options(isatty=isatty, env=env, no_color=no_color, verbose=2)
    assert (opts.color, opts.emoji, opts.verbose, opts.width) == (color, emoji, 2, 100)


def test_default_format() -> None:
    assert default_format(True) == "human"
    assert default_format(False) == "json"


def test_formatters_names() -> None:
    assert set(FORMATTERS) >= {"human", "json", "yaml"}
