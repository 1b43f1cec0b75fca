"""Property tests: on random text-ish bytes our fixers (and the line-based scan of
check-merge-conflict) agree with pre-commit-hooks 6.0.0, and fixing is idempotent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.builtins._builtins_ref import init_repo, run_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pre_commit_hooks import end_of_file_fixer as ref_eof
from pre_commit_hooks import mixed_line_ending as ref_mixed
from pre_commit_hooks import trailing_whitespace_fixer as ref_trailing

from omnibase.builtins import (
    CHECKS,
    fix_end_of_file,
    fix_line_endings,
    fix_trailing_whitespace,
    parse_options,
)

FRAGMENTS = [
    b"a", b"xyz", b" ", b"  ", b"\t", b"\r", b"\n", b"\r\n", b"\x0c", b"\x0b", b"\xff", b"\xc3\xa9",
    b"\x00", b"\xef\xbb\xbf", b"\xc2\xa0", b"\xc2\x85", b"<<<<<<< ", b"=======", b">>>>>>> ", b"======= ",
]
CONTENTS = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(b"".join),
    st.binary(max_size=48),
)
SETTINGS = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("props")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_repo(tmp_path_factory.mktemp("props-repo"))


def _ref_file(folder: Path, data: bytes) -> Path:
    target = folder / "f.txt"
    target.write_bytes(data)
    return target


@SETTINGS
@given(CONTENTS)
def test_end_of_file_fixer_matches_the_reference(data: bytes):
    buf = io.BytesIO(data)
    changed = ref_eof.fix_file(buf)
    assert fix_end_of_file(data) == buf.getvalue()
    verdict = CHECKS["end-of-file-fixer"].fn("f.txt", data, parse_options("end-of-file-fixer", {}))
    assert verdict.ok == (not changed)
    assert (verdict.edit is None) == verdict.ok


@SETTINGS
@given(CONTENTS, st.booleans(), st.sampled_from([None, " ", "\t", " \t\r", "a"]))
def test_trailing_whitespace_matches_the_reference(scratch: Path, data: bytes, markdown: bool, chars: str | None):
    target = _ref_file(scratch, data)
    raw = None if chars is None else chars.encode()
    changed = ref_trailing._fix_file(str(target), markdown, raw)
    assert fix_trailing_whitespace(data, markdown=markdown, chars=raw) == target.read_bytes()
    assert (fix_trailing_whitespace(data, markdown=markdown, chars=raw) != data) == changed


@settings(SETTINGS, max_examples=100)
@given(CONTENTS, st.sampled_from([["--no-markdown-linebreak-ext"], ["--no-markdown-linebreak-ext", "--chars= \t"],
                                  ["--markdown-linebreak-ext=md", "--no-markdown-linebreak-ext"], []]),
       st.sampled_from(["f.txt", "f.md"]))
def test_trailing_whitespace_prints_what_the_reference_prints(scratch: Path, data: bytes, args: list[str], name: str):
    # the notice that the old flag does nothing first, then what was fixed; a passing
    # run shows nothing under pre-commit, so there the notice alone is compared
    from omnibase.builtins import options_from_args
    from omnibase.builtins._output import hook_output

    from tests.builtins._builtins_ref import reference_on_bytes

    opts = options_from_args("trailing-whitespace", args)
    ours = CHECKS["trailing-whitespace"].fn(name, data, opts)
    ref = reference_on_bytes("trailing-whitespace", name, data, scratch, args)
    assert ours.ok == (ref.code == 0)
    lines = hook_output("trailing-whitespace", opts, [ours]) if not ours.ok else list(opts.notice())
    assert "".join(line + "\n" for line in lines) == ref.out
    assert (ours.edit.content if ours.edit else data) == ref.content


@SETTINGS
@given(CONTENTS, st.sampled_from(["auto", "no", "lf", "crlf", "cr"]))
def test_mixed_line_ending_matches_the_reference(scratch: Path, data: bytes, fix: str):
    target = _ref_file(scratch, data)
    changed = ref_mixed.fix_filename(str(target), fix)
    needed, new = fix_line_endings(data, fix)
    assert needed == bool(changed)
    assert new == target.read_bytes()
    verdict = CHECKS["mixed-line-ending"].fn("f.txt", data, parse_options("mixed-line-ending", {"fix": fix}))
    assert verdict.ok == (not changed)
    assert (verdict.edit is not None) == (bool(changed) and fix != "no")


@SETTINGS
@given(CONTENTS)
def test_fixers_are_idempotent_and_an_edit_means_failure(data: bytes):
    for name in ("trailing-whitespace", "end-of-file-fixer", "mixed-line-ending"):
        spec = CHECKS[name]
        opts = parse_options(name, {})
        verdict = spec.fn("f.txt", data, opts)
        assert verdict.edit is None or not verdict.ok
        if verdict.edit is not None:
            again = spec.fn("f.txt", verdict.edit.content, opts)
            assert again.ok and again.edit is None


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(b"".join))
def test_merge_conflict_lines_match_the_reference(repo: Path, data: bytes):
    (repo / "f.txt").write_bytes(data)
    ref = run_reference("check-merge-conflict", ["--assume-in-merge", "f.txt"], cwd=repo)
    verdict = CHECKS["check-merge-conflict"].fn("f.txt", data, parse_options("check-merge-conflict", {"assume_in_merge": True}))
    assert verdict.ok == (ref.code == 0)
    assert "".join(f.message + "\n" for f in verdict.findings) == ref.out
