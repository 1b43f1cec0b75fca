"""Our checks against pre-commit-hooks 6.0.0 on the same awkward files.

Each test runs one check, with one set of options, over a corpus and collects every file
on which we disagree with the reference: the pass/fail verdict, the fixed bytes (fixers),
and what is printed (where the reference's output does not depend on its own frames).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.builtins._builtins_ref import (
    JSON_CORPUS,
    PY_CORPUS,
    TEXT_CORPUS,
    TOML_CORPUS,
    YAML_CORPUS,
    init_repo,
    reference_on_bytes,
)

from omnibase.builtins import CHECKS, Verdict, parse_options
from omnibase.builtins._output import hook_output

ALL = {**TEXT_CORPUS, **YAML_CORPUS, **JSON_CORPUS, **TOML_CORPUS, **PY_CORPUS}
SMALL_TEXT = {k: v for k, v in TEXT_CORPUS.items() if len(v) < 100_000}

#: (check, our options, the reference's arguments, corpus)
CASES = [
    ("end-of-file-fixer", {}, [], ALL),
    ("trailing-whitespace", {}, [], ALL),
    ("trailing-whitespace", {"markdown_linebreak_ext": ["md"]}, ["--markdown-linebreak-ext=md"], TEXT_CORPUS),
    ("trailing-whitespace", {"markdown_linebreak_ext": ["*"]}, ["--markdown-linebreak-ext=*"], TEXT_CORPUS),
    ("trailing-whitespace", {"markdown_linebreak_ext": [".MD,markdown"]}, ["--markdown-linebreak-ext=.MD,markdown"],
     TEXT_CORPUS),
    ("trailing-whitespace", {"chars": " "}, ["--chars= "], TEXT_CORPUS),
    ("trailing-whitespace", {"chars": "\t\r"}, ["--chars=\t\r"], TEXT_CORPUS),
    ("trailing-whitespace", {"no_markdown_linebreak_ext": True}, ["--no-markdown-linebreak-ext"], TEXT_CORPUS),
    ("mixed-line-ending", {}, [], ALL),
    ("mixed-line-ending", {"fix": "no"}, ["--fix=no"], TEXT_CORPUS),
    ("mixed-line-ending", {"fix": "lf"}, ["--fix=lf"], TEXT_CORPUS),
    ("mixed-line-ending", {"fix": "crlf"}, ["--fix=crlf"], TEXT_CORPUS),
    ("mixed-line-ending", {"fix": "cr"}, ["--fix=cr"], TEXT_CORPUS),
    ("check-yaml", {}, [], {**YAML_CORPUS, **SMALL_TEXT}),
    ("check-yaml", {"allow_multiple_documents": True}, ["--allow-multiple-documents"], YAML_CORPUS),
    ("check-yaml", {"unsafe": True}, ["--unsafe"], YAML_CORPUS),
    ("check-json", {}, [], {**JSON_CORPUS, **SMALL_TEXT}),
    ("check-toml", {}, [], {**TOML_CORPUS, **SMALL_TEXT}),
    ("check-ast", {}, [], {**PY_CORPUS, **SMALL_TEXT}),
    ("check-merge-conflict", {"assume_in_merge": True}, ["--assume-in-merge"], ALL),
    ("check-merge-conflict", {}, [], TEXT_CORPUS),  # not mid-merge: nothing is checked
    ("detect-private-key", {}, [], ALL),
]


def _printed(check: str, options: object, verdict: Verdict) -> str:
    """What the reference prints for this verdict (the first line only, for check-ast).
    A passing hook's output is not shown (pre-commit hides it), so there only the
    notice its options cause is compared."""
    lines = hook_output(check, options, [verdict]) if not verdict.ok else list(options.notice())
    if check == "check-ast" and lines:
        return lines[0].splitlines()[0]
    return "".join(line + "\n" for line in lines)


@pytest.mark.parametrize(("check", "opts", "args", "corpus"), CASES, ids=[f"{c[0]}{c[2]}" for c in CASES])
def test_same_verdict_bytes_and_output_as_the_reference(check, opts, args, corpus, tmp_path: Path):
    repo = init_repo(tmp_path / "repo")  # check-merge-conflict asks git whether it is mid-merge
    spec = CHECKS[check]
    options = parse_options(check, opts)
    mismatches = []
    for name, data in corpus.items():
        ours = spec.fn(name, data, options)
        ref = reference_on_bytes(check, name, data, repo, args)
        if ours.ok != (ref.code == 0):
            mismatches.append(f"{name}: verdict ours={ours.ok} reference={ref.code} {ref.out[:200]!r}")
            continue
        if ours.edit is not None and ours.ok:
            mismatches.append(f"{name}: an edit on a passing verdict")
        after = ours.edit.content if ours.edit is not None else data
        if after != ref.content:
            mismatches.append(f"{name}: fixed bytes differ: ours={after[:80]!r} reference={ref.content[:80]!r}")
        if not ref.crashed:
            out = ref.out.splitlines()[0] if check == "check-ast" and ref.out else ref.out
            if _printed(check, options, ours) != out:
                mismatches.append(f"{name}: output ours={_printed(check, options, ours)!r} reference={out!r}")
    assert not mismatches, "\n".join(mismatches)


def test_fixers_report_an_edit_exactly_when_they_fail():
    for name, data in ALL.items():
        for check in ("end-of-file-fixer", "trailing-whitespace", "mixed-line-ending"):
            verdict = CHECKS[check].fn(name, data, parse_options(check, {}))
            assert (verdict.edit is not None) == (not verdict.ok), (check, name)
            if verdict.edit is not None:
                assert verdict.edit.original == data
                assert verdict.edit.content != data
                fixed_again = CHECKS[check].fn(name, verdict.edit.content, parse_options(check, {}))
                assert fixed_again.ok and fixed_again.edit is None, (check, name)


#: Files nested n deep, per check: how deep a parser may go before RecursionError depends
#: on the recursion budget left where it runs.
NESTED = {
    "json-arrays": ("check-json", "n.json", lambda n: b"[" * n + b"]" * n),
    "json-objects": ("check-json", "n.json", lambda n: b'{"a":' * n + b"1" + b"}" * n),
    "toml-arrays": ("check-toml", "n.toml", lambda n: b"a = " + b"[" * n + b"]" * n + b"\n"),
    "toml-tables": ("check-toml", "n.toml", lambda n: b"a = " + b"{b=" * n + b"1" + b"}" * n + b"\n"),
    "yaml-flow": ("check-yaml", "n.yaml", lambda n: b"[" * n + b"]" * n + b"\n"),
    "yaml-block": ("check-yaml", "n.yaml", lambda n: b"".join(b"  " * i + b"a:\n" for i in range(n)) + b"  " * n + b"b\n"),
    "python-attributes": ("check-ast", "n.py", lambda n: b"x = a" + b".b" * n + b"\n"),
}


@pytest.mark.parametrize("family", list(NESTED))
def test_nesting_limits_are_the_reference_console_scripts(family: str, tmp_path: Path):
    # ours must equal the reference's as pre-commit runs it (its console script),
    # wherever in a call stack our check runs
    import subprocess
    import sys

    from tests.builtins._builtins_ref import SCRIPTS

    check, name, source = NESTED[family]
    spec, opts = CHECKS[check], parse_options(check, {})

    def deepest_passing() -> int:
        lo, hi = 10, 4_000 if check == "check-ast" else 1_200
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if spec.fn(name, source(mid), opts).ok else (lo, mid - 1)
        return lo

    def nested(k: int) -> int:
        return deepest_passing() if k == 0 else nested(k - 1)

    deepest = deepest_passing()
    assert nested(150) == deepest
    script = Path(sys.executable).parent / SCRIPTS[check]
    for n, passes in ((deepest, True), (deepest + 1, False)):
        (tmp_path / name).write_bytes(source(n))
        done = subprocess.run([str(script), name], cwd=tmp_path, capture_output=True)
        assert (done.returncode == 0) == passes, (n, done.stdout[-300:])
