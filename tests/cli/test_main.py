"""The start-up shortcuts of the argument parser change no answer.

A run builds only the sub-parser of the command it names (``--version``: none), and the
help formatter gets its width without importing ``shutil``. Parsing and help must be
exactly what the full parser with argparse's own formatter gives.
"""

from __future__ import annotations

import argparse
import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnibase.cli._main import COMMANDS, _columns, _command_of, _parser

SAMPLES = [
    ["orch"],
    ["orch", "--stage", "ci", "--filter", "type=validator", "-x", "a.py"],
    ["orch", "--all-files", "--format", "json", "--no-cache", "-q"],
    ["orch", "--stage", "pipeline", "--from", "a", "--to", "b", "--to", "c", "--mode", "async", "-j", "3"],
    ["--version"],
    ["--version", "orch", "--list"],
    ["registry", "list", "--format", "yaml"],
    ["registry", "add", "--entry", "{name: x}"],
    ["registry", "import-pre-commit", "--force"],
    ["snapshot", "show", "x.json"],
    ["install", "-t", "pre-push", "--chain"],
    ["uninstall"],
    ["restore", "--force"],
    ["hook-impl", "--hook-type", "pre-commit", "--hook-dir", "/x", "a"],
    ["report", "--schema"],
    ["report", "show", "r.json", "--graph", "dot"],
]


@given(st.sampled_from(SAMPLES))
def test_one_commands_parser_parses_as_the_full_parser(argv: list[str]) -> None:
    full = _parser(argv[0]) if COMMANDS.get(argv[0], "") is None else _parser()  # a hidden command: built alone
    assert vars(_parser(_command_of(argv)).parse_args(argv)) == vars(full.parse_args(argv))


def test_which_command_a_run_names() -> None:
    assert _command_of(["orch", "--list"]) == "orch"
    assert _command_of(["--version"]) == "" and _command_of(["--vers"]) == ""
    assert _command_of(["-h"]) is None and _command_of(["--help"]) is None
    assert _command_of([]) is None  # no command: help, from the full parser
    assert _command_of(["orhc"]) is None  # a typo: the full parser lists the choices
    assert _command_of(["--", "orch"]) is None
    shown = {name for name, help_line in COMMANDS.items() if help_line}
    assert shown == set(_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert "hook-impl" not in shown  # the hook scripts' command: not listed, not offered as a choice


@pytest.mark.parametrize("columns", [None, "", "abc", "0", "-5", "37", "200"])
def test_the_help_width_is_shutils(columns: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _columns() == shutil.get_terminal_size().columns


@pytest.mark.parametrize("columns", ["50", "80", "131"])
def test_help_reads_as_with_argparses_formatter(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    ours = _parser()
    theirs = _parser()
    for parser in [theirs, *theirs._subparsers._group_actions[0].choices.values()]:  # type: ignore[union-attr]
        raw = issubclass(parser.formatter_class, argparse.RawDescriptionHelpFormatter)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter if raw else argparse.HelpFormatter
    assert ours.format_help() == theirs.format_help()
    for name, parser in ours._subparsers._group_actions[0].choices.items():  # type: ignore[union-attr]
        assert parser.format_help() == theirs._subparsers._group_actions[0].choices[name].format_help()  # type: ignore[union-attr]


def test_a_prebuilt_parser_answers_as_a_fresh_one_and_serves_one_run(capsys: pytest.CaptureFixture[str]) -> None:
    """What the command server prepares (``prebuild``): each parser is used by the next
    ``main`` naming its command, once, and parses as a parser built then would."""
    from omnibase.cli import _main

    lines = [["hook-impl", "--hook-type=pre-commit", "--hook-dir", "."], ["orch"]]
    _main.prebuild(lines)
    try:
        assert sorted(_main._PREBUILT) == ["hook-impl", "orch"]
        for argv in SAMPLES:
            if argv[0] in _main._PREBUILT:
                assert vars(_main._PREBUILT[argv[0]].parse_args(argv)) == vars(_parser(argv[0]).parse_args(argv))
        assert _main.main(["--version", "orch"]) == 0
        assert "orch" not in _main._PREBUILT  # used up: the next run builds its own
        first = capsys.readouterr().out
        assert _main.main(["--version", "orch"]) == 0
        assert capsys.readouterr().out == first
    finally:
        _main._PREBUILT.clear()
