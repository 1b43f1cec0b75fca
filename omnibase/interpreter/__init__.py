"""The interpreter: walks a ``Step`` tree and asks a driver for every effect.

``interpret(step, value, ctx)`` is a generator. It yields intents (see
``omnibase.core.intents``) and receives their answers; when it returns, its value is the
``RunReport``. It owns retry counting, breaker transitions, skip logic and the assembly
of results, and does no I/O of its own: the same tree and the same answers give the same
report. It never lets an exception out: a ``KeyboardInterrupt`` thrown in by the driver
ends the run with a partial report, anything else becomes a typed error.

Three modules, each read on its own: ``_walk`` (the run's state, the leaf, sequences,
skips, the report), ``_policies`` (retry, breaker, timeout, profile, recover) and
``_branches`` (``all_of``, graphs, hooks). Each handler is marked with the node kinds it
evaluates (``@handles(Retry)``); ``HANDLERS`` is the resulting table, one handler for
every kind in ``core.step.KINDS`` (a test checks that none is missing).
"""

from __future__ import annotations

# the handler modules register their node kinds in HANDLERS as they are imported
from omnibase.interpreter import _branches, _policies  # noqa: F401
from omnibase.interpreter._walk import HANDLERS, PLANNED, Evaluation, Outcome, interpret

__all__ = ["HANDLERS", "PLANNED", "Evaluation", "Outcome", "interpret"]
