"""The Dask performer: component invocations run on a Dask ``distributed`` cluster.

``DaskPerformer(scheduler)`` connects to an existing scheduler (``tcp://host:8786``), or,
with no address, starts a ``LocalCluster`` of worker processes for the run. The
interpreter stays here; only invocations travel, each a Dask task keyed by its invocation
identity (component name, span id, attempt):

- a Python component travels as its ``module:function`` reference, its (narrowed)
  context and its msgspec-encoded value, the request a worker process of the process
  performer gets; the Dask worker imports it and runs it as that worker would (limits,
  sandbox, environment and working directory restored after);
- a component whose kind runs in a process of its own (a registry ``command:`` entry)
  travels pickled with its invocation and is run by its kind on the worker that receives
  it, with the invocation's time limit.

A component that cannot travel (a lambda, a closure, a function of ``__main__``) is
refused by ``refusal(step)`` before the run starts (``Misconfigured``: exit 2, naming it).

A worker that dies mid-call fails the call with a transient ``Crashed``: the component's
retry policy decides whether it runs again (an idempotent component is retried, on a
worker still alive; a non-idempotent one is reported failed). Dask itself never runs an
invocation twice: a ``LocalCluster`` started here allows no rescheduling
(``allowed-failures`` 0); on an existing scheduler that reschedules a task whose worker
died, each call first claims its key on the scheduler, and a second copy refuses to run.

Dask is imported only when a ``DaskPerformer`` connects. See docs/dask.md.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, Final

import msgspec

from omnibase.core.intents import Called, Intent, InvocationTimedOut, Invoke, Now, Sleep, Wall
from omnibase.core.step import Component, Step, leaves
from omnibase.core.values import Crashed, ExecCtx, Meta, Misconfigured
from omnibase.drivers.isolation import worker as _worker
from omnibase.drivers.isolation.process import MAX_CAPTURE, called_of, ref_of, call_request
from omnibase.drivers.kinds import kind_of

__all__ = ["CONNECT_TIMEOUT", "DaskPerformer", "local_cluster", "unsendable"]

#: The longest wait for an existing scheduler to answer (less if Dask's own
#: ``distributed.comm.timeouts.connect`` is shorter).
CONNECT_TIMEOUT: Final = 5.0
_CLAIMS: Final = "omnibase-claims"


def unsendable(components: Iterable[Component[Any, Any]]) -> Misconfigured | None:
    """The first component that cannot be sent to a Dask worker, as a ``Misconfigured``
    naming it; None when all can."""
    for comp in components:
        if kind_of(comp).own_process:  # a command: sent pickled, run by its kind there
            try:
                from distributed.protocol import pickle

                dumps: Any = pickle.dumps
                dumps(comp.fn)  # what Dask sends a task's arguments with
            except Exception as exc:
                return Misconfigured(message=f"component '{comp.name}': its command cannot be sent to a Dask worker: {exc}")
            continue
        if comp.meta.limits is not None:
            return Misconfigured(
                message=f"component '{comp.name}' declares resource limits, which a Dask worker cannot apply to one "
                "task (its process runs the worker too): run it with --executor local, or limit the workers themselves"
            )
        if comp.meta.ref:
            continue
        ref = ref_of(comp.fn)
        if isinstance(ref, Misconfigured):
            fn = comp.fn
            where = f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"
            return Misconfigured(
                message=f"component '{comp.name}' ({where}) cannot be sent to a Dask worker: a lambda, a closure or a "
                "function of __main__ cannot be imported there; define it at module level, or give Meta(ref='module:function')"
            )
    return None


class DaskPerformer:
    """Performs ``Invoke`` on a Dask cluster; the clocks and sleeps here.

    ``scheduler``: the address of an existing scheduler (None: a ``LocalCluster`` of
    ``workers`` processes, one thread each, started by ``connect``). ``client``: an
    already connected ``distributed.Client`` to use instead (not closed by ``close``).
    The components named in ``local`` stay here: ``inner`` performs them (the CLI's own
    components that cannot be sent; the built-in checks can, and are sent).
    Call ``connect()`` before the run (``perform``/``aperform`` connect on first use, but
    then an unreachable scheduler is a failed step, not a refusal), and ``close()`` after.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        workers: int | None = None,
        client: Any = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        observers: Iterable[Any] = (),
        inner: Any = None,
        local: Iterable[str] = (),
    ) -> None:
        self.scheduler = scheduler
        self.inner = inner
        self.local = frozenset(local)
        self.workers = workers
        self.client: Any = client
        self.cluster: Any = None
        self.connect_timeout = connect_timeout
        self.observers = tuple(observers)
        self._own_client = client is None
        self._token = os.urandom(6).hex()
        self._seq = itertools.count()
        self._claims = client is not None and _reschedules(client)

    # --- set-up ---------------------------------------------------------------------------

    def connect(self) -> str | None:
        """Reach the scheduler (or start the local cluster): None, or why not, naming the
        address. Nothing is submitted."""
        if self.client is not None:
            return None
        import dask
        import distributed as _distributed

        distributed: Any = _distributed  # its constructors are untyped
        if self.scheduler:
            from dask.utils import parse_timedelta

            configured = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s") or self.connect_timeout
            timeout = min(self.connect_timeout, configured)
            from distributed.comm.addressing import normalize_address, parse_host_port

            try:  # a malformed address is refused before a client exists (its finaliser would complain)
                parse_host_port(normalize_address(self.scheduler).split("://", 1)[-1])
            except (ValueError, TypeError) as exc:
                return f"cannot reach the Dask scheduler at {self.scheduler}: not an address ({exc})"
            try:
                self.client = distributed.Client(self.scheduler, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                return f"cannot reach the Dask scheduler at {self.scheduler} (within {timeout:g} s): {exc}"
            self._claims = _reschedules(self.client)
            return None
        try:
            self.cluster = local_cluster(self.workers or os.cpu_count() or 1)
            self.client = distributed.Client(self.cluster, set_as_default=False)
        except Exception as exc:
            self.close()
            return f"cannot start a local Dask cluster: {type(exc).__name__}: {exc}"
        self._claims = False
        return None

    def refusal(self, step: Step[Any, Any]) -> Misconfigured | None:
        """Why ``step`` cannot run here (a component that cannot be sent), or None."""
        return unsendable(c for c in leaves(step) if c.name not in self.local)

    def close(self) -> None:
        """Close the client (when it is ours) and stop the local cluster, if one was started."""
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        if client is not None and self._claims:
            try:  # forget this performer's claims on the scheduler
                client.set_metadata([_CLAIMS, self._token], None)
            except Exception:
                pass
        if client is not None and self._own_client:
            client.close()
        if cluster is not None:
            try:
                cluster.close()
            except Exception:  # noqa: BLE001
                # The run is over and reported; a worker the nanny was starting again when
                # the cluster closed can make the close fail ("can only join a started
                # process"): that is the cluster's teardown, not the user's failure.
                pass
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    # --- the performer --------------------------------------------------------------------

    def perform(self, intent: Intent) -> Any:
        if type(intent) is Invoke:
            if intent.component.name in self.local:
                return self.inner.perform(intent)
            started, future = time.monotonic_ns(), self._submit(intent)
            if isinstance(future, Called):
                return future
            try:
                future.result(timeout=intent.limit)
            except KeyboardInterrupt:
                future.cancel()
                raise
            except Exception:  # the task's own failure is read by _answer
                pass
            return self._answer(intent, future, started)
        if type(intent) is Sleep:
            time.sleep(intent.seconds)
            return None
        return _clock(intent)

    async def aperform(self, intent: Intent) -> Any:
        import asyncio

        if type(intent) is Invoke:
            if intent.component.name in self.local:
                return await self.inner.aperform(intent)
            started, future = time.monotonic_ns(), self._submit(intent)
            if isinstance(future, Called):
                return future
            try:
                await asyncio.wait({_awaitable(future)}, timeout=intent.limit)
            except asyncio.CancelledError:  # fail-fast, Ctrl-C: the task is given up
                future.cancel()
                raise
            return self._answer(intent, future, started)
        if type(intent) is Sleep:
            await asyncio.sleep(intent.seconds)
            return None
        return _clock(intent)

    def _submit(self, intent: Invoke) -> Any:
        """The Dask future running ``intent``, or the ``Called`` saying why it cannot run."""
        comp = intent.component
        now = time.monotonic_ns()
        if self.client is None:
            problem = self.connect()
            if problem is not None:
                return Called(None, None, now, now, error=Crashed(cause=problem, transient=True))
        key = f"omnibase-{comp.name}-{intent.span_id or '0'}-{intent.attempt}-{self._token}-{next(self._seq)}"
        claim = [_CLAIMS, self._token, key] if self._claims else None
        if kind_of(comp).own_process:
            refused = unsendable((comp,))
            if refused is not None:
                return Called(None, None, now, now, error=refused)
            return self.client.submit(
                _run_kind, comp.fn, comp.meta, intent.ctx, intent.value, intent.limit, intent.span_id, claim,
                key=key, pure=False,
            )  # fmt: skip
        request = call_request(intent)
        if not isinstance(request, _worker.Call):
            if isinstance(request, Misconfigured):
                request = unsendable((comp,)) or request
            return Called(None, None, now, now, error=request)
        return self.client.submit(_run_call, msgspec.msgpack.encode(request), claim, key=key, pure=False)

    def _answer(self, intent: Invoke, future: Any, started: int) -> Called:
        """The ``Called`` for a future that is done, or, not done, timed out (it is then
        cancelled); times are this machine's (a worker's monotonic clock is not ours)."""
        name = intent.component.name
        if not future.done():  # the invocation's limit passed (a running call is abandoned)
            future.cancel()
            return Called(None, InvocationTimedOut(intent.limit or 0.0), started, time.monotonic_ns())
        try:
            got = future.result()
        except Exception as exc:
            ended = time.monotonic_ns()
            kind = type(exc).__name__
            lost = True  # the task was lost with a worker or a connection: worth another attempt
            if kind == "KilledWorker":
                cause = f"the Dask worker running {name} died before answering"
            elif "Cancelled" in kind:
                cause = f"the Dask cluster gave up the task running {name} (a scheduler or a client went away)"
            else:  # e.g. a worker without omnibase, or an answer it could not send back
                cause, lost = f"the Dask cluster could not run {name}: {kind}: {exc}", False
            return Called(None, None, started, ended, error=Crashed(cause=cause, transient=lost))
        ended = time.monotonic_ns()
        tag = got[0]
        if tag == "reply":
            reply = msgspec.msgpack.decode(got[1], type=_worker.Reply)
            return msgspec.structs.replace(called_of(intent.component, reply, got[2]), started=started, ended=ended)
        if tag == "result":
            return Called(got[1], None, started, ended)
        if tag == "raised":
            return Called(None, got[1], started, ended, traceback=got[2])
        if tag == "error":
            return Called(None, None, started, ended, error=got[1])
        # "refused": the scheduler ran this task again after its worker died
        cause = f"the Dask worker running {name} died before answering (not run again by Dask: a retry is its policy's decision)"
        return Called(None, None, started, ended, error=Crashed(cause=cause, transient=True))


#: Whether ``local_cluster`` set ``DASK_LOGGING__DISTRIBUTED`` itself (so a later cluster
#: of this process is quieted too; the user's own setting turns the quieting off).
_QUIETED = False


def local_cluster(workers: int, *, reruns: bool = False) -> Any:
    """A Dask ``LocalCluster`` of ``workers`` processes, one thread each, on 127.0.0.1,
    without a dashboard (its scheduler's HTTP endpoint on a free port). ``reruns``: keep
    Dask's default of running a dead worker's task again elsewhere (as an existing cluster
    may); else none (``allowed-failures`` 0). Close it after use."""
    import logging

    import dask
    import distributed as _distributed

    distributed: Any = _distributed  # its constructors are untyped

    config = {} if reruns else {"distributed.scheduler.allowed-failures": 0}
    # Worker processes the nannies start again after a death read their logging from the
    # environment when they import distributed: silence them the same way (unless the user
    # asked for Dask's logs).
    global _QUIETED
    quiet = _QUIETED or "DASK_LOGGING__DISTRIBUTED" not in os.environ  # the user's, or ours from before
    if "DASK_LOGGING__DISTRIBUTED" not in os.environ:
        os.environ["DASK_LOGGING__DISTRIBUTED"] = "critical"
        _QUIETED = True
    with dask.config.set(config), _stderr_to_devnull(quiet):
        return distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.CRITICAL,  # a worker death is reported as the step's Crashed: no log lines too
        )


@contextlib.contextmanager
def _stderr_to_devnull(quiet: bool) -> Iterator[None]:
    """While the local cluster starts (``quiet``), file descriptor 2 is the null device, so
    its nanny processes, and the worker processes they start again after a death, inherit
    it: what distributed prints on its own there (a traceback when a replacement worker
    starts while the cluster closes) never reaches the user's terminal. A component's own
    output is captured in the task (``_run_call``), not read from the worker's stderr. With
    ``DASK_LOGGING__DISTRIBUTED`` set by the user, nothing is hidden."""
    if not quiet:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _clock(intent: Intent) -> Any:
    kind = type(intent)
    if kind is Now:
        return time.monotonic_ns()
    if kind is Wall:
        return time.time()
    raise TypeError(f"DaskPerformer cannot perform {kind.__name__}")


def _awaitable(future: Any) -> Any:
    """An asyncio future of the running loop, resolved when the Dask ``future`` is done
    (its callback runs in a thread of the client)."""
    import asyncio

    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def settle() -> None:
        if not waiter.done():
            waiter.set_result(None)

    def done(_: Any) -> None:
        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    future.add_done_callback(done)
    return waiter


def _reschedules(client: Any) -> bool:
    """Whether the scheduler runs a task again when its worker dies (its
    ``allowed-failures`` is above 0); True when it cannot be asked."""
    try:
        return bool(client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures) > 0)
    except Exception:
        return True


# --- on the worker -------------------------------------------------------------------------------


def _claimed(claim: list[str] | None) -> bool:
    """Claim ``claim`` on the scheduler; True when an earlier copy of the task had."""
    if claim is None:
        return False
    from distributed import get_client, get_worker

    client: Any = get_client()
    if client.get_metadata(claim, None) is not None:
        return True
    client.set_metadata(claim, get_worker().address)
    return False


def _run_call(payload: bytes, claim: list[str] | None) -> tuple[Any, ...]:
    """Run a Python component from its request, as a worker process would: ``("reply",
    encoded Reply, what it printed)``."""
    import contextlib
    import io

    from omnibase.drivers.isolation import sandbox as _sandbox

    if _claimed(claim):
        return ("refused",)
    request = msgspec.msgpack.decode(payload, type=_worker.Call)
    _sandbox.install()
    printed = io.StringIO()
    here = os.getcwd()
    try:
        os.chdir(request.ctx.root)
    except OSError:
        pass
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            reply = _worker._call(request, this_thread_only=True)  # the worker's own threads go on
    finally:
        try:
            os.chdir(here)
        except OSError:
            pass
    return ("reply", msgspec.msgpack.encode(reply), printed.getvalue()[-MAX_CAPTURE:])


def _run_kind(
    fn: Any, meta: Meta, ctx: ExecCtx, value: Any, limit: float | None, span_id: str, claim: list[str] | None
) -> tuple[Any, ...]:
    """Run a component that runs in a process of its own (a command) here, on the worker,
    as its kind says: ``("result", Result)``, ``("error", StepError)`` or ``("raised",
    exception, traceback)``. (Its function travels, not the component: a step is no
    pickle.)"""
    if _claimed(claim):
        return ("refused",)
    comp: Component[Any, Any] = Component(fn, meta)
    called = kind_of(comp).call(Invoke(comp, ctx, value, limit, span_id))
    if called.error is not None:
        return ("error", called.error)
    if called.raised is not None:
        return ("raised", called.raised, called.traceback)
    return ("result", called.returned)
