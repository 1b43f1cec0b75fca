"""What reports quote is bounded and printable: the safety walk of the formatters, the
fixers' bounded diffs, and secret redaction."""

from __future__ import annotations

import json

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from omnibase.core.redact import MASK, bound, redact, secret_values
from omnibase.builtins import Edit
from omnibase.cli.formatters import FORMATTERS, MAX_TEXT, RenderOptions, clean
from omnibase.core.values import Failed, RunReport, Status, StepResult, Summary
from omnibase.components.builtin import MAX_DIFF, MAX_FILE_DIFF, _diffs, _first_difference
from tests.support import report


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_first_difference_is_the_first_differing_index(a: bytes, b: bytes) -> None:
    naive = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    assert _first_difference(a, b) == naive
    assert _first_difference(a * 500, a * 500) == len(a) * 500


def test_a_huge_edit_is_diffed_around_its_first_change_with_true_line_numbers() -> None:
    lines = [b"line %d\n" % i for i in range(300_000)]
    lines[123_456] = b"blanks   \n"
    before = b"".join(lines)
    after = before.replace(b"blanks   \n", b"blanks\n")
    diff = _diffs([Edit.make("big.txt", before, after)])
    assert len(diff) <= MAX_FILE_DIFF + 100
    assert "@@ -123454,7 +123454,7 @@\n line 123453\n line 123454\n line 123455\n-blanks" in diff
    assert "-blanks   \n+blanks\n" in diff
    assert "bytes more of big.txt not compared" in diff


def test_many_edits_are_bounded_per_file_and_in_all() -> None:
    edits = [Edit.make(f"f{i}.txt", b"x  \n" * 5000, b"x\n" * 5000) for i in range(50)]
    diff = _diffs(edits)
    assert len(diff) <= MAX_DIFF + MAX_FILE_DIFF
    assert "more files changed; diff truncated" in diff
    assert "bytes more" in diff


def test_secret_files_are_named_not_shown() -> None:
    key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk   \n-----END OPENSSH PRIVATE KEY-----\n"
    for path, data in (("deploy_key", key), ("config/.env.production", b"DB=pw   \n"), ("app.env", b"A=b  \n")):
        diff = _diffs([Edit.make(path, data, data.replace(b"   \n", b"\n").replace(b"  \n", b"\n"))])
        assert f"--- a/{path}" in diff and "content not shown" in diff
        assert "b3BlbnNzaC1rZXk" not in diff and "DB=pw" not in diff and "A=b" not in diff


def _report(value: object, message: str) -> RunReport:
    step = StepResult(name="s", status=Status.FAIL, span_id="1", value=value, error=Failed(message=message, data={"files": [message]}))
    return report(step, output=value)


def test_every_format_bounds_strings_and_escapes_bad_bytes() -> None:
    name = "bad\udcffname.txt"  # a file name with the byte 0xff, surrogate-escaped
    report = _report("v" * (MAX_TEXT * 3), name)
    for fmt, render in FORMATTERS.items():
        text = render(report, RenderOptions(width=100))
        text.encode("utf-8")  # printable
        assert "bad\\xffname.txt" in text or "bad\\\\xffname.txt" in text, fmt
        # jsonl quotes a step's value twice: in its step event and in the final report line
        assert len(text) < MAX_TEXT * (6 if fmt == "jsonl" else 3), fmt
    decoded = json.loads(FORMATTERS["json"](report, RenderOptions()))
    assert decoded["output"].endswith(f"... {MAX_TEXT * 2} bytes more")


def test_the_walk_keeps_objects_that_need_nothing() -> None:
    report = _report({"k": [1, 2.5, None, "ok"]}, "fine")
    assert clean(report) is report


def test_redaction_and_bounds() -> None:
    secrets = secret_values({"API_KEY": "k3y-value", "aws_secret_access_key": "abcd/efgh", "PIN_TOKEN": "123", "USER": "me-myself"})
    assert secrets == ("abcd/efgh", "k3y-value")
    assert redact("a k3y-value b abcd/efgh me-myself", secrets) == f"a {MASK} b {MASK} me-myself"
    assert bound("é" * 5, 2) == "éé\n... 6 bytes more"


def test_clean_redacts_secrets_before_any_format_escapes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret with characters JSON and XML escape (quote, backslash, angle bracket,
    non-ASCII) is still found: cleaning works on values, not on rendered text."""
    secret = 'p"a\\ss<é>word'
    monkeypatch.setenv("DB_PASSWORD", secret)
    report = RunReport(
        steps=(StepResult(name="leak", status=Status.FAIL, span_id="1", error=Failed(message=f"saw {secret}"), output=secret),),
        summary=Summary(status=Status.FAIL), exit_code=1, run_id="r", trace_id="t",
    )
    for fmt in FORMATTERS:
        text = FORMATTERS[fmt](report, RenderOptions())
        assert "[redacted]" in text, fmt
        for shown in (secret, json.dumps(secret)[1:-1], "p&quot;a", "ss&lt;"):
            assert shown not in text, (fmt, shown)
