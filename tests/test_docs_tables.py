"""The docs' tables of commands, options, formats, modes and exported names, checked against
the code's own tables: the CLI's parser (which derives its choices from the stage, mode and
format tables), the format table, and ``omnibase.__all__``. A name added to the code and not
to the page (or left on the page after it went) fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import omnibase
from omnibase.cli._main import COMMANDS, _parser
from omnibase.cli.formats import FORMAT_NAMES

DOCS = Path(__file__).resolve().parents[1] / "docs"


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row in ``text`` (a ``\\|`` stays inside its cell)."""
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]] for line in text.splitlines() if line.startswith("|")]


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end)]


def ticked(text: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", text))


def orch_option(flag: str) -> Any:
    orch = _parser("orch")._subparsers._group_actions[0].choices["orch"]  # type: ignore[union-attr]
    return next(a for a in orch._actions if flag in a.option_strings)


def test_the_api_table_lists_exactly_the_exported_names():
    text = section((DOCS / "index.md").read_text(encoding="utf-8"), "## The public API", "`omnibase.testing` holds")
    names = set().union(*(ticked(row[1]) for row in table_rows(text)[2:]))
    names = {n.removesuffix("()") for n in names if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\(\))?", n)}
    assert names == set(omnibase.__all__), (sorted(set(omnibase.__all__) - names), sorted(names - set(omnibase.__all__)))


def test_the_formats_table_lists_every_format():
    text = (DOCS / "formats.md").read_text(encoding="utf-8")
    table = section(text, "| format | for |", "`--report FORMAT=FILE` writes")
    listed = set().union(*(ticked(row[0]) for row in table_rows(table)[2:]))
    assert listed == set(FORMAT_NAMES)
    for name in FORMAT_NAMES:
        assert f"\n## {name}\n" in text, f"formats.md has no section for {name}"


@pytest.mark.parametrize("flag", ["--stage", "--mode", "--format", "--graph", "--progress", "--executor", "--log-format"])
def test_each_option_row_in_cli_md_names_every_choice(flag):
    text = section((DOCS / "cli.md").read_text(encoding="utf-8"), "## `omnibase orch`", "### Files omnibase writes for you")
    rows = [row for row in table_rows(text) if re.search(re.escape(flag) + r"(?![\w-])", row[0])]
    assert len(rows) == 1, f"cli.md: {len(rows)} rows for {flag}"
    words = set(re.findall(r"[\w-]+", " ".join(rows[0])))
    choices = orch_option(flag).choices
    assert choices and set(choices) <= words, (flag, sorted(set(choices) - words))


def test_the_orch_options_table_is_one_table_with_every_option():
    text = section((DOCS / "cli.md").read_text(encoding="utf-8"), "## `omnibase orch`", "### Which files")
    table, after = text.split("### Files omnibase writes for you")
    assert not table_rows(after), "a heading splits the options table"
    cells = " ".join(row[0] for row in table_rows(table))
    orch = _parser("orch")._subparsers._group_actions[0].choices["orch"]  # type: ignore[union-attr]
    flags = {o for a in orch._actions for o in a.option_strings if o not in ("-h", "--help")}
    missing = sorted(f for f in flags if not re.search(re.escape(f) + r"(?![\w-])", cells))
    assert not missing, f"cli.md's orch table lacks {missing}"


def test_the_synopsis_names_every_command_people_use_and_no_hidden_one():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    synopsis = re.search(r"```text\n(.*?)```", text, re.S)
    assert synopsis
    used = {line.split()[1] for line in synopsis.group(1).splitlines() if line.startswith("omnibase ") and not line.split()[1].startswith("-")}
    shown = {name for name, help_line in COMMANDS.items() if help_line}
    assert used == shown
    assert "report show" in synopsis.group(1)
    assert "hook-impl" not in synopsis.group(1)


def test_help_and_a_mistyped_command_do_not_offer_hook_impl(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["orhc"])
    assert "hook-impl" not in capsys.readouterr().err
    assert "hook-impl" not in _parser().format_help()


@pytest.mark.parametrize(("page", "start", "end"), [("cli.md", "### Which components", "### The filter grammar"), ("registry.md", "## Stages", "## Editing")])
def test_the_stage_filter_tables_show_the_stage_tables_filters(page, start, end):
    from omnibase.orchestrators.table import STAGES

    rows = table_rows(section((DOCS / page).read_text(encoding="utf-8"), start, end))[2:]
    shown = {next(iter(ticked(row[0]))): {t for t in ticked(row[1]) if "=" in t} for row in rows}  # the filters only
    assert set(shown) == set(STAGES)
    for name, spec in STAGES.items():
        want = {spec.filter.replace("|", "\\|")} if spec.filter else set()  # no filter: the row says none
        assert shown[name] == want, (page, name, shown[name], spec.filter)


def test_the_registry_ranges_name_every_stage():
    from omnibase.orchestrators.table import STAGES

    row = next(r for r in table_rows((DOCS / "registry.md").read_text(encoding="utf-8")) if "keys of `stages`" in r[0])
    assert ticked(row[1]) == set(STAGES)
