"""The interpreter: walks a ``Step`` tree and asks a driver for every effect.

``interpret(step, value, ctx)`` is a generator. It yields intents (see
``omnibase.core.intents``) and receives their answers; when it returns, its value is the
``RunReport``. It owns retry counting, breaker transitions, skip logic and the assembly
of results, and does no I/O of its own: the same tree and the same answers give the same
report. It never lets an exception out: a ``KeyboardInterrupt`` thrown in by the driver
ends the run with a partial report, anything else becomes a typed error.

Three modules, each read on its own: ``_walk`` (the run's state, the leaf, sequences,
skips, the report), ``_policies`` (retry, breaker, timeout, profile, recover) and
``_branches`` (``all_of``, graphs, hooks). This table is the whole list of node kinds.
"""

from __future__ import annotations

from omnibase.core.graph import Graph
from omnibase.core.hooks import Hooked
from omnibase.core.step import AllOf, Breaker, Component, DryRun, Fallback, Identity, Profile, Recover, Retry, Then, Timeout
from omnibase.interpreter._branches import _all_of, _graph, _hooked
from omnibase.interpreter._policies import _breaker, _profile, _recover, _retry, _timeout
from omnibase.interpreter._walk import HANDLERS, PLANNED, Evaluation, Outcome, _dry_run, _identity, _leaf, _then, interpret

__all__ = ["PLANNED", "Evaluation", "Outcome", "interpret"]

HANDLERS.update({
    Component: _leaf,
    Then: _then,
    Identity: _identity,
    Retry: _retry,
    Breaker: _breaker,
    AllOf: _all_of,
    Timeout: _timeout,
    Profile: _profile,
    DryRun: _dry_run,
    Recover: _recover,
    Fallback: _recover,
    Graph: _graph,
    Hooked: _hooked,
})  # fmt: skip
