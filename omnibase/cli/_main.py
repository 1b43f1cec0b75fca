"""Argument parsing and dispatch. Heavy imports happen inside the command that needs them."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

TYPE_CHECKING = False  # not typing's: --version does not import typing
if TYPE_CHECKING:
    from typing import Any

from omnibase.cli._terminal import columns as _columns

__all__ = ["main", "prebuild"]

EPILOG_ORCH = """\
examples:
  omnibase orch --stage pre-commit                 check the staged files
  omnibase orch --stage pre-commit --all-files     check every tracked file
  omnibase orch --stage pre-commit src/a.py        check the given paths
  omnibase orch --stage test --tags integration
  omnibase orch --stage ci --filter 'type=validator,lifecycle=canary'
  omnibase orch --stage pipeline --from tool_a --to tool_b --to validator_x
  omnibase orch --stage ci --to build --skip slow-lint  build and what it needs, but not slow-lint
  omnibase orch --stage test --only-failed --maxfail 3
  omnibase orch --stage pre-commit --list          what would run, and why not the rest
  omnibase orch --stage ci --graph mermaid         the stage's graph; run nothing
  omnibase orch --stage ci --debug                 step through the run (--break NAME: stop at NAME)

filter grammar (--filter, repeatable; all given filters must hold):
  clause[,clause...]     a comma means AND
  key=v1|v2              the component has v1 or v2
  key!=v1|v2             the component has neither
  keys: type (tool|validator|test), lifecycle (canary|stable|deprecated|experimental),
        tag, name (shell-style globs)
  repeating a key means both clauses must hold: tag=a,tag=b wants both tags

exit codes: 0 ok, 1 failed (or nothing selected), 2 configuration error,
  3 registry resolution failure, 4 protocol violation, 5 sandbox/security violation,
  130 interrupted (a partial report is still printed); 143 and 129 when SIGTERM or
  SIGHUP interrupted it (128 + the signal's number)
"""


EPILOG_RUN = """\
Run components by name, as 'pre-commit run ID' does: on the staged files, or every
tracked file (--all-files), or the files given (--files). Every option of 'orch' applies.

examples:
  omnibase run                                     the whole pre-commit stage
  omnibase run trailing-whitespace --all-files     one component on every tracked file
  omnibase run check-yaml --files a.yaml b.yaml    one component on these files
"""


#: The commands, each with the help line ``omnibase --help`` shows for it.
COMMANDS = {
    "orch": "run one stage (orch --help lists them)",
    "run": "run components by name, as 'pre-commit run ID' does (run [ID...] [--all-files] [--files F...])",
    "registry": "administer the registry file (list, inspect, add, remove)",
    "snapshot": "list or show the failure snapshots (offline)",
    "install": "write the git hook scripts that run omnibase (see docs/precommit.md)",
    "uninstall": "remove the git hook scripts that run omnibase (see docs/precommit.md)",
    "restore": "put back unstaged changes an interrupted pre-commit run left under .git/omnibase/patches",
    "hook-impl": None,  # what the installed hook scripts call; not for people
    "report": "the report format (--schema); show a stored report's graph (show REPORT --graph FORMAT)",
    "server": "the warm command server behind the git hook: status, stop (see docs/server.md)",
    "breaker": "the circuit breakers kept between runs: list, reset [NAME] (see docs/registry.md)",
    "gc": "remove the cached hook repositories and environments no project uses (see docs/precommit.md)",
    "clean": "remove every cached hook repository and environment (see docs/precommit.md)",
}


def _command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, when it names one: the first word that is not an option
    (the top level has no option that takes a value); ``""`` for ``--version`` alone (no
    command's parser needed). None: build every command's parser (``--help``, a mistyped
    command, no command at all)."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    if argv and all(len(w) > 2 and "--version".startswith(w) for w in argv):
        return ""
    return None


class _Help(argparse.HelpFormatter):
    """argparse's formatter, told the width it would have asked ``shutil`` for (every
    ``add_argument`` makes one, so the parser's start-up would import ``shutil``)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class _RawHelp(_Help, argparse.RawDescriptionHelpFormatter):
    """``_Help`` that keeps the description's and epilog's line breaks."""


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, the one command's sub-parser alone (the others'
    arguments are what most of the parser's start-up cost is, and a run names one command;
    ``omnibase --help`` and a mistyped command get every command people use: a command
    with no help line, the hook scripts' ``hook-impl``, is built only when named)."""
    parser = argparse.ArgumentParser(
        prog="omnibase",
        description="Run a project's validators, tools and tests, stage by stage, as typed pipelines.",
        formatter_class=_Help,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    shown = [name for name, help_line in COMMANDS.items() if help_line]  # hook-impl: only when named
    for name in shown if only is None else (only,) if only else ():
        _BUILDERS[name](sub, name)
    return parser


def _add(sub: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    help_line = COMMANDS[name]
    kwargs.setdefault("formatter_class", _Help)
    parser: argparse.ArgumentParser = sub.add_parser(name, **({"help": help_line} if help_line else {}), **kwargs)
    return parser


def _orch_parser(sub: Any, name: str) -> None:
    from omnibase.cli._modes import add_mode_options, positive
    from omnibase.cli._terminal import add_terminal_options
    from omnibase.orchestrators.table import DEFAULT_STAGE, HOOK_STAGES, STAGES, stage_help

    by_id = name == "run"  # orch's options, with component names where orch takes paths
    orch = _add(
        sub, name,
        description=EPILOG_RUN if by_id else "Run the components of one stage and report.",
        epilog=None if by_id else EPILOG_ORCH,
        formatter_class=_RawHelp,
    )  # fmt: skip
    orch.add_argument("--stage", choices=tuple(STAGES), default=DEFAULT_STAGE, help=stage_help())
    if by_id:
        orch.add_argument("ids", nargs="*", metavar="ID", help="run only these components (pre-commit's hook ids: an imported hook keeps its id); none: all of the stage")
    else:
        orch.add_argument("paths", nargs="*", metavar="PATH", help="check these files (default: staged files for pre-commit, all tracked files otherwise)")
    orch.add_argument("--files", nargs="*", metavar="FILE", help="check exactly these files (given with nothing: no file, for always_run components)")
    orch.add_argument("--all-files", "-a", action="store_true", help="run on every tracked file")
    orch.add_argument("--tags", action="append", default=[], metavar="T1,T2", help="only components with any of these tags")
    orch.add_argument("--filter", action="append", default=[], metavar="EXPR", help="only components matching EXPR (grammar below)")
    orch.add_argument("--from", dest="from_", metavar="NAME", help="pipeline stage: where it starts (the subgraph from NAME, or a chain's first); other stages: run NAME and what depends on it")
    orch.add_argument("--to", action="append", default=[], metavar="NAME", help="pipeline stage: where it ends (repeatable; or a chain's next); other stages: run NAME and what it needs")
    orch.add_argument("--skip", action="append", default=[], metavar="NAME", help="skip this component (repeatable, or comma-separated; also $OMNIBASE_SKIP)")
    orch.add_argument("--only-failed", "--lf", action="store_true", help="run only what failed last time in this stage (and what it needs)")
    orch.add_argument("--maxfail", type=positive, metavar="N", help="stop after N failures; the rest are SKIP")
    orch.add_argument("--list", action="store_true", help="show what would run and why the rest would not; run nothing")
    orch.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    add_mode_options(orch)
    add_terminal_options(orch)
    orch.add_argument("--no-cache", action="store_true", help="re-check every file (ignore and do not update the verdict cache)")
    orch.add_argument("--hook-stage", choices=HOOK_STAGES, help=f"run the components whose stages: include this git hook (default for {DEFAULT_STAGE}: {STAGES[DEFAULT_STAGE].hook_stage})")
    orch.add_argument("--from-ref", metavar="REF", help="with --to-ref: check the files changed between two commits")
    orch.add_argument("--to-ref", metavar="REF", help="with --from-ref: check the files changed between two commits")
    orch.add_argument("--report", action="append", default=[], metavar="FORMAT=FILE", help="also write the report in FORMAT to FILE (atomically; repeatable)")
    orch.add_argument("--otel", action="store_true", help="export the run as OpenTelemetry spans over OTLP (needs omnibase[otel]; or OMNIBASE_OTEL=1)")
    _common(orch)


def _registry_parser(sub: Any, name: str) -> None:
    reg = _add(sub, name)
    reg_sub = reg.add_subparsers(dest="action", metavar="ACTION", required=True)
    r_list = reg_sub.add_parser("list", help="list every component (built-in and registered)")
    r_inspect = reg_sub.add_parser("inspect", help="show one component's entry")
    r_inspect.add_argument("name")
    r_add = reg_sub.add_parser(
        "add",
        help="add an entry",
        description="Add an entry to the registry file (created if missing). The entry is a YAML "
        "or JSON mapping with the fields of the registry file reference.",
        epilog="example:\n  omnibase registry add --entry '{name: ruff, type: validator, tags: [pre-commit], "
        "command: [ruff, check]}'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r_add.add_argument("--entry", required=True, metavar="MAPPING", help="the entry, as a YAML/JSON mapping")
    r_remove = reg_sub.add_parser("remove", help="remove an entry by name")
    r_remove.add_argument("name")
    r_import = reg_sub.add_parser("import-pre-commit", help="write registry entries from a .pre-commit-config.yaml")
    r_import.add_argument("config", nargs="?", default=".pre-commit-config.yaml", help="the pre-commit config (default: .pre-commit-config.yaml)")
    r_import.add_argument("--force", action="store_true", help="replace an existing registry file")
    for p in (r_list, r_inspect, r_add, r_remove, r_import):
        _common(p)


def _snapshot_parser(sub: Any, name: str) -> None:
    from omnibase.cli._snapshot import add_snapshot_command

    add_snapshot_command(sub)


def _hook_parser(sub: Any, name: str) -> None:
    from omnibase.orchestrators.table import HOOK_TYPES

    hook = _add(sub, name)
    hook.add_argument("-t", "--hook-type", action="append", choices=HOOK_TYPES, metavar="TYPE", help=f"the git hook ({', '.join(HOOK_TYPES)}; repeatable; default: install: the registry file's default_install_hook_types, else {HOOK_TYPES[0]}; uninstall: every one installed)")
    if name == "install":
        how = hook.add_mutually_exclusive_group()
        how.add_argument("--chain", action="store_true", help="keep an existing foreign hook as HOOK.legacy and run it first")
        how.add_argument("--overwrite", action="store_true", help="replace an existing foreign hook")
    else:
        hook.add_argument("--purge", action="store_true", help="also remove the state folder (.git/omnibase: cache, snapshots, run history)")


def _restore_parser(sub: Any, name: str) -> None:
    restore = _add(sub, name)
    restore.add_argument("--force", action="store_true", help="reset tracked files to the index first when a patch no longer applies")


def _hook_impl_parser(sub: Any, name: str) -> None:
    from omnibase.orchestrators.table import HOOK_TYPES

    impl = _add(sub, name)
    impl.add_argument("--hook-type", required=True, choices=HOOK_TYPES)
    impl.add_argument("--hook-dir", required=True)
    impl.add_argument("hook_args", nargs="*")


def _report_parser(sub: Any, name: str) -> None:
    from omnibase.cli._terminal import add_report_show

    rep = _add(sub, name)
    rep.add_argument("--schema", action="store_true", help="print the JSON Schema of the json report")
    add_report_show(rep)


def _server_parser(sub: Any, name: str) -> None:
    server = _add(sub, name)
    server.add_argument("action", choices=("status", "stop"), help="status: is one running, how many runs it served; stop: make it exit")


def _breaker_parser(sub: Any, name: str) -> None:
    from omnibase.cli._breaker_cmd import add_breaker_arguments

    add_breaker_arguments(_add(sub, name))


def _cache_parser(sub: Any, name: str) -> None:
    from omnibase.cli._cache_cmd import add_cache_commands

    add_cache_commands(_add(sub, name), name)


_BUILDERS: dict[str, Callable[[Any, str], None]] = {
    "orch": _orch_parser,
    "run": _orch_parser,
    "registry": _registry_parser,
    "snapshot": _snapshot_parser,
    "install": _hook_parser,
    "uninstall": _hook_parser,
    "restore": _restore_parser,
    "hook-impl": _hook_impl_parser,
    "report": _report_parser,
    "server": _server_parser,
    "breaker": _breaker_parser,
    "gc": _cache_parser,
    "clean": _cache_parser,
}


def _common(p: argparse.ArgumentParser) -> None:
    from omnibase.cli.formats import FORMAT_NAMES

    p.add_argument("--format", choices=FORMAT_NAMES, help="output format (default: human on a terminal, json otherwise)")
    p.add_argument("--no-color", action="store_true", help="no colour and no emoji")
    p.add_argument("--registry", metavar="PATH", help="the registry file (default: $OMNIBASE_REGISTRY, else the nearest omnibase.yaml upward, up to the repository root)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more detail; structured logs on stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="only failures and the summary")
    p.add_argument("-o", "--output", metavar="FILE", help="--report FORMAT=FILE with the format from the extension (.json, .yaml/.yml, else human) unless --format names one")


#: Parsers built ahead of time (``prebuild``), each used once by the next ``main`` that names
#: its command.
_PREBUILT: dict[str, argparse.ArgumentParser] = {}


def prebuild(lines: Sequence[Sequence[str]]) -> None:
    """Build the parsers of the commands ``lines`` name now, and parse each line once
    (argparse compiles its patterns on first use): the command server does before it forks
    runs (docs/server.md), so that a served hook run does not pay for argparse's set-up
    (some fifty ``add_argument`` calls for ``orch``). Nothing in a parser depends on the
    run: its choices come from the tables, and the help width is asked when help is printed."""
    for words in lines:
        _parser(words[0]).parse_args(words)
        _PREBUILT[words[0]] = _parser(words[0])


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    from omnibase.cli._process import supervised

    command = _command_of(words)
    parser = (_PREBUILT.pop(command, None) if command else None) or _parser(command)
    args = parser.parse_args(words)
    return supervised(args, _run, as_program=argv is None)


def _run(args: argparse.Namespace) -> int:
    from omnibase.cli._process import guarded

    return guarded(lambda: _dispatch(args))


def _dispatch(args: argparse.Namespace) -> int:
    if args.version:
        from omnibase.cli._version import print_version

        return print_version()
    if args.command == "report":
        return _report(args)
    if args.command == "server":
        from omnibase.cli._server_cmd import server_command

        return server_command(args)
    if args.command == "breaker":
        from omnibase.cli._breaker_cmd import breaker_command

        return breaker_command(args)
    if args.command in ("gc", "clean"):
        from omnibase.cli import _cache_cmd

        return int(getattr(_cache_cmd, args.command + "_command")(args))
    if args.command is None:
        _parser().print_help()
        return 2
    from omnibase.cli import _commands

    if args.command in ("orch", "run"):
        return _commands.orch(args)
    if args.command == "snapshot":
        from omnibase.cli._snapshot import snapshot_command

        return snapshot_command(args)
    if args.command in ("install", "uninstall", "restore", "hook-impl"):
        from omnibase.precommit import _install

        if args.command == "hook-impl":  # the stage the hook runs comes back through main
            return _install.hook_impl_command(args, main)
        return int(getattr(_install, args.command + "_command")(args))
    return _commands.registry(args)


def _report(args: argparse.Namespace) -> int:
    if args.action == "show":
        from omnibase.cli._terminal import report_show

        return report_show(args)
    if not args.schema:
        print("omnibase report: say --schema, or show REPORT", file=sys.stderr)
        return 2
    import json

    from omnibase.cli.formatters import json_schema

    print(json.dumps(json_schema(), indent=2, sort_keys=True))
    return 0
