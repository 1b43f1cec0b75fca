"""``omnibase breaker list|reset [NAME ...]``: the circuit breakers this repository keeps
between runs (``omnibase._io.breakers``)."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

__all__ = ["add_breaker_arguments", "breaker_command"]


def add_breaker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "reset"), help="list: each breaker, its state and next probe; reset: close them")
    parser.add_argument("names", nargs="*", metavar="NAME", help="reset: only these breakers (default: every one)")
    parser.add_argument("--json", action="store_true", help="list: as JSON")


def breaker_command(args: argparse.Namespace) -> int:
    """``list``: every breaker with a recorded state (exit 0). ``reset``: close the named
    breakers, or every one (exit 0; 1 when a named one has no recorded state)."""
    from returns.result import Failure

    from omnibase._io.breakers import BreakerStore
    from omnibase.cli._say import dump, say

    store = BreakerStore.of(os.getcwd())
    if args.action == "list":
        if args.names:
            say("breaker list takes no NAME")
            return 2
        records = store.records()
        if args.json:
            dump([_row(name, r) for name, r in records.items()], "json")
            return 0
        if not records:
            print("no circuit breaker has recorded a failure")
        for name, record in records.items():
            print(_line(name, record))
        return 0
    closed = store.reset(args.names)
    if isinstance(closed, Failure):
        say(closed.failure().message)
        return 2
    done = closed.unwrap()
    for name in done:
        print(f"breaker {name!r} closed")
    missing = [n for n in args.names if n not in done]
    for name in missing:
        say(f"no breaker named {name!r} has a recorded state")
    if not args.names and not done:
        print("no circuit breaker to reset")
    return 1 if missing else 0


def _row(name: str, record: Any) -> dict[str, Any]:
    state = record.state
    return {
        "name": name,
        "mode": state.mode.value,
        "failures": len(state.failures),
        "opened_at": state.opened_at if state.opened_at else None,
        "probe_at": record.probe_at,
        "threshold": record.policy.threshold,
        "window": record.policy.window,
        "reset_timeout": record.policy.reset_timeout,
    }


def _line(name: str, record: Any) -> str:
    """One breaker, for people: its mode and what that means for the next run."""
    state, policy = record.state, record.policy
    if record.probe_at is not None:
        left = record.probe_at - time.time()
        when = time.strftime("%H:%M:%S", time.localtime(record.probe_at))
        probe = f"next probe at {when} (in {left:.0f} s)" if left > 0 else "the next run probes it"
        return f"{name}: open since {time.strftime('%H:%M:%S', time.localtime(state.opened_at))}; {probe}"
    if state.mode.value == "half_open":
        return f"{name}: half-open, {state.passed} of {policy.probes} probe(s) passed"
    return f"{name}: closed, {len(state.failures)} of {policy.threshold} failures within {policy.window:g} s"
