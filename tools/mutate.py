"""Mutation testing: do the tests catch a generated bug? (``just mutate [PATH...]``)

mutmut (configured in pyproject.toml, ``[tool.mutmut]``) copies the project to ``mutants/``
and generates the mutants of the named files (every file under ``omnibase/`` when none is
named). It runs the tests once unmutated and stops if they fail (the baseline), checks that
a mutant the tests must catch is caught, records which tests call each function, then runs
each mutant against those tests.

mutmut counts pytest's exit 3 (an internal error) as a kill; here only a failing test (exit 1)
is a kill, and a mutant that makes its tests run past their time budget is counted apart
(``timeout``: caught, but not by an assertion). A mutant no test calls (``no tests``), an
interrupted or crashed run (a collection error included) and a survivor are not caught.

    python tools/mutate.py                                  # the whole package (hours)
    python tools/mutate.py omnibase/core/redact.py omnibase/builtins/
    python tools/mutate.py --resume omnibase/builtins/      # keep the results in mutants/

Prints each module's score and every mutant not caught, with its diff. Exits 1 when a
mutant that docs/mutation.md does not accept (its name in backquotes in a table row of the
"Accepted survivors" section) is not caught.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "omnibase"

#: pytest's exit code and mutmut's own codes -> what it means here.
OUTCOME = {1: "killed", 36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
           0: "survived", 33: "no tests", 5: "no tests", 34: "skipped", 37: "type check"}
CAUGHT = {"killed", "timeout"}


def patterns(paths: list[str]) -> list[str]:
    """``only_mutate`` globs for files and folders named on the command line."""
    out = []
    for name in paths or [PACKAGE]:
        path = (ROOT / name).resolve()
        try:
            rel = path.relative_to(ROOT)
        except ValueError:
            sys.exit(f"mutate: {name} is outside the project")
        if rel.parts[:1] != (PACKAGE,) or not path.exists():
            sys.exit(f"mutate: {name} is not a file or folder of {PACKAGE}/")
        out.append(f"{rel.as_posix()}/*" if path.is_dir() else rel.as_posix())
    return out


def accepted() -> set[str]:
    """Mutant names docs/mutation.md accepts as survivors (equivalent or accepted, with why)."""
    page = (ROOT / "docs" / "mutation.md").read_text(encoding="utf-8")
    section = page.partition("## Accepted survivors")[2].partition("\n## ")[0]
    return {m for line in section.splitlines() if line.startswith("|") for m in re.findall(r"`([\w.ǁ]+__mutmut_\d+)`", line)}


def only_own_children() -> None:
    """mutmut's fork runner waits for any child (``os.wait``) and stops on a pid that is not
    one of its mutants' (KeyError). A test that mutmut ran in its own process while it
    recorded which tests call what may leave a child behind (a ``git status`` started ahead,
    a detached helper) that ends later: such a pid is reaped and passed over here."""
    from datetime import datetime

    from mutmut.workers import isolation

    runner = isolation.ForkRunner
    original = runner.wait_for_result

    def wait_for_result(self, timeout=None):  # type: ignore[no-untyped-def]
        if self._no_tests_results:
            return original(self, timeout)
        while True:
            pid, status = os.wait()
            worker = self._running.pop(pid, None)
            if worker is not None:  # one of the mutants' runs; any other child is passed over
                seconds = (datetime.now() - worker.start_time).total_seconds()
                code = os.waitstatus_to_exitcode(status)
                return isolation.MutantResult(mutant_name=worker.mutant_name, exit_code=code, duration=seconds)

    runner.wait_for_result = wait_for_result  # type: ignore[method-assign]


def forget_missed(only: list[str]) -> None:
    """Clear the result of every mutant in ``only`` that was not caught, so a resumed run
    runs it again (mutmut records the tests added since and runs them too)."""
    import fnmatch

    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        source = meta.relative_to("mutants").with_suffix("").as_posix()
        if not any(fnmatch.fnmatch(source, p) for p in only):
            continue
        data = json.loads(meta.read_text())
        codes = data["exit_code_by_key"]
        again = [k for k, c in codes.items() if c is not None and outcome(c) not in CAUGHT]
        for key in again:
            codes[key] = None
        meta.write_text(json.dumps(data))
        print(f"mutate: {len(again)} missed mutant(s) of {source} run again")


def outcome(code: int | None) -> str:
    return "not run" if code is None else OUTCOME.get(code, f"exit {code}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help=f"files or folders under {PACKAGE}/ (default: all of it)")
    parser.add_argument("--resume", action="store_true", help="keep mutants/ and its results from an earlier run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants run at once")
    parser.add_argument("--deselect", action="append", default=[], metavar="NODEID",
                        help="leave out a test that fails without any mutant (say so with the score)")
    parser.add_argument("--retry-missed", action="store_true",
                        help="with --resume: run again the mutants not caught last time (after new tests)")
    parser.add_argument("--tests", action="append", default=[], metavar="PATH",
                        help="run only the tests under PATH (repeatable) instead of all of tests/: quicker, "
                             "and the score can only be lower than the whole suite's (fewer tests, fewer kills)")
    args = parser.parse_args(argv)
    only = patterns(args.paths)

    os.chdir(ROOT)
    if not args.resume:
        shutil.rmtree("mutants", ignore_errors=True)
    elif args.retry_missed:
        forget_missed(only)
        # mutmut records again only the tests whose names are new: a test changed in place
        # (now calling the function) would never run against its mutants. Record them all.
        Path("mutants/mutmut-stats.json").unlink(missing_ok=True)
    # A test that runs the CLI in a subprocess must run the mutated package too.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "mutants"), os.environ.get("PYTHONPATH")]))

    import mutmut.__main__ as mutmut_main
    import mutmut.configuration as configuration

    # While mutmut records which tests call which function, a CLI subprocess must run the
    # unmutated package: its recording would look for mutmut's settings in the test's folder.
    record = mutmut_main.collect_or_load_stats

    def record_unmutated(*args: object, **kwargs: object) -> object:
        saved = os.environ.pop("PYTHONPATH", None)
        try:
            return record(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            if saved is not None:
                os.environ["PYTHONPATH"] = saved

    mutmut_main.collect_or_load_stats = record_unmutated  # type: ignore[assignment]

    base = configuration.config()
    extra = [f"--deselect={node}" for node in args.deselect]
    selection = base.pytest_add_cli_args_test_selection
    if args.tests:
        for name in args.tests:
            if not (ROOT / name).resolve().is_relative_to(ROOT / "tests") or not (ROOT / name).exists():
                sys.exit(f"mutate: --tests {name} is not a file or folder under tests/")
        selection = [*args.tests, *(a for a in selection if a.startswith("-"))]
    configuration._config = dataclasses.replace(
        base, only_mutate=only, pytest_add_cli_args_test_selection=selection + extra
    )
    only_own_children()
    started = time.monotonic()
    try:
        mutmut_main._run([], args.jobs)
    except SystemExit as stop:  # mutmut exits when the unmutated baseline fails
        if stop.code not in (None, 0):
            print("mutate: the tests fail without any mutant (the baseline): fix them first")
            return 2
    return report(only, time.monotonic() - started)


def report(only: list[str], seconds: float) -> int:
    import fnmatch

    from mutmut.mutation.diff_apply import get_diff_for_mutant

    ok = accepted()
    missed: list[tuple[str, str, str]] = []
    totals: Counter[str] = Counter()
    print(f"\n{'module':<46} {'mutants':>7} {'killed':>6} {'timeout':>7} {'missed':>6} {'score':>6}")
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        source = meta.relative_to("mutants").with_suffix("").as_posix()
        if not any(fnmatch.fnmatch(source, p) for p in only):
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        counts = Counter(outcome(c) for c in codes.values())
        if not codes:
            continue
        caught = sum(counts[k] for k in CAUGHT)
        totals.update(counts)
        print(f"{source:<46} {len(codes):>7} {counts['killed']:>6} {counts['timeout']:>7} {len(codes) - caught:>6} {caught / len(codes):>6.0%}")
        missed += [(name, outcome(code), source) for name, code in sorted(codes.items()) if outcome(code) not in CAUGHT]
    n = sum(totals.values())
    caught = sum(totals[k] for k in CAUGHT)
    if not n:
        print("mutate: no mutants were generated (mutmut does not mutate module-level code or class bodies)")
        return 0
    print(f"{'all':<46} {n:>7} {totals['killed']:>6} {totals['timeout']:>7} {n - caught:>6} {caught / n:>6.0%}")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())) + f"; {seconds:.0f} s")
    new = [m for m in missed if m[0] not in ok]
    for name, what, source in missed:
        tag = "accepted in docs/mutation.md" if name in ok else "NOT CAUGHT"
        print(f"\n# {name} ({what}; {tag})")
        print(get_diff_for_mutant(name, path=source))
    if new:
        print(f"\nmutate: {len(new)} mutant(s) not caught and not accepted in docs/mutation.md")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
