"""The breaker store (``omnibase._io.breakers``): what one run saves the next one loads,
two runs at once lose no update, reset closes, a damaged file is closed breakers."""

from __future__ import annotations

import pathlib
import tempfile
import threading
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from omnibase._io.breakers import BreakerStore, policies_of
from omnibase.core.combinators import all_of, breaker
from omnibase.core.policies import CLOSED, BreakerEvent, BreakerMode, BreakerPolicy, BreakerState, transition
from omnibase.core.step import component

POLICY = BreakerPolicy(threshold=2, window=10.0, reset_timeout=5.0)
KEYS = ("api", "db", "dns")
CAUTION = {BreakerMode.CLOSED: 0, BreakerMode.HALF_OPEN: 1, BreakerMode.OPEN: 2}


class Session:
    """One run: what it loaded, what it has now, and when it started (the model's clock
    of saves, to know whether another run saved a key meanwhile)."""

    def __init__(self, loaded: dict[str, BreakerState], began: int) -> None:
        self.loaded = dict(loaded)
        self.carried = dict(loaded)
        self.began = began
        self.saved = False  # a run saves once, when it ends


class StoreMachine(RuleBasedStateMachine):
    """Runs load, change, save and reset against a plain dict of what the file must hold.

    A key only one run changed since it loaded must end exactly as that run left it; a key
    two runs changed must end no less cautious than either, keep every failure either
    added (or be open), and be open since the later opening when either opened it."""

    sessions = Bundle("sessions")

    @initialize()
    def fresh(self) -> None:
        self.store = BreakerStore(tempfile.mkdtemp())
        self.model: dict[str, BreakerState] = {}
        self.saved_at: dict[str, int] = {}  # key -> the save count when it was last written
        self.saves = 0
        self.now = 100.0

    @rule(target=sessions)
    def begin(self) -> Session:
        loaded = self.store.load()
        assert dict(loaded) == self.model
        return Session(loaded, self.saves)

    @rule(session=sessions, key=st.sampled_from(KEYS), ok=st.booleans(), dt=st.floats(0.0, 8.0))
    def call(self, session: Session, key: str, ok: bool, dt: float) -> None:
        if session.saved:
            return  # that run is over
        self.now += dt
        before = session.carried.get(key, CLOSED)
        state = transition(POLICY, before, BreakerEvent.CALL, self.now)
        if state == before and before.mode is not BreakerMode.CLOSED:
            return  # not admitted: the component is not called, nothing changes
        state = transition(POLICY, state, BreakerEvent.SUCCESS if ok else BreakerEvent.FAILURE, self.now)
        session.carried[key] = state

    @rule(session=sessions)
    def save(self, session: Session) -> None:
        if session.saved:
            return
        session.saved = True
        theirs = dict(self.model)
        written = self.store.save(session.loaded, session.carried, {k: POLICY for k in KEYS}).unwrap()
        self.saves += 1
        stored = dict(self.store.load())
        for key in KEYS:
            base, ours = session.loaded.get(key, CLOSED), session.carried.get(key, CLOSED)
            now = stored.get(key, CLOSED)
            if ours == base:  # this run did not change it: what was there stays
                assert key not in written and now == theirs.get(key, CLOSED)
                continue
            assert key in written
            other = theirs.get(key, CLOSED)
            if self.saved_at.get(key, -1) <= session.began or other == base:  # nobody else changed it
                assert now == ours
            else:
                assert CAUTION[now.mode] >= max(CAUTION[ours.mode], CAUTION[other.mode])
                opened = [s.opened_at for s in (ours, other) if s.mode is BreakerMode.OPEN]
                if opened:
                    assert now.mode is BreakerMode.OPEN and now.opened_at == max(opened)
                elif now.mode is BreakerMode.CLOSED:
                    added = (set(ours.failures) - set(base.failures)) | set(other.failures)
                    assert {t for t in added if max(added) - t < POLICY.window} <= set(now.failures)
            self.saved_at[key] = self.saves
        self.model = stored

    @rule(keys=st.lists(st.sampled_from(KEYS), max_size=2, unique=True))
    def reset(self, keys: list[str]) -> None:
        closed = self.store.reset(keys).unwrap()
        assert set(closed) == {k for k in (keys or self.model) if k in self.model}
        for key in closed:
            del self.model[key]
            self.saves += 1
            self.saved_at[key] = self.saves

    @invariant()
    def the_file_holds_the_model(self) -> None:
        if hasattr(self, "store"):
            assert dict(self.store.load()) == self.model
            assert all(state != CLOSED for state in self.model.values())  # closed ones are dropped


StoreMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_the_store_keeps_what_runs_save_and_loses_no_update = StoreMachine.TestCase


def test_runs_saving_at_once_lose_no_failure(tmp_path: pathlib.Path) -> None:
    """Eight runs load the same closed breaker, each records one failure and saves at the
    same moment: under the lock every failure is kept."""
    store = BreakerStore(str(tmp_path))
    wide = BreakerPolicy(threshold=100, window=1000.0)
    start = threading.Barrier(8)

    def one(i: int) -> None:
        loaded = store.load()
        carried = dict(loaded)
        carried["api"] = transition(wide, loaded.get("api", CLOSED), BreakerEvent.FAILURE, 10.0 + i)
        start.wait()
        store.save(loaded, carried, {"api": wide}).unwrap()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.load()["api"].failures == tuple(10.0 + i for i in range(8))


def test_a_damaged_file_is_closed_breakers_and_the_next_save_replaces_it(tmp_path: pathlib.Path) -> None:
    store = BreakerStore(str(tmp_path))
    pathlib.Path(store.path).write_text("{not json")
    assert store.load() == {}
    opened = BreakerState(mode=BreakerMode.OPEN, opened_at=5.0)
    assert store.save({}, {"api": opened}, {"api": POLICY}).unwrap() == ("api",)
    assert store.load() == {"api": opened}


def test_kept_loads_before_and_saves_after_with_the_steps_policies(tmp_path: pathlib.Path) -> None:
    @component
    def down(ctx: Any, x: int) -> Any:
        raise AssertionError("not called here")

    shared = BreakerPolicy(threshold=1, key="svc")
    step = all_of([breaker(down, shared), breaker(down, BreakerPolicy(threshold=5), key="other")])
    assert policies_of(step) == {"svc": shared, "other": BreakerPolicy(threshold=5)}
    store = BreakerStore(str(tmp_path))
    with store.kept(step) as carried:
        carried["svc"] = BreakerState(mode=BreakerMode.OPEN, opened_at=1.0)
    [(name, record)] = store.records().items()
    assert name == "svc" and record.policy == shared and record.probe_at == 1.0 + shared.reset_timeout
