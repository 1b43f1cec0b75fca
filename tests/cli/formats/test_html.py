"""The ``html`` format: one self-contained page, read back with the standard library's HTML
parser (an independent reader). What a component printed never changes the page's
structure and reads back as it was; the graph and the timeline are laid out as their rules
say (checked against brute-force oracles)."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnibase.cli.formats import FORMAT_NAMES
from omnibase.cli.formats._layout import MAX_ROWS, layout, pack_lanes, ticks
from omnibase.cli.formats.html import render_html, test_cases
from omnibase.cli.formatters import FORMATTERS, RenderOptions
from omnibase.core.values import (
    ComponentType,
    Failed,
    GraphNode,
    InvocationTiming,
    Meta,
    Profiled,
    Raised,
    RunReport,
    Status,
    StepResult,
    Summary,
)
from tests.cli.formats.test_ci_formats import HOSTILE, SETTINGS, reports

OPTS = RenderOptions()


class Page(HTMLParser):
    """Every start tag with its attributes, and the text inside each ``<pre class="out">``."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []
        self.outputs: list[str] = []
        self._in_out = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, tuple(attrs)))
        if tag == "pre" and ("class", "out") in attrs:
            self._in_out = True
            self.outputs.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_out = False

    def handle_data(self, data: str) -> None:
        if self._in_out:
            self.outputs[-1] += data

    def names(self) -> list[str]:
        return [t for t, _ in self.tags]


def report_of(*steps: StepResult, **fields: Any) -> RunReport:
    failed = sum(1 for s in steps if s.status is Status.FAIL)
    summary = Summary(status=Status.FAIL if failed else Status.PASS, total=len(steps), failed=failed, passed=len(steps) - failed)
    fields.setdefault("stage", "ci")
    return RunReport(steps=steps, summary=summary, exit_code=1 if failed else 0, run_id="r1", trace_id="t1", **fields)


def failing_step(output: str, name: str = "lint", message: str = "bad") -> StepResult:
    return StepResult(name=name, status=Status.FAIL, span_id="s1", attempts=1, duration_s=0.5, output=output, error=Failed(message=message))


def shown(text: str) -> str:
    """What a reader of the page sees for ``text``: line breaks as LF, each control character
    (other than tab and LF) written as \\xNN (the format's rule, written down here)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(f"\\x{ord(c):02x}" if (ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F else c for c in text)


def test_html_is_in_the_format_table_and_renders_through_formatters():
    assert "html" in FORMAT_NAMES
    page = FORMATTERS["html"](report_of(failing_step("boom")), OPTS)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_page_fetches_nothing_and_runs_no_script():
    page = render_html(report_of(failing_step("x"), StepResult(name="ok", status=Status.PASS, span_id="s2")))
    parsed = Page(page)
    assert "script" not in parsed.names() and "link" not in parsed.names() and "img" not in parsed.names()
    for tag, attrs in parsed.tags:
        for key, value in attrs:
            assert not key.startswith("on"), (tag, key)
            if key in ("href", "src"):
                assert value is not None and value.startswith("#"), (tag, key, value)
    csp = [dict(a)["content"] for t, a in parsed.tags if t == "meta" and dict(a).get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]


hostile = st.one_of(st.sampled_from([*HOSTILE, "<script>alert(1)</script>", "</pre><b>x", "\"'><svg onload=x>", "&lt;"]), st.text(st.characters(exclude_categories=("Cs",)), max_size=40))


@SETTINGS
@given(output=hostile, name=hostile, message=hostile, diff=hostile)
def test_component_text_never_changes_the_page_structure_and_reads_back_as_printed(output, name, message, diff):
    def page_of(out: str, nm: str, msg: str, df: str) -> str:
        step = StepResult(name=nm, status=Status.FAIL, span_id="s1", attempts=1, output=out, error=Failed(message=msg, data={"diff": df}))
        return FORMATTERS["html"](report_of(step, metadata={nm: msg}), OPTS)

    def defang(text: str) -> str:  # the same text without the characters markup is made of
        return re.sub("[<>&\"'=/]", "x", text)

    page = Page(page_of(output, name, message, diff))
    plain = Page(page_of(defang(output), defang(name), defang(message), defang(diff)))
    assert page.names() == plain.names()  # no element came from the component's text
    assert [len(a) for _, a in page.tags] == [len(a) for _, a in plain.tags]
    if output:
        assert page.outputs == [shown(output)]


@settings(SETTINGS, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(report=reports)
def test_any_report_renders_a_well_formed_page(report):
    page = FORMATTERS["html"](report, OPTS)
    parsed = Page(page)
    assert parsed.names()[:1] == ["html"] and "script" not in parsed.names()
    page.encode("utf-8")  # no lone surrogate survives


def test_failure_shows_message_output_diff_findings_and_traceback():
    diff = "--- a/x.txt\n+++ b/x.txt\n@@ -1 +1 @@\n-x   \n+x\n"
    fixed = StepResult(
        name="trailing-whitespace", status=Status.FAIL, span_id="a", output="Fixing x.txt\n",
        error=Failed(message="Fixing x.txt", data={"diff": diff, "findings": [{"path": "x.txt", "line": 1, "message": "trailing space"}]}),
    )  # fmt: skip
    raised = StepResult(name="boom", status=Status.FAIL, span_id="b", error=Raised(exc_type="ValueError", message="no", traceback="Traceback...\nValueError: no"))
    page = render_html(report_of(fixed, raised))
    assert '<span class="add">+x</span>' in page and '<span class="del">-x   </span>' in page
    assert "<code>x.txt:1</code> trailing space" in page
    assert "Traceback...\nValueError: no" in page
    assert page.index('id="failures"') < page.index('id="graph"') < page.index('id="timeline"') < page.index('id="steps"')


def test_graph_has_one_node_per_step_coloured_by_status_and_linked_to_its_row():
    steps = [StepResult(name=f"c{i}", status=s, span_id=str(i), attempts=1) for i, s in enumerate([Status.PASS, Status.FAIL, Status.WARN, Status.SKIP])]
    page = render_html(report_of(*steps, stage="pipeline"))
    nodes = re.findall(r'<a href="#row-(\d+)"><g class="n (\w+)"', page)
    assert nodes == [("0", "PASS"), ("1", "FAIL"), ("2", "WARN"), ("3", "SKIP")]
    svg = page[page.index('id="graph-svg"') : page.index("</svg>")]
    assert svg.count('class="e"') == 3  # a chain of four: three edges


def test_stage_graph_edges_follow_needs():
    graph = (GraphNode(name="a"), GraphNode(name="b", needs=("a",), level=1), GraphNode(name="c", needs=("a", "b"), level=2))
    steps = [StepResult(name=n, status=Status.PASS, span_id=n) for n in "abc"]
    page = render_html(report_of(*steps, graph=graph))
    svg = page[page.index('id="graph-svg"') : page.index("</svg>")]
    assert svg.count('class="e"') == 3


def test_timeline_uses_the_profiles_lanes_else_packs_the_steps():
    a = StepResult(name="a", status=Status.PASS, span_id="1", offset_s=0.0, duration_s=2.0)
    b = StepResult(name="b", status=Status.FAIL, span_id="2", offset_s=1.0, duration_s=1.0, error=Failed(message="x"))
    packed = render_html(report_of(a, b, duration_s=2.0))
    assert 'y="24" width="1000.0"' in packed and 'x="560.0" y="40"' in packed  # b overlaps a: second lane, half way
    invocations = (InvocationTiming(name="a", span_id="1", attempt=1, start_s=0.0, wall_s=1.0, cpu_s=0.1, status="PASS", lane=3),)
    profiled = render_html(report_of(a, b, duration_s=2.0, profiled=Profiled(invocations=invocations)))
    assert "lane 3" in profiled and profiled.count("<rect class=") == 1


def test_test_cases_come_from_test_components_and_their_entries():
    unit = StepResult(
        name="unit", status=Status.FAIL, span_id="1", meta=Meta(name="unit", type=ComponentType.TEST),
        error=Failed(message="1 failed", data={"tests": [{"name": "test_a", "status": "pass"}, {"name": "test_b", "status": "FAIL", "message": "assert 1 == 2"}, 7, {"status": "PASS"}]}),
    )  # fmt: skip
    lint = StepResult(name="lint", status=Status.PASS, span_id="2")
    assert [(c.name, c.status) for c in test_cases([unit, lint])] == [("unit", "FAIL"), ("test_a", "PASS"), ("test_b", "FAIL")]
    page = render_html(report_of(unit, lint))
    assert "Tests (3, 2 failed)" in page and "assert 1 == 2" in page
    assert 'id="tests"' not in render_html(report_of(lint))


def test_a_run_that_failed_before_any_step_shows_its_error():
    from omnibase.core.values import Misconfigured

    report = RunReport(steps=(), summary=Summary(status=Status.FAIL), exit_code=2, run_id="r", trace_id="t", stage="ci", error=Misconfigured(message="bad <registry>"))
    page = render_html(report)
    assert "bad &lt;registry&gt;" in page and 'id="graph"' not in page


# --- layout and lanes, against brute-force oracles ----------------------------------------------


@st.composite
def dags(draw: Any) -> list[GraphNode]:
    count = draw(st.integers(1, 60))
    levels: dict[str, int] = {}
    nodes = []
    for i in range(count):
        name = f"n{i}"
        needs = tuple(sorted(set(draw(st.lists(st.sampled_from(list(levels)), max_size=3))))) if levels and draw(st.booleans()) else ()
        levels[name] = max((levels[d] + 1 for d in needs), default=0)
        nodes.append(GraphNode(name=name, needs=needs, level=levels[name]))
    return nodes


@settings(max_examples=200, deadline=None)
@given(nodes=dags())
def test_layout_gives_every_node_its_own_cell_and_waves_their_columns(nodes):
    place = layout(nodes)
    assert set(place) == {n.name for n in nodes}
    assert len(set(place.values())) == len(nodes)  # no two nodes on one cell
    by_name = {n.name: n for n in nodes}
    # within one band, a later wave is never to the left of an earlier one
    for a, (ca, ra) in place.items():
        for b, (cb, rb) in place.items():
            if ra == rb and by_name[a].level < by_name[b].level:
                assert ca < cb


def test_layout_wraps_a_wide_fan_out_and_a_long_chain():
    fan = layout([GraphNode(name=f"f{i}") for i in range(3 * MAX_ROWS)])
    assert {c for c, _ in fan.values()} == {0, 1, 2} and max(r for _, r in fan.values()) == MAX_ROWS - 1
    chain = layout([GraphNode(name=f"c{i}", needs=(f"c{i - 1}",) if i else (), level=i) for i in range(12)])
    assert [chain[f"c{i}"] for i in range(6)] == [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (0, 2)]


spans = st.lists(st.tuples(st.floats(0, 100), st.floats(0.001, 20)), max_size=40).map(sorted)


@settings(max_examples=300, deadline=None)
@given(spans=spans)
def test_packed_lanes_never_overlap_and_are_as_few_as_the_deepest_overlap(spans):
    lanes = pack_lanes(spans)
    for i, (s1, d1) in enumerate(spans):
        for j, (s2, d2) in enumerate(spans[:i]):
            if lanes[i] == lanes[j]:
                assert s2 + d2 <= s1 or s1 + d1 <= s2
    # the deepest overlap: at some span's start, how many spans are running (start <= t < end)
    depth = max((sum(1 for s, d in spans if s <= t < s + d) for t, _ in spans), default=0)
    assert (max(lanes) + 1 if lanes else 0) == depth


@pytest.mark.parametrize("count", [1000])
def test_a_thousand_steps_stay_small(count):
    steps = [StepResult(name=f"component-{i}", status=[Status.PASS, Status.FAIL, Status.SKIP][i % 3], span_id=f"{i:016x}", attempts=1,
                        offset_s=i * 0.01, duration_s=0.02, error=Failed(message=f"problem {i}") if i % 3 == 1 else None)
             for i in range(count)]  # fmt: skip
    page = render_html(report_of(*steps, stage="pipeline"))
    assert len(page.encode()) < 1_200 * count  # a few hundred bytes a step


@settings(max_examples=300, deadline=None)
@given(end=st.floats(1e-6, 1e7))
def test_timeline_ticks_are_two_to_six_round_times_within_the_run(end):
    marks = ticks(end)
    assert 2 <= len(marks) <= 6 and marks[0] == 0.0 and marks[-1] <= end * (1 + 1e-9)
    step = marks[1]
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
    assert round(mantissa, 6) in (1.0, 2.0, 5.0), step
    assert all(abs((b - a) - step) <= step * 1e-6 for a, b in zip(marks, marks[1:]))
