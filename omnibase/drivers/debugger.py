"""The step-through debugger: a performer decorator that pauses before a step.

``Debugger(inner, ...)`` answers every intent through ``inner``, except an ``Invoke`` of a
step it should stop at (every step when stepping, else those named by a breakpoint): it
shows the step, its metadata, its input and the results so far, and asks what to do.

==================  ==================================================================
before a step       ``n``/``next`` (or Enter): run it, show its result, pause after it;
                    ``s``/``skip``: do not run it (SKIP "skipped in the debugger");
                    ``c``/``continue``: run on to the next breakpoint
after a step        ``n``/``next`` (or Enter): keep the result and go on; ``r``/``retry``:
                    run it again (the new result replaces the old); ``s``/``skip``: drop
                    the result (SKIP); ``c``/``continue``
anywhere            ``p``/``print WHAT`` (``input``, ``ctx``, ``meta``, ``result``,
                    ``results``, a step's name, then ``.field`` or ``[key]``);
                    ``b``/``break NAME`` (no name: list them); ``clear NAME`` (no
                    name: all); ``q``/``quit``: stop the run (a partial report, outcome
                    "interrupted"); ``h``/``help``
==================  ==================================================================

It is an observer too (``observe``), which is how it knows the results so far. The
terminal is two functions, ``read(prompt) -> line or None at end of input`` and
``write(text)``; the CLI gives it stdin and stderr, which must be a terminal.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from returns.result import Success

from omnibase.core.intents import Called, Event, Intent, Invoke
from omnibase.core.outcomes import classify
from omnibase.core.step import Component
from omnibase.core.values import Raised, Skip, StepResult

__all__ = ["SKIPPED", "Debugger"]

#: The reason a step skipped in the debugger carries.
SKIPPED = "skipped in the debugger"

HELP = """\
commands: n(ext) | s(kip) | r(etry) (after a step) | c(ontinue) | p(rint) WHAT | b(reak) [NAME]
          clear [NAME] | q(uit) | h(elp)
print:    input, ctx, meta, result, results, or a step's name; then .field or [key]"""

_PATH = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[([^\]]*)\]")


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _outcome(comp: Component[Any, Any], called: Called) -> str:
    """A call's answer in words, as the interpreter will classify it: PASS, SKIP (why) or
    FAIL (what)."""
    took = f" in {(called.ended - called.started) / 1e9:.3f}s"
    ok, out = classify(comp, called)
    if ok:
        return f"SKIP: {out.reason}" if isinstance(out, Skip) else f"PASS{took}: {_short(out, 120)}"
    if isinstance(out, Raised):
        return f"FAIL{took}: raised {out.exc_type}: {out.message}"
    return f"FAIL{took}: {getattr(out, 'message', None) or type(out).__name__}"


class Debugger:
    """See the module docstring. ``stepping``: pause before every step (``--debug``);
    ``breakpoints``: names to pause at (``--break``); ``total``: the steps of the run."""

    def __init__(
        self,
        inner: Any,
        *,
        read: Callable[[str], str | None],
        write: Callable[[str], None],
        stepping: bool = True,
        breakpoints: Iterable[str] = (),
        total: int = 0,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.inner = inner
        self.read = read
        self.write = write
        self.stepping = stepping
        self.breakpoints = set(breakpoints)
        self.total = total
        self.clock_ns = clock_ns
        self.results: list[StepResult] = []
        self.count = 0

    # an observer of the same run: the results so far
    def observe(self, event: Event) -> None:
        if type(event) is StepResult:
            self.results.append(event)

    def perform(self, intent: Intent) -> Any:
        if type(intent) is not Invoke:
            return self.inner.perform(intent)
        self.count += 1
        name = intent.component.name
        if not (self.stepping or name in self.breakpoints):
            return self.inner.perform(intent)
        return self._pause(intent)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    # --- the conversation --------------------------------------------------------------------

    def _pause(self, intent: Invoke) -> Any:
        self._show(intent)
        name = intent.component.name
        called: Called | None = None
        while True:
            where = "after" if called is not None else "before"
            line = self.read(f"(omnibase {where} {name}) ")
            if line is None:  # end of input: as quit
                self.write("\n")
                raise KeyboardInterrupt
            verb, _, arg = line.strip().partition(" ")
            arg = arg.strip()
            if verb in ("", "n", "next"):
                if called is not None:
                    return called
                called = self._call(intent)
            elif verb in ("s", "skip"):
                self.write(f"{name}: SKIP ({SKIPPED})\n")
                now = self.clock_ns()
                return Called(returned=Success(Skip(reason=SKIPPED)), raised=None, started=now, ended=now)
            elif verb in ("r", "retry"):
                if called is None:
                    self.write("nothing to retry yet: 'next' runs the step\n")
                else:
                    called = self._call(intent)
            elif verb in ("c", "continue", "cont"):
                self.stepping = False
                return called if called is not None else self.inner.perform(intent)
            elif verb in ("p", "print"):
                self.write(self._print(arg, intent, called) + "\n")
            elif verb in ("b", "break"):
                if arg:
                    self.breakpoints.add(arg)
                    self.write(f"breakpoint set at {arg}\n")
                else:
                    self.write(f"breakpoints: {', '.join(sorted(self.breakpoints)) or '(none)'}\n")
            elif verb in ("cl", "clear"):
                if arg:
                    found = arg in self.breakpoints
                    self.breakpoints.discard(arg)
                    self.write(f"breakpoint at {arg} cleared\n" if found else f"no breakpoint at {arg}\n")
                else:
                    self.breakpoints.clear()
                    self.write("every breakpoint cleared\n")
            elif verb in ("q", "quit", "exit"):
                self.write("quitting: the report will be partial\n")
                raise KeyboardInterrupt
            elif verb in ("h", "help", "?"):
                self.write(HELP + "\n")
            else:
                self.write(f"unknown command '{verb}' (h for help)\n")

    def _call(self, intent: Invoke) -> Called:
        called: Called = self.inner.perform(intent)
        self.write(f"{intent.component.name}: {_outcome(intent.component, called)}\n")
        return called

    def _show(self, intent: Invoke) -> None:
        meta = intent.component.meta
        of = f"/{self.total}" if self.total else ""
        tags = f", tags: {', '.join(sorted(meta.tags))}" if meta.tags else ""
        attempt = f", attempt {intent.attempt}" if intent.attempt > 1 else ""
        lines = [
            f"-- step {self.count}{of}: {meta.name} ({meta.type.value}, {meta.lifecycle.value}{tags}{attempt})",
        ]
        if meta.description:
            lines.append(f"   description: {meta.description}")
        lines.append(f"   input: {_short(intent.value)}")
        done = ", ".join(f"{r.name} {r.status.value}" for r in self.results[-8:])
        more = f"... {len(self.results) - 8} earlier, " if len(self.results) > 8 else ""
        lines.append(f"   results so far: {more}{done or '(none)'}")
        self.write("\n".join(lines) + "\n")

    def _print(self, what: str, intent: Invoke, called: Called | None) -> str:
        head = re.match(r"[^.\[]*", what)
        root = head.group(0) if head else ""
        rest = what[len(root) :]
        by_name = {r.name: r for r in self.results}
        value: Any
        if root == "input":
            value = intent.value
        elif root == "ctx":
            value = intent.ctx
        elif root == "meta":
            value = intent.component.meta
        elif root == "result":
            if called is None:
                return "no result yet: 'next' runs the step"
            value = called.returned if called.raised is None else called.raised
        elif root == "results":
            value = [(r.name, r.status.value) for r in self.results]
        elif root in by_name:
            value = by_name[root]
        else:
            return f"print what? input, ctx, meta, result, results or a step's name (not '{root}')"
        for attr, key in _PATH.findall(rest):
            try:
                if attr:
                    value = getattr(value, attr)
                else:
                    value = value[int(key)] if key.lstrip("-").isdigit() and not isinstance(value, dict) else value[key.strip("'\"")]
            except (AttributeError, KeyError, IndexError, TypeError) as exc:
                return f"{what}: no such field ({type(exc).__name__})"
        return _short(value, 2000)
