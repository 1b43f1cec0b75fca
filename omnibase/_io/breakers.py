"""Circuit breakers kept between runs: ``<state folder>/breakers.json``.

A run's breakers live in a ``Breakers`` value the interpreter updates in place; this module
is the edge that loads that value before a run and saves it after, so that repeated
failures across runs open a breaker and a later run short-circuits. The interpreter never
reads or writes the file.

Saving never loses another run's update: under an exclusive ``flock`` on
``breakers.lock`` the file is read again, each breaker this run changed is merged with
what is there now (``omnibase.core.policies.merge``: the cautious state wins, failures add
up), and the result replaces the file atomically. A breaker this run did not change is
left as the file has it. A missing or unreadable file is a set of closed breakers.

Each record keeps the breaker's policy too, so that ``omnibase breaker list`` can say when
the next probe is allowed and a merge knows the threshold.

>>> import tempfile
>>> from omnibase.core.policies import BreakerPolicy, BreakerState, BreakerMode
>>> store = BreakerStore(tempfile.mkdtemp())
>>> carried = store.load()
>>> carried["api"] = BreakerState(mode=BreakerMode.OPEN, opened_at=100.0)
>>> store.save({}, carried, {"api": BreakerPolicy(reset_timeout=30.0)}).unwrap()
('api',)
>>> [(name, r.state.mode.value, r.probe_at) for name, r in store.records().items()]
[('api', 'open', 130.0)]
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase._io.atomic import write_atomic
from omnibase._io.state import StateError, breakers_file, breakers_lock, make_state_dir, state_dir_of
from omnibase.core.policies import CLOSED, Breakers, BreakerPolicy, BreakerState, merge, probe_at
from omnibase.core.step import Breaker, Step

__all__ = ["BreakerRecord", "BreakerStore", "policies_of"]


class BreakerRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One breaker as the file keeps it: its state (times in wall-clock seconds) and the
    policy it was last used with."""

    state: BreakerState
    policy: BreakerPolicy

    @property
    def probe_at(self) -> float | None:
        """When an open breaker lets its next probe through (None: it is not open)."""
        return probe_at(self.policy, self.state)


class _File(msgspec.Struct, frozen=True, kw_only=True):
    version: int = 1
    breakers: dict[str, BreakerRecord] = msgspec.field(default_factory=dict)


class BreakerStore:
    """The breakers of one state folder (``state``: e.g. ``state_dir_of(root)``)."""

    def __init__(self, state: str) -> None:
        self.state = state

    @classmethod
    def of(cls, root: str) -> BreakerStore:
        """The store of the work tree at ``root`` (its git directory's state folder)."""
        return cls(state_dir_of(root))

    @property
    def path(self) -> str:
        return breakers_file(self.state)

    def records(self) -> dict[str, BreakerRecord]:
        """Every breaker the file holds, by name (none when there is no readable file)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return {}
        with os.fdopen(fd, "rb") as f:
            data = f.read()
        try:
            return dict(msgspec.json.decode(data, type=_File).breakers)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return {}  # a damaged file is closed breakers; the next save replaces it

    def load(self) -> Breakers:
        """The breakers' states, for a run to start from."""
        return Breakers({name: record.state for name, record in self.records().items()})

    def save(
        self, loaded: Mapping[str, BreakerState], carried: Mapping[str, BreakerState], policies: Mapping[str, BreakerPolicy]
    ) -> Result[tuple[str, ...], StateError]:
        """Merge what a run changed (``carried``, against what it ``loaded``) into the file,
        under the lock; the names written. ``policies``: each breaker's policy."""
        changed = {k: _settled(s) for k, s in carried.items() if _settled(s) != loaded.get(k, CLOSED)}
        if not changed:
            return Success(())
        with self._locked() as problem:
            if problem is not None:
                return Failure(problem)
            records = self.records()
            for name, ours in changed.items():
                before = records.get(name)
                policy = policies.get(name) or (before.policy if before else BreakerPolicy())
                theirs = before.state if before else CLOSED
                state = merge(policy, loaded.get(name, CLOSED), ours, theirs)
                if state == CLOSED:
                    records.pop(name, None)
                else:
                    records[name] = BreakerRecord(state=state, policy=policy)
            written = self._write(records)
        return written if isinstance(written, Failure) else Success(tuple(changed))

    def reset(self, names: Sequence[str] = ()) -> Result[tuple[str, ...], StateError]:
        """Close the breakers ``names`` (every one when empty); the names closed."""
        with self._locked() as problem:
            if problem is not None:
                return Failure(problem)
            records = self.records()
            gone = tuple(n for n in (names or tuple(records)) if n in records)
            if not gone:
                return Success(())
            for name in gone:
                del records[name]
            written = self._write(records)
        return written if isinstance(written, Failure) else Success(gone)

    @contextmanager
    def kept(self, step: Step[Any, Any]) -> Iterator[Breakers]:
        """The breakers for one run of ``step``, saved when the block ends (also when it
        raises): ``with store.kept(step) as b: run(step, x, ctx, breakers=b)``."""
        loaded = self.load()
        carried = Breakers(loaded)
        try:
            yield carried
        finally:
            self.save(loaded, carried, policies_of(step))

    @contextmanager
    def _locked(self) -> Iterator[StateError | None]:
        made = make_state_dir(self.state)
        if isinstance(made, Failure):
            yield made.failure()
            return
        import fcntl

        try:
            fd = os.open(breakers_lock(self.state), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            yield StateError(f"{breakers_lock(self.state)}: cannot open ({exc.strerror or exc})")
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield None
        finally:
            os.close(fd)  # closing releases the lock

    def _write(self, records: Mapping[str, BreakerRecord]) -> Result[None, StateError]:
        body = _File(breakers=dict(sorted(records.items())))
        try:  # not durable: losing it to a power cut only closes breakers
            write_atomic(self.path, msgspec.json.encode(body), durable=False)
        except OSError as exc:
            return Failure(StateError(f"{self.path}: cannot write ({exc.strerror or exc})"))
        return Success(None)


def policies_of(step: Step[Any, Any]) -> dict[str, BreakerPolicy]:
    """The policy of every breaker in ``step``, by key (the first, when a key repeats)."""
    found: dict[str, BreakerPolicy] = {}
    stack = [step]
    while stack:
        node = stack.pop()
        if isinstance(node, Breaker):
            found.setdefault(node.key, node.policy)
        stack.extend(reversed(node.children()))
    return found


def _settled(state: BreakerState) -> BreakerState:
    """``state`` once its run is over: no call is in flight any more."""
    return msgspec.structs.replace(state, in_flight=0) if state.in_flight else state
