"""The CLI's side of the person at the terminal: ``--progress``, ``--debug``/``--step``/
``--break``, ``--graph``, ``omnibase report show``, and the terminal's width.

Only ``argparse`` is imported at start-up (the argument parser's help formatter asks
``columns`` for its width); the observer, the debugger and the renderers
are imported by the run that uses them.
"""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False  # not typing's: the parser imports this module, --version nothing of it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "add_report_show",
    "add_terminal_options",
    "columns",
    "debugger_for",
    "graph_command",
    "progress_for",
    "report_show",
    "terminal_problem",
]

#: ``core.visual.FORMATS``, written here so that building the parser imports no picture
#: code (tests/core/test_visual.py holds the two equal).
GRAPH_FORMATS = ("mermaid", "dot", "text")


def columns() -> int:
    """``shutil.get_terminal_size().columns``, as argparse's help formatter asks for it,
    without importing ``shutil`` (and with it ``bz2``, ``lzma``, ``fnmatch``): ``$COLUMNS``,
    else the width of the terminal on stdout, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def add_terminal_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--progress", choices=("auto", "on", "off"), default="auto",
        help="live progress on stderr: auto (default) only on an interactive terminal; on: also "
        "plain lines when not on one (GitHub Actions groups under GITHUB_ACTIONS=true); off",
    )  # fmt: skip
    p.add_argument("--debug", "--step", dest="debug", action="store_true", help="step through the run: pause before each step (needs a terminal; not with --mode async)")
    p.add_argument("--break", dest="breaks", action="append", default=[], metavar="NAME", help="pause before the step NAME (repeatable; implies the debugger, without stepping)")
    p.add_argument("--graph", choices=GRAPH_FORMATS, metavar="FORMAT", help=f"print the stage's graph ({', '.join(GRAPH_FORMATS)}) and run nothing")


def terminal_problem(args: argparse.Namespace, mode: str) -> str | None:
    """Why the debugger cannot be used here (an asynchronous run, no terminal)."""
    if not (getattr(args, "debug", False) or getattr(args, "breaks", [])):
        return None
    flag = "--debug" if args.debug else "--break"
    from omnibase.core.modes import MODES

    spec = MODES[mode]
    if spec.is_async or spec.replays:
        why = "runs a stage, not a snapshot's replay" if spec.replays else "steps through one step at a time"
        return f"{flag}: the debugger {why}; it does not work with --mode {mode}"
    if not sys.stdin.isatty():
        return f"{flag}: the debugger reads commands from a terminal, and stdin is not one"
    return None


def unknown_breakpoint(args: argparse.Namespace, known: set[str]) -> str | None:
    """A ``--break`` name that names no component."""
    for b in getattr(args, "breaks", []):
        for name in (n.strip() for n in b.split(",")):
            if name and name not in known:
                return f"--break {name}: no such component"
    return None


def progress_for(args: argparse.Namespace, step: Any, title: str) -> Any:
    """The progress observer ``--progress`` and the environment ask for, or None."""
    from omnibase.observers.progress import Progress, choose_style

    debugging = bool(getattr(args, "debug", False) or getattr(args, "breaks", []))
    isatty = sys.stderr.isatty()
    style = choose_style(getattr(args, "progress", "auto") or "auto", isatty=isatty, env=os.environ, debugging=debugging)
    if style is None:
        return None
    if style == "live" and args.progress == "auto" and _shares_the_terminal(args):
        return None
    from omnibase.core.step import leaves

    width = columns()  # shutil.get_terminal_size's answer, without shutil
    return Progress(sum(1 for _ in leaves(step)), style, title=title, width=width).start()


def _shares_the_terminal(args: argparse.Namespace) -> bool:
    """Would something else write on the terminal during the run (log lines with ``-v``
    on stderr, a ``jsonl`` report streamed to a terminal)? Then ``auto`` shows no live
    line, which those lines would tear."""
    logs = getattr(args, "verbose", 0) and not getattr(args, "log_file", None)
    streamed = getattr(args, "format", None) == "jsonl" and sys.stdout.isatty()
    return bool(logs or streamed)


def debugger_for(args: argparse.Namespace, step: Any) -> Any:
    """The step-through debugger ``--debug``/``--break`` ask for, or None."""
    if not (getattr(args, "debug", False) or getattr(args, "breaks", [])):
        return None
    from omnibase.core.step import leaves
    from omnibase.drivers.debugger import Debugger

    names = [n.strip() for b in args.breaks for n in b.split(",") if n.strip()]

    def read(prompt: str) -> str | None:
        sys.stderr.write(prompt)
        sys.stderr.flush()
        line = sys.stdin.readline()
        return line if line else None

    def write(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    total = sum(1 for _ in leaves(step))
    return _Debugging(read, write, bool(args.debug), names, total)


class _Debugging:
    """Makes the debugger around whatever performer the mode builds (``wrap``), and hands
    it the events (``observe``)."""

    def __init__(self, read: Any, write: Any, stepping: bool, breaks: list[str], total: int) -> None:
        self.read, self.write, self.stepping, self.breaks, self.total = read, write, stepping, breaks, total
        self.debugger: Any = None

    def wrap(self, performer: Any) -> Any:
        from omnibase.drivers.debugger import Debugger

        self.debugger = Debugger(
            performer, read=self.read, write=self.write, stepping=self.stepping, breakpoints=self.breaks, total=self.total
        )
        return self.debugger

    def observe(self, event: Any) -> None:
        if self.debugger is not None:
            self.debugger.observe(event)


def graph_command(args: argparse.Namespace, step: Any, title: str) -> int:
    """``--graph FORMAT``: print the graph of ``step`` and run nothing."""
    from omnibase.core.visual import picture_of, render

    print(render(args.graph, picture_of(step), title=title))
    return 0


# --- omnibase report show ---------------------------------------------------------------------


def add_report_show(rep: argparse.ArgumentParser) -> None:
    rep.add_argument("action", nargs="?", choices=("show",), help="show: render a stored report or failure snapshot")
    rep.add_argument("path", nargs="?", metavar="REPORT", help="a json report (-o run.json, --format json) or a snapshot under .git/omnibase/snapshots/")
    rep.add_argument("--graph", choices=GRAPH_FORMATS, default="text", metavar="FORMAT", help=f"{', '.join(GRAPH_FORMATS)} (default: text)")


def report_show(args: argparse.Namespace) -> int:
    """``omnibase report show PATH --graph FORMAT``: the report's graph, each node with its
    status and duration. Exit 2 (one line naming the file) when it cannot be read."""
    from omnibase.cli._report_show import show

    code, text = show(args.path or "", args.graph)
    if code != 0:
        print(f"omnibase: {text}", file=sys.stderr)
        return code
    print(text)
    return 0
