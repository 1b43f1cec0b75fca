"""Planted bugs: does the test suite catch them? (``just mutate``)

Each mutant is one small, realistic change to a core module (an off-by-one, a flipped
comparison, an ignored predicate, a swapped precedence), with the tests that own that
module. A copy of the project is made in a temporary folder; each mutant is applied there
alone and its tests run (stopping at the first failure). A mutant is *killed* when its
tests fail. The working tree is never touched.

    python tools/mutate.py            # every mutant
    python tools/mutate.py breaker    # those whose name contains "breaker"

Prints one line per mutant and the score; exits 1 when any mutant survives.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]


class Mutant(NamedTuple):
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


BREAKER = ("tests/core/test_breaker.py",)
RETRY = ("tests/core/test_retry_on.py", "tests/core/test_policies.py", "tests/test_interpreter.py")
SELECT = ("tests/core/test_select.py",)
RUN = ("tests/test_exit_codes_and_dry_run.py", "tests/test_interpreter.py")

MUTANTS = [
    Mutant("breaker window boundary < to <=", "omnibase/core/policies.py",
           "if now - t < policy.window", "if now - t <= policy.window", BREAKER),
    Mutant("breaker reset timeout >= to >", "omnibase/core/policies.py",
           "return now - state.opened_at >= policy.reset_timeout", "return now - state.opened_at > policy.reset_timeout", BREAKER),
    Mutant("half-open probe limit < to <=", "omnibase/core/policies.py",
           "return state.in_flight + state.passed < policy.probes", "return state.in_flight + state.passed <= policy.probes", BREAKER),
    Mutant("half-open closes one probe early", "omnibase/core/policies.py",
           "if passed >= policy.probes:", "if passed + 1 >= policy.probes:", BREAKER),
    Mutant("threshold counts one failure short", "omnibase/core/policies.py",
           "if len(recent) >= policy.threshold:", "if len(recent) > policy.threshold:", BREAKER),
    Mutant("backoff exponent off by one", "omnibase/core/policies.py",
           "exponent = failures - 1", "exponent = failures", RETRY),
    Mutant("backoff ignores its cap", "omnibase/core/policies.py",
           "min(policy.cap, policy.initial * policy.multiplier**exponent)", "policy.initial * policy.multiplier**exponent", RETRY),
    Mutant("retry_exceptions ignore subclasses", "omnibase/core/policies.py",
           "error.exc_type in _class_names(tp)", "error.exc_type == tp.__name__", RETRY),
    Mutant("retry_when predicates ignored", "omnibase/core/policies.py",
           "if self.base(error) or any(accept(error) for accept in self.when):", "if self.base(error):", RETRY),
    Mutant("custom retry_on predicate ignored", "omnibase/interpreter/_policies.py",
           "return bool(policy.retry_on(error))", "return error.transient", RETRY),
    Mutant("retry makes one attempt too many", "omnibase/interpreter/_policies.py",
           "attempt >= policy.max_attempts", "attempt > policy.max_attempts", RETRY),
    Mutant("retry re-runs non-idempotent steps", "omnibase/core/step.py",
           "all(c.meta.idempotent for c in leaves(inner))", "any(c.meta.idempotent for c in leaves(inner))", RETRY),
    Mutant("configuration outranks registry resolution", "omnibase/interpreter/_walk.py",
           "    if any(isinstance(e, Unresolved) for e in errors):\n        return ExitCode.REGISTRY\n"
           "    if any(isinstance(e, Misconfigured) for e in errors):\n        return ExitCode.CONFIG\n",
           "    if any(isinstance(e, Misconfigured) for e in errors):\n        return ExitCode.CONFIG\n"
           "    if any(isinstance(e, Unresolved) for e in errors):\n        return ExitCode.REGISTRY\n", RUN),
    Mutant("protocol violation outranks configuration", "omnibase/interpreter/_walk.py",
           "    if any(isinstance(e, Misconfigured) for e in errors):\n        return ExitCode.CONFIG\n"
           "    if any(isinstance(e, ProtocolViolation) for e in errors):\n        return ExitCode.PROTOCOL\n",
           "    if any(isinstance(e, ProtocolViolation) for e in errors):\n        return ExitCode.PROTOCOL\n"
           "    if any(isinstance(e, Misconfigured) for e in errors):\n        return ExitCode.CONFIG\n", RUN),
    Mutant("pure components under dry_run get the plain ctx", "omnibase/interpreter/_walk.py",
           "run.context(dry) if dry else run.ctx", "run.ctx", RUN),
    Mutant("recovered failures stay FAIL", "omnibase/interpreter/_policies.py",
           'status=Status.WARN, reason="recovered"', 'status=Status.FAIL, reason="recovered"', RUN),
    Mutant("negated clause not negated", "omnibase/core/select.py",
           "return hit != clause.negate", "return hit", SELECT),
    Mutant("alternatives need all values", "omnibase/core/select.py",
           "hit = not facts.isdisjoint(clause.values)", "hit = facts.issuperset(clause.values)", SELECT),
    Mutant("name globs compared literally", "omnibase/core/select.py",
           "any(fnmatch.fnmatchcase(f, v) for f in facts for v in clause.values)", "any(f == v for f in facts for v in clause.values)", SELECT),
    Mutant("parser drops alternatives after the first", "omnibase/core/select.py",
           "            if pos < n and text[pos] == \"|\":\n                pos += 1\n                continue\n",
           "            if pos < n and text[pos] == \"|\":\n                pos += 1\n                break\n", SELECT),
    Mutant("int check accepts bool", "omnibase/core/types.py",
           "return lambda value: isinstance(value, int) and not isinstance(value, bool)",
           "return lambda value: isinstance(value, int)", ("tests/core/test_types.py",)),
    Mutant("generic check skips the equality", "omnibase/core/types.py",
           "return bool(msgspec.convert(value, type=tp, strict=True) == value)",
           "return msgspec.convert(value, type=tp, strict=True) is not None or True", ("tests/core/test_types.py",)),
    Mutant("lift_safe never marks transient", "omnibase/core/lift.py",
           "transient=isinstance(exc, transient),", "transient=False,", ("tests/core/test_retry_on.py",)),
]


def main(argv: list[str]) -> int:
    chosen = [m for m in MUTANTS if not argv or any(a in m.name for a in argv)]
    with tempfile.TemporaryDirectory(prefix="omnibase-mutate-") as tmp:
        work = Path(tmp)
        for name in ("omnibase", "tests", "docs"):
            shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
        killed = 0
        for m in chosen:
            target = work / m.path
            original = target.read_text(encoding="utf-8")
            if original.count(m.old) != 1:
                print(f"STALE     {m.name}: its text is not found once in {m.path} (update tools/mutate.py)")
                return 2
            target.write_text(original.replace(m.old, m.new), encoding="utf-8")
            t0 = time.monotonic()
            try:
                done = subprocess.run(
                    [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *m.tests],
                    cwd=work, capture_output=True, text=True, timeout=600, check=False,
                )
            finally:
                target.write_text(original, encoding="utf-8")
            verdict = "killed" if done.returncode != 0 else "SURVIVED"
            killed += done.returncode != 0
            print(f"{verdict:9} {m.name} ({time.monotonic() - t0:.1f} s)", flush=True)
    print(f"mutation score: {killed}/{len(chosen)} planted bugs caught")
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
